import { describe, expect, it } from 'vitest';
import { PROVIDER_ENV_VARS, providerEnvVarProblem, RUNNER_PASSED_THROUGH_ENV } from './env-vars.js';

describe('providerEnvVarProblem', () => {
  it("accepts the variables Harbor's agents read provider keys from", () => {
    for (const name of ['OPENROUTER_API_KEY', 'ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'HF_TOKEN']) expect(providerEnvVarProblem(name), name).toBeNull();
    for (const name of PROVIDER_ENV_VARS) expect(providerEnvVarProblem(name)).toBeNull();
  });

  it('refuses the variables that run code or redirect the runner, naming the allowed ones', () => {
    for (const name of ['PATH', 'PYTHONPATH', 'LD_PRELOAD', 'DOCKER_HOST', 'HOME', 'NODE_OPTIONS', 'HARBOR_TELEMETRY', 'OPENAI_BASE_URL', 'X']) {
      expect(providerEnvVarProblem(name), name).toMatch(/cannot hold a provider key: .*; use one of .*OPENROUTER_API_KEY/);
    }
    expect(providerEnvVarProblem('DOCKER_HOST')).toMatch(/the runner sets it itself/);
    expect(providerEnvVarProblem('LD_PRELOAD')).toMatch(/not a variable Harbor reads a provider key from/);
  });

  it('keeps the provider list and the pass-through list apart', () => {
    expect(PROVIDER_ENV_VARS.filter((name) => RUNNER_PASSED_THROUGH_ENV.includes(name))).toEqual([]);
  });
});
