import { describe, expect, it } from 'vitest';
import { classifyException, classifyTrial, primaryReward, verifierCrash } from './outcome.js';
import { parseTrialResult, type TrialResult } from './result.js';

function trial(opts: { rewards?: Record<string, number | null> | null; exception?: string | null; message?: string }): TrialResult {
  return parseTrialResult(
    JSON.stringify({
      task_name: 'fix-git',
      trial_name: 'fix-git__Kp4tZr9',
      agent_info: { name: 'terminus-2', version: '2.0.0', model_info: null },
      verifier_result: opts.rewards === undefined || opts.rewards === null ? null : { rewards: opts.rewards },
      exception_info: opts.exception
        ? { exception_type: opts.exception, exception_message: opts.message ?? 'boom', exception_traceback: '', occurred_at: '2026-09-02T14:16:05Z' }
        : null,
    }),
  );
}

describe('classifyTrial: the §6 table', () => {
  it.each`
    exception                          | message                                             | rewards             | status         | failureKind
    ${null}                            | ${''}                                               | ${{ reward: 1 }}    | ${'PASSED'}    | ${null}
    ${null}                            | ${''}                                               | ${{ reward: 0 }}    | ${'FAILED'}    | ${null}
    ${null}                            | ${''}                                               | ${null}             | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'AgentTimeoutError'}             | ${'Agent execution timed out after 900.0 seconds'}  | ${{ reward: 0 }}    | ${'FAILED'}    | ${'AGENT'}
    ${'AgentTimeoutError'}             | ${'Agent execution timed out after 900.0 seconds'}  | ${{ reward: 1 }}    | ${'PASSED'}    | ${null}
    ${'AgentTimeoutError'}             | ${'Agent execution timed out after 900.0 seconds'}  | ${null}             | ${'ERRORED'}   | ${'AGENT'}
    ${'ContextWindowExceededError'}    | ${''}                                               | ${{ reward: 0 }}    | ${'FAILED'}    | ${'AGENT'}
    ${'OutputTokenExceededError'}      | ${''}                                               | ${{ reward: 1 }}    | ${'PASSED'}    | ${null}
    ${'AgentSafetyRefusalError'}       | ${''}                                               | ${{ reward: 0 }}    | ${'FAILED'}    | ${'AGENT'}
    ${'ContextLengthExceededError'}    | ${''}                                               | ${null}             | ${'ERRORED'}   | ${'AGENT'}
    ${'OutputLengthExceededError'}     | ${''}                                               | ${null}             | ${'ERRORED'}   | ${'AGENT'}
    ${'NonZeroAgentExitCodeError'}     | ${''}                                               | ${{ reward: 0 }}    | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'UnknownApiError'}               | ${''}                                               | ${{ reward: 1 }}    | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'ApiRateLimitError'}             | ${'429'}                                            | ${{ reward: 1 }}    | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'ApiOverloadedError'}            | ${''}                                               | ${{ reward: 0 }}    | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'ApiUsageLimitError'}            | ${''}                                               | ${null}             | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'AgentAuthenticationError'}      | ${''}                                               | ${null}             | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'EnvironmentStartTimeoutError'}  | ${''}                                               | ${null}             | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'HealthcheckError'}              | ${''}                                               | ${null}             | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'RewardFileEmptyError'}          | ${''}                                               | ${null}             | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'RewardFileNotFoundError'}       | ${''}                                               | ${null}             | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'VerifierTimeoutError'}          | ${''}                                               | ${null}             | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'RuntimeError'}                  | ${'Docker compose command failed for environment x'} | ${null}            | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'RuntimeError'}                  | ${'something else'}                                 | ${null}             | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'ValueError'}                    | ${"Environment variable 'X' is not set"}            | ${null}             | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'RateLimitError'}                | ${''}                                               | ${null}             | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'BadRequestError'}               | ${''}                                               | ${null}             | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'SomethingBrandNewError'}        | ${''}                                               | ${{ reward: 1 }}    | ${'ERRORED'}   | ${'INFRASTRUCTURE'}
    ${'CancelledError'}                | ${''}                                               | ${null}             | ${'CANCELLED'} | ${null}
    ${'CancelledError'}                | ${''}                                               | ${{ reward: 1 }}    | ${'CANCELLED'} | ${null}
  `('$exception ($message) with $rewards → $status / $failureKind', ({ exception, message, rewards, status, failureKind }) => {
    const r = classifyTrial(trial({ exception, message, rewards }));
    expect(r.status).toBe(status);
    expect(r.failureKind).toBe(failureKind);
    expect(r.exceptionType).toBe(exception);
    if (exception) expect(r.exceptionMessage).toBe(message);
    expect(r.trialDir).toBeNull();
  });

  it('keeps the reward and the raw rewards next to an infrastructure verdict', () => {
    const r = classifyTrial(trial({ exception: 'ApiRateLimitError', rewards: { reward: 1 } }));
    expect(r).toMatchObject({ status: 'ERRORED', reward: 1, rewards: { reward: 1 } });
  });

  it('keeps the empty CancelledError message as ""', () => {
    expect(classifyTrial(trial({ exception: 'CancelledError', message: '' })).exceptionMessage).toBe('');
  });

  it('explains a result with neither reward nor exception', () => {
    expect(classifyTrial(trial({})).exceptionMessage).toMatch(/neither a reward nor an exception/);
  });
});

