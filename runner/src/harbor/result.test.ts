import { describe, expect, it } from 'vitest';
import { HarborResultError, harborTimeMs, parseJobResult, parseTrialResult } from './result.js';

/** A trial result.json as 0.22.0 writes it (contract §5, abridged config). */
function currentTrial(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '3e0a5d8c-6f41-4b8e-9a27-51c2f0d9b7aa',
    task_name: 'fix-git',
    trial_name: 'fix-git__Kp4tZr9',
    trial_uri: 'file:///srv/platform/jobs/run-7f3c9a/fix-git__Kp4tZr9',
    task_id: { path: '/srv/platform/tasks/5d1e/fix-git' },
    source: 'terminal-bench-2',
    task_checksum: 'b41f',
    config: { trial_name: 'fix-git__Kp4tZr9', agent: { name: 'terminus-2' } },
    agent_info: { name: 'terminus-2', version: '2.0.0', model_info: { name: 'anthropic/claude-sonnet-4', provider: 'openrouter' } },
    agent_result: { n_input_tokens: 188400, n_cache_tokens: 120000, n_output_tokens: 7350, cost_usd: 0.52, rollout_details: null, metadata: { n_episodes: 37 } },
    verifier_result: { rewards: { reward: 0.0 } },
    verifier_environment_mode: 'shared',
    exception_info: {
      exception_type: 'AgentTimeoutError',
      exception_message: 'Agent execution timed out after 900.0 seconds',
      exception_traceback: 'Traceback (most recent call last): …',
      occurred_at: '2026-09-02T14:16:05.118204Z',
    },
    started_at: '2026-09-02T14:00:31.402117Z',
    finished_at: '2026-09-02T14:17:48.930551Z',
    environment_setup: { started_at: '2026-09-02T14:00:32Z', finished_at: '2026-09-02T14:00:58Z' },
    agent_setup: { started_at: '2026-09-02T14:00:58Z', finished_at: '2026-09-02T14:01:04Z' },
    agent_execution: { started_at: '2026-09-02T14:01:05Z', finished_at: '2026-09-02T14:16:05Z' },
    verifier: { started_at: '2026-09-02T14:16:06Z', finished_at: '2026-09-02T14:17:31Z' },
    step_results: null,
    ...overrides,
  };
}

const currentJob = {
  id: 'c27b90e4-1d3f-4f7a-8b5e-0a9d6e2f4c13',
  started_at: '2026-09-02T16:00:29.870311',
  updated_at: '2026-09-02T16:17:49.102442',
  finished_at: '2026-09-02T16:17:49.102442',
  n_total_trials: 1,
  stats: {
    n_completed_trials: 1,
    n_errored_trials: 1,
    n_running_trials: 0,
    n_pending_trials: 0,
    n_cancelled_trials: 0,
    n_retries: 0,
    evals: {
      'terminus-2__anthropic/claude-sonnet-4__terminal-bench-2': {
        n_trials: 1,
        n_errors: 1,
        metrics: [{ mean: 0.0 }],
        pass_at_k: {},
        reward_stats: { reward: { '0.0': ['fix-git__Kp4tZr9'] } },
        exception_stats: { AgentTimeoutError: ['fix-git__Kp4tZr9'] },
      },
    },
    n_input_tokens: 188400,
    n_cache_tokens: 120000,
    n_output_tokens: 7350,
    cost_usd: 0.52,
  },
};

const json = (v: unknown) => JSON.stringify(v, null, 4);

function errorOf(fn: () => unknown): HarborResultError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HarborResultError);
    return error as HarborResultError;
  }
  throw new Error('expected a parse error');
}

