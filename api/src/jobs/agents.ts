// Harbor 0.22.0's agents (harbor-contract.md §7) and how a launch names them. `terminus` and
// `terminus-1` exist as names only (Harbor fails with "Unknown agent type"), so they are not offered.
import { PROVIDER_KEY_VARS } from 'runner/secrets';

export interface AgentInfo {
  name: string;
  description: string;
  /** Whether a model string is required (LLM agents) or must be absent (oracle, nop). */
  model: 'required' | 'none';
}

const installed = [
  'claude-code', 'codex', 'aider', 'cline-cli', 'cortex-code', 'cursor-cli', 'gemini-cli', 'antigravity-cli',
  'antigravity-sdk', 'rovodev-cli', 'goose', 'grok-build', 'hermes', 'junie', 'kimi-code', 'kimi-cli', 'langgraph',
  'deerflow', 'mini-swe-agent', 'nemo-agent', 'swe-agent', 'opencode', 'mimo', 'mcode', 'openclaw', 'openhands',
  'openhands-sdk', 'pi', 'qwen-coder', 'copilot-cli', 'devin', 'trae-agent', 'computer-1', 'eve', 'fx', 'dspy-rlm',
  'vibe', 'acp',
];

export const AGENTS: AgentInfo[] = [
  { name: 'terminus-2', description: "Harbor's terminal agent: drives tmux, calls the model through LiteLLM.", model: 'required' },
  { name: 'oracle', description: "Runs the task's reference solution (solution/solve.sh); checks the task itself.", model: 'none' },
  { name: 'nop', description: 'Does nothing; the verifier should fail. Checks that tests are not trivially passing.', model: 'none' },
  ...installed.map((name) => ({ name, description: `Installed agent ${name}, run inside the task container.`, model: 'required' as const })),
];

const byName = new Map(AGENTS.map((a) => [a.name, a]));
/** A custom agent: `module.path:ClassName`, importable by Harbor. */
const CUSTOM_AGENT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$/;
/** LiteLLM/Harbor model strings: provider/vendor/model, with versions, dates and tags. */
const MODEL = /^[A-Za-z0-9][A-Za-z0-9._:@+/-]{0,299}$/;

/** Whether `agent` names a custom agent (`module.path:ClassName`) rather than one of Harbor's. */
export function isCustomAgent(agent: string): boolean {
  return !byName.has(agent) && CUSTOM_AGENT.test(agent);
}

/** Checks agent and model together; returns a message naming what is wrong, or null. */
export function checkAgentAndModel(agent: string, model: string | null): string | null {
  const known = byName.get(agent);
  if (!known && !CUSTOM_AGENT.test(agent)) {
    return (
      `agent ${JSON.stringify(agent)} is not one of Harbor's agents (e.g. terminus-2, oracle, claude-code) ` +
      'nor a custom agent written as module.path:ClassName'
    );
  }
  if (known?.model === 'none') {
    return model ? `agent ${agent} takes no model; leave model empty` : null;
  }
  if (!model) return `agent ${agent} needs a model, e.g. openrouter/anthropic/claude-sonnet-4`;
  if (!MODEL.test(model) || model.includes('//') || model.endsWith('/')) {
    return `model ${JSON.stringify(model)} is not a model name like openrouter/anthropic/claude-sonnet-4`;
  }
  return null;
}

/** Provider prefixes and their key variables: one list with the runner, which checks orders against it. */
export { PROVIDER_KEY_VARS };

/** The provider of a model string: the part before the first `/`, when it names a known provider. */
export function providerOf(model: string | null): string | null {
  if (!model || !model.includes('/')) return null;
  const prefix = model.slice(0, model.indexOf('/'));
  return prefix in PROVIDER_KEY_VARS ? prefix : null;
}