describe('rewards and the threshold', () => {
  it('uses the reward key, else the only key, else the mean', () => {
    expect(primaryReward({ reward: 0.25, other: 1 })).toBe(0.25);
    expect(primaryReward({ accuracy: 0.75 })).toBe(0.75);
    expect(primaryReward({ a: 1, b: 0 })).toBe(0.5);
    expect(primaryReward({})).toBeNull();
    expect(primaryReward(null)).toBeNull();
  });

  it('passes at or above the threshold', () => {
    expect(classifyTrial(trial({ rewards: { reward: 0.5 } })).status).toBe('FAILED');
    expect(classifyTrial(trial({ rewards: { reward: 0.5 } }), { passThreshold: 0.5 }).status).toBe('PASSED');
    expect(classifyTrial(trial({ rewards: { a: 1, b: 0 } }), { passThreshold: 0.6 }).status).toBe('FAILED');
    expect(classifyTrial(trial({ rewards: { reward: 0.1 + 0.2 + 0.7 } })).status).toBe('PASSED');
  });

  it('drops rewards Harbor wrote as null (NaN)', () => {
    const r = classifyTrial(trial({ rewards: { reward: null, style: 1 } }));
    expect(r).toMatchObject({ rewards: { style: 1 }, reward: 1, status: 'PASSED' });
    expect(classifyTrial(trial({ rewards: { reward: null } }))).toMatchObject({ rewards: null, reward: null, status: 'ERRORED' });
  });
});

describe('classifyException', () => {
  it('separates certain, ambiguous and unknown', () => {
    expect(classifyException('AgentTimeoutError')).toEqual({ kind: 'AGENT', certainty: 'certain' });
    expect(classifyException('OutputTokenExceededError')).toEqual({ kind: 'AGENT', certainty: 'ambiguous' });
    expect(classifyException('RewardFileNotFoundError')).toEqual({ kind: 'INFRASTRUCTURE', certainty: 'ambiguous' });
    expect(classifyException('RuntimeError', 'Agent install failed: exit 1')).toEqual({ kind: 'INFRASTRUCTURE', certainty: 'certain' });
    expect(classifyException('RuntimeError', 'Command timed out after 60 seconds')).toEqual({ kind: 'INFRASTRUCTURE', certainty: 'certain' });
    expect(classifyException('RuntimeError', 'weird')).toEqual({ kind: 'INFRASTRUCTURE', certainty: 'ambiguous' });
    expect(classifyException('KeyError')).toEqual({ kind: 'INFRASTRUCTURE', certainty: 'unknown' });
    expect(classifyException('asyncio.exceptions.CancelledError').kind).toBe('CANCELLED');
    expect(classifyException('harbor.trial.trial.AgentTimeoutError').kind).toBe('AGENT');
  });
});

describe('classifyTrial: numbers', () => {
  it('reads tokens, cost and phase durations', () => {
    const r = classifyTrial(
      parseTrialResult(
        JSON.stringify({
          task_name: 't',
          trial_name: 't__abcdefg',
          agent_info: { name: 'terminus-2' },
          agent_result: { n_input_tokens: 188400, n_cache_tokens: 120000, n_output_tokens: 7350, cost_usd: 0.52 },
          verifier_result: { rewards: { reward: 1.0 } },
          environment_setup: { started_at: '2026-09-02T14:00:32Z', finished_at: '2026-09-02T14:00:58.5+00:00' },
          agent_setup: { started_at: '2026-09-02T14:00:58', finished_at: '2026-09-02T14:01:04.250' },
          agent_execution: { started_at: '2026-09-02T14:01:05.000001Z', finished_at: null },
          verifier: { started_at: '2026-09-02T14:17:31Z', finished_at: '2026-09-02T14:16:06Z' },
        }),
      ),
    );
    expect(r).toEqual({
      status: 'PASSED',
      reward: 1,
      rewards: { reward: 1 },
      exceptionType: null,
      exceptionMessage: null,
      failureKind: null,
      inputTokens: 188400,
      cacheTokens: 120000,
      outputTokens: 7350,
      costUsd: 0.52,
      environmentSetupMs: 26_500,
      agentSetupMs: 6_250,
      agentExecutionMs: null, // unfinished phase
      verifierMs: null, // clock went backwards: no honest duration
      trialDir: null,
    });
  });

  it('gives null tokens and durations when the agent never ran', () => {
    const r = classifyTrial(trial({ exception: 'EnvironmentStartTimeoutError' }));
    expect(r).toMatchObject({ inputTokens: null, cacheTokens: null, outputTokens: null, costUsd: null, agentExecutionMs: null });
  });
});

describe('verifierCrash', () => {
  const CRASH = "ERROR collecting tests/test_outputs.py: ModuleNotFoundError: No module named 'numpy'";

  it('makes a FAILED or unexplained ERRORED run with a crash line ERRORED / INFRASTRUCTURE, VerifierCrashError', () => {
    for (const rewards of [{ reward: 0 }, null]) {
      expect(verifierCrash(classifyTrial(trial({ rewards })), CRASH)).toMatchObject({
        status: 'ERRORED',
        failureKind: 'INFRASTRUCTURE',
        exceptionType: 'VerifierCrashError',
        exceptionMessage: `the verifier crashed before any test ran: ${CRASH}`,
        reward: rewards ? 0 : null,
      });
    }
  });

  it('leaves alone a run without a crash line, a passing run and one where Harbor recorded an exception', () => {
    const failed = classifyTrial(trial({ rewards: { reward: 0 } }));
    expect(verifierCrash(failed, null)).toBe(failed);
    const passed = classifyTrial(trial({ rewards: { reward: 1 } }));
    expect(verifierCrash(passed, CRASH)).toBe(passed);
    const timedOut = classifyTrial(trial({ rewards: { reward: 0 }, exception: 'AgentTimeoutError' }));
    expect(verifierCrash(timedOut, CRASH)).toBe(timedOut);
    const missing = classifyTrial(trial({ exception: 'RewardFileNotFoundError' }));
    expect(verifierCrash(missing, CRASH)).toBe(missing);
  });
});
