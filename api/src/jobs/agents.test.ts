import { describe, expect, it } from 'vitest';
import { checkAgentAndModel, providerOf } from './agents.js';
import { maxDurationSec } from './dispatcher.js';

describe('checkAgentAndModel', () => {
  it.each([
    ['terminus-2', 'openrouter/anthropic/claude-sonnet-4', null],
    ['claude-code', 'anthropic/claude-opus-4-1', null],
    ['oracle', null, null],
    ['my_agents.smart:SmartAgent', 'openai/gpt-5', null],
    ['terminus', 'openrouter/x/y', /not one of Harbor's agents/],
    ['terminus-2', null, /needs a model/],
    ['oracle', 'openai/gpt-5', /takes no model/],
    ['terminus-2', 'openrouter//double', /is not a model name/],
    ['terminus-2', 'has space/x', /is not a model name/],
    ['rm -rf /', 'x/y', /not one of Harbor's agents/],
  ])('%s with %s', (agent, model, problem) => {
    const result = checkAgentAndModel(agent, model);
    if (problem === null) expect(result).toBeNull();
    else expect(result).toMatch(problem);
  });

  it('finds the provider of a model string from its first segment', () => {
    expect(providerOf('openrouter/anthropic/claude-sonnet-4')).toBe('openrouter');
    expect(providerOf('gpt-5')).toBeNull();
    expect(providerOf('unknownco/model')).toBeNull();
  });
});

describe('maxDurationSec', () => {
  const options = { timeoutMultiplier: 2, agentTimeoutMultiplier: null, verifierTimeoutMultiplier: 1, agentSetupTimeoutMultiplier: null, environmentBuildTimeoutMultiplier: null } as const;

  it("adds every phase's timeout × its multiplier, with Harbor's defaults where the task has none", () => {
    expect(maxDurationSec({ agentTimeoutSec: 900, verifierTimeoutSec: null, buildTimeoutSec: 600, harborOptions: options as never })).toBe(
      900 * 2 + 600 * 1 + 600 * 2 + 360 * 2,
    );
  });

  it('sets no guard when the agent may run forever', () => {
    expect(maxDurationSec({ agentTimeoutSec: null, verifierTimeoutSec: 600, buildTimeoutSec: 600, harborOptions: options as never })).toBeNull();
  });
});
