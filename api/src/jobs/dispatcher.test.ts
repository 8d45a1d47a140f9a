import { harborOptionsSchema } from 'runner/protocol';
import { describe, expect, it } from 'vitest';
import { orderSecrets } from './dispatcher.js';

const defaults = [{ envVar: 'OPENROUTER_API_KEY', ciphertext: 'sealed-default' }];
const harbor = (agentKwargs: Record<string, unknown> = {}) => harborOptionsSchema.parse({ agentKwargs });

describe('orderSecrets', () => {
  it("gives a job's own key, and the defaults only to scrub", () => {
    expect(orderSecrets(defaults, { envVar: 'ANTHROPIC_API_KEY', ciphertext: 'own', harborOptions: harbor() })).toEqual({
      secrets: [{ envVar: 'ANTHROPIC_API_KEY', ciphertext: 'own' }],
      redact: defaults,
    });
  });

  it('gives a job without a key the defaults', () => {
    expect(orderSecrets(defaults, { envVar: null, ciphertext: null, harborOptions: harbor({ temperature: 1 }) })).toEqual({ secrets: defaults, redact: [] });
  });

  it('gives no default key to a job (launched before the policy) whose kwargs point the agent elsewhere', () => {
    expect(orderSecrets(defaults, { envVar: null, ciphertext: null, harborOptions: harbor({ llm_kwargs: { api_base: 'https://x' } }) })).toEqual({
      secrets: [],
      redact: defaults,
    });
  });
});
