// A Terminal-Bench 1 task.yaml (tb2-task-format.md §4 "task.yaml fields"): read with the defaults
// the TB1 harness and Harbor's mapper use, and every field that cannot be carried over named.
import { parse } from 'yaml';
import { z } from 'zod';

export interface Tb1TaskYaml {
  instruction: string;
  /** Keys copied under [metadata] as they were (author, difficulty, category, tags, estimates). */
  metadata: Record<string, unknown>;
  agentTimeoutSec: number;
  testTimeoutSec: number;
}

/** What the TB1 harness assumed when the key was absent. */
const DEFAULT_AGENT_TIMEOUT_SEC = 360;
const DEFAULT_TEST_TIMEOUT_SEC = 60;

const optionalNumber = z.number().finite().nullish();
const schema = z.looseObject({
  instruction: z.string().optional(),
  descriptions: z.array(z.looseObject({ key: z.string(), description: z.string() })).optional(),
  author_name: z.string().nullish(),
  author_email: z.string().nullish(),
  difficulty: z.string().nullish(),
  category: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
  parser_name: z.string().nullish(),
  max_agent_timeout_sec: z.number().positive().nullish(),
  max_test_timeout_sec: z.number().positive().nullish(),
  run_tests_in_same_shell: z.boolean().nullish(),
  disable_asciinema: z.boolean().nullish(),
  estimated_duration_sec: optionalNumber,
  expert_time_estimate_min: optionalNumber,
  junior_time_estimate_min: optionalNumber,
  env_name: z.string().nullish(),
  test_scripts: z.array(z.string()).nullish(),
});

const METADATA_KEYS = [
  'author_name',
  'author_email',
  'difficulty',
  'category',
  'tags',
  'estimated_duration_sec',
  'expert_time_estimate_min',
  'junior_time_estimate_min',
] as const;
const KNOWN = new Set<string>([...Object.keys(schema.shape)]);
const DIFFICULTIES = new Set(['easy', 'medium', 'hard', 'unknown']);

export interface YamlRead {
  config: Tb1TaskYaml | null;
  /** Why the task cannot be converted automatically. */
  reasons: string[];
  /** Dropped or defaulted fields, for the conversion note. */
  warnings: string[];
}

export function readTaskYaml(text: string): YamlRead {
  const reasons: string[] = [];
  const warnings: string[] = [];
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100, prettyErrors: false });
  } catch (error) {
    return { config: null, reasons: [`task.yaml is not valid YAML (${(error as Error).message.split('\n')[0]})`], warnings };
  }
  const parsed = schema.safeParse(doc ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'the document'}: ${i.message}`);
    return { config: null, reasons: issues.map((i) => `task.yaml ${i}`), warnings };
  }
  const y = parsed.data;

  const instruction = y.instruction ?? y.descriptions?.find((d) => d.key === 'base')?.description;
  if (instruction === undefined || instruction.trim() === '') {
    reasons.push('task.yaml has no instruction (nor a descriptions entry with key "base")');
  }
  if (y.instruction === undefined && instruction !== undefined) warnings.push('the instruction came from descriptions[key=base] (the oldest TB1 form)');
  const parser = y.parser_name ?? 'pytest';
  if (parser !== 'pytest') {
    reasons.push(
      `parser_name is "${parser}": pass or fail was decided by the TB1 harness's ${parser} parser, and tests/test.sh must compute the reward itself; convert by hand`,
    );
  }
  if (y.run_tests_in_same_shell === true) {
    reasons.push("run_tests_in_same_shell is true: the tests relied on the agent's shell state, which Harbor's verifier does not share");
  }
  if (y.env_name) reasons.push(`env_name "${y.env_name}" names a shared TB1 environment outside the task`);
  if (y.test_scripts && y.test_scripts.length > 0) {
    reasons.push(`test_scripts (${y.test_scripts.join(', ')}) are harness scripts outside the task`);
  }
  if (y.parser_name !== undefined && y.parser_name !== null && parser === 'pytest') warnings.push('parser_name (pytest) dropped: tests/test.sh writes the reward from the exit status');
  if (y.run_tests_in_same_shell === false) warnings.push('run_tests_in_same_shell (false) dropped: Harbor always runs the tests in their own shell');
  if (y.disable_asciinema !== undefined && y.disable_asciinema !== null) warnings.push('disable_asciinema dropped: Harbor records what its agent records');
  for (const key of Object.keys(y)) if (!KNOWN.has(key)) warnings.push(`task.yaml key "${key}" has no TB2 counterpart and was dropped`);

  const metadata: Record<string, unknown> = {};
  for (const key of METADATA_KEYS) {
    const value = y[key];
    if (value !== undefined && value !== null) metadata[key] = value;
  }
  if (typeof metadata.difficulty === 'string' && !DIFFICULTIES.has(metadata.difficulty.toLowerCase())) {
    warnings.push(`difficulty "${metadata.difficulty}" is none of easy, medium, hard: shown as unknown`);
  }
  const agentTimeoutSec = y.max_agent_timeout_sec ?? DEFAULT_AGENT_TIMEOUT_SEC;
  const testTimeoutSec = y.max_test_timeout_sec ?? DEFAULT_TEST_TIMEOUT_SEC;
  if (y.max_agent_timeout_sec == null) warnings.push(`max_agent_timeout_sec absent: the TB1 default ${DEFAULT_AGENT_TIMEOUT_SEC} s became [agent].timeout_sec`);
  if (y.max_test_timeout_sec == null) warnings.push(`max_test_timeout_sec absent: the TB1 default ${DEFAULT_TEST_TIMEOUT_SEC} s became [verifier].timeout_sec`);
  if (testTimeoutSec < 300) {
    warnings.push(
      `[verifier].timeout_sec is ${testTimeoutSec} s (from max_test_timeout_sec); TB2-style tests that install their tools usually need 300 s or more`,
    );
  }
  if (reasons.length > 0 || instruction === undefined) return { config: null, reasons, warnings };
  return {
    config: { instruction: instruction.endsWith('\n') ? instruction : `${instruction}\n`, metadata, agentTimeoutSec, testTimeoutSec },
    reasons,
    warnings,
  };
}