describe('parseTrialResult', () => {
  it('reads the current form', () => {
    const r = parseTrialResult(json(currentTrial()));
    expect(r.trial_name).toBe('fix-git__Kp4tZr9');
    expect(r.agent_info.model_info).toEqual({ name: 'anthropic/claude-sonnet-4', provider: 'openrouter' });
    expect(r.verifier_result?.rewards).toEqual({ reward: 0 });
    expect(r.exception_info?.exception_type).toBe('AgentTimeoutError');
    expect(r.agent_result?.metadata).toEqual({ n_episodes: 37 });
    expect(r.verifier_environment_mode).toBe('shared');
  });

  it('reads missing keys as null (older Harbor: no step_results, verifier_environment_mode, source)', () => {
    const minimal = { task_name: 't', trial_name: 't__abcdefg', agent_info: { name: 'oracle' } };
    const r = parseTrialResult(JSON.stringify(minimal));
    expect(r).toMatchObject({
      id: null, trial_uri: null, task_id: null, source: null, task_checksum: null, config: null,
      agent_result: null, verifier_result: null, verifier_environment_mode: null, exception_info: null,
      started_at: null, finished_at: null, environment_setup: null, agent_setup: null,
      agent_execution: null, verifier: null, step_results: null,
    });
    expect(r.agent_info).toEqual({ name: 'oracle', version: null, model_info: null });
  });

  it('accepts a null provider, a missing timing half, and unknown keys', () => {
    const r = parseTrialResult(
      json(
        currentTrial({
          agent_info: { name: 'terminus-2', version: '2.0.0', model_info: { name: 'gpt-5', provider: null }, extra: 1 },
          agent_setup: { started_at: '2026-09-02T14:00:58Z' },
          environment_state: { snapshot_id: null },
          something_new: [1, 2, 3],
        }),
      ),
    );
    expect(r.agent_info.model_info).toEqual({ name: 'gpt-5', provider: null });
    expect(r.agent_setup).toEqual({ started_at: '2026-09-02T14:00:58Z', finished_at: null });
    expect(r).not.toHaveProperty('something_new');
  });

  it.each([
    ['local', { path: '/tasks/fix-git' }],
    ['git', { git_url: 'https://github.com/laude-institute/terminal-bench-2', git_commit_id: 'abc123', path: 'fix-git' }],
    ['git without commit', { git_url: 'https://example.com/r.git', git_commit_id: null, path: 'fix-git' }],
    ['registry package', { org: 'laude', name: 'fix-git', ref: null }],
  ])('accepts the %s task_id form', (_name, taskId) => {
    expect(parseTrialResult(json(currentTrial({ task_id: taskId }))).task_id).toEqual(taskId);
  });

  it.each([
    ['Z with microseconds', '2026-09-02T14:00:31.402117Z'],
    ['+00:00', '2026-09-02T14:00:31.402117+00:00'],
    ['naive', '2026-09-02T14:00:31.402117'],
    ['no fraction', '2026-09-02T14:00:31'],
  ])('accepts a %s timestamp', (_name, ts) => {
    expect(parseTrialResult(json(currentTrial({ started_at: ts }))).started_at).toBe(ts);
  });

  it('keeps NaN rewards (written as null) without failing', () => {
    const r = parseTrialResult(json(currentTrial({ verifier_result: { rewards: { reward: null, style: 0.5 } } })));
    expect(r.verifier_result?.rewards).toEqual({ reward: null, style: 0.5 });
  });

  it('accepts step_results', () => {
    const step = { step_name: 'step-1', agent_result: null, verifier_result: { rewards: { reward: 1 } }, exception_info: null, agent_execution: null, verifier: null };
    expect(parseTrialResult(json(currentTrial({ step_results: [step] }))).step_results).toEqual([step]);
  });

  it.each([
    ['agent_info.name', { agent_info: { name: 42 } }],
    ['trial_name', { trial_name: undefined }],
    ['verifier_result.rewards.reward', { verifier_result: { rewards: { reward: 'yes' } } }],
    ['started_at', { started_at: 'yesterday' }],
    ['agent_result.n_input_tokens', { agent_result: { n_input_tokens: '12' } }],
    ['exception_info.exception_type', { exception_info: { exception_message: 'x' } }],
    ['task_id', { task_id: { url: 'x' } }],
    ['agent_setup.finished_at', { agent_setup: { started_at: '2026-09-02T14:00:58Z', finished_at: 5 } }],
  ])('names the bad field %s', (field, overrides) => {
    const error = errorOf(() => parseTrialResult(json(currentTrial(overrides))));
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('says a half-written or empty file is not valid JSON yet', () => {
    const text = json(currentTrial());
    expect(errorOf(() => parseTrialResult(text.slice(0, text.length / 2))).message).toMatch(/not valid JSON/);
    expect(errorOf(() => parseTrialResult('')).message).toMatch(/empty/);
    expect(errorOf(() => parseTrialResult('[1]')).field).toBe('(root)');
  });
});

describe('parseJobResult', () => {
  it('reads the current form', () => {
    const r = parseJobResult(json(currentJob));
    expect(r.stats).toMatchObject({ n_completed_trials: 1, n_errored_trials: 1, n_pending_trials: 0, cost_usd: 0.52 });
    expect(r.finished_at).toBe('2026-09-02T16:17:49.102442');
    expect(Object.keys(r.stats.evals)).toEqual(['terminus-2__anthropic/claude-sonnet-4__terminal-bench-2']);
  });

  it('falls back to the old counters n_trials / n_errors, without updated_at or token totals', () => {
    const old = {
      id: 'j1',
      started_at: '2025-08-01T10:00:00',
      finished_at: null,
      n_total_trials: 5,
      stats: { n_trials: 2, n_errors: 1, evals: { 'terminus-2__anthropic-claude-sonnet-4__adhoc': { n_trials: 2, n_errors: 1, metrics: [{ mean: 0.5 }], reward_stats: {}, exception_stats: {} } } },
    };
    const r = parseJobResult(JSON.stringify(old));
    expect(r.stats).toMatchObject({
      n_completed_trials: 2, n_errored_trials: 1, n_running_trials: 0, n_pending_trials: 3, n_cancelled_trials: 0, n_retries: 0,
      n_input_tokens: null, n_cache_tokens: null, n_output_tokens: null, cost_usd: null,
    });
    expect(r.updated_at).toBe('2025-08-01T10:00:00');
    expect(r.stats.evals['terminus-2__anthropic-claude-sonnet-4__adhoc']?.pass_at_k).toBeNull();
  });

  it('takes updated_at from finished_at, and missing counters from an interim status object', () => {
    const r = parseJobResult(
      JSON.stringify({
        id: 'j2', started_at: '2025-08-01T10:00:00', finished_at: '2025-08-01T11:00:00', n_total_trials: 4,
        stats: { evals: {} },
        status: { n_completed_trials: 1, n_running_trials: 2 },
      }),
    );
    expect(r.updated_at).toBe('2025-08-01T11:00:00');
    expect(r.stats).toMatchObject({ n_completed_trials: 1, n_running_trials: 2, n_pending_trials: 1, n_errored_trials: 0 });
    const viaStatus = parseJobResult(
      JSON.stringify({ id: 'j3', started_at: '2025-08-01T10:00:00', n_total_trials: 1, status: { updated_at: '2025-08-01T10:30:00Z' } }),
    );
    expect(viaStatus.updated_at).toBe('2025-08-01T10:30:00Z');
    expect(viaStatus.stats.n_pending_trials).toBe(1);
  });

  it('tolerates the 0.1.x trial_results list', () => {
    const r = parseJobResult(JSON.stringify({ ...currentJob, trial_results: [] }));
    expect(r.id).toBe(currentJob.id);
  });

  it.each([
    ['n_total_trials', { n_total_trials: 'one' }],
    ['started_at', { started_at: null }],
    ['stats.n_completed_trials', { stats: { ...currentJob.stats, n_completed_trials: -1 } }],
    ['stats.evals', { stats: { ...currentJob.stats, evals: [] } }],
  ])('names the bad field %s', (field, overrides) => {
    expect(errorOf(() => parseJobResult(JSON.stringify({ ...currentJob, ...overrides }))).field).toBe(field);
  });
});

describe('harborTimeMs', () => {
  it('reads Z, offsets and naive times (naive as UTC)', () => {
    const utc = Date.UTC(2026, 8, 2, 14, 0, 31, 402);
    expect(harborTimeMs('2026-09-02T14:00:31.402117Z')).toBe(utc);
    expect(harborTimeMs('2026-09-02T14:00:31.402117+00:00')).toBe(utc);
    expect(harborTimeMs('2026-09-02T16:00:31.402+02:00')).toBe(utc);
    expect(harborTimeMs('2026-09-02T14:00:31.402117')).toBe(utc);
    expect(harborTimeMs('2026-09-02T14:00:31Z')).toBe(utc - 402);
    expect(harborTimeMs('not a time')).toBeNull();
  });
});
