import { describe, expect, it } from 'vitest';
import { runOrderSchema } from '../protocol/messages.js';
import { buildHarborJobConfig } from './job-config.js';

const order = runOrderSchema.parse({
  v: 1,
  runId: '7f3c9a00-0000-4000-8000-000000000001',
  jobId: '11111111-0000-4000-8000-000000000000',
  taskId: '22222222-0000-4000-8000-000000000000',
  taskName: 'fix-git',
  taskDir: `${'a'.repeat(64)}/fix-git`,
  repeat: 2,
  attempt: 1,
  agent: 'terminus-2',
  model: 'openrouter/anthropic/claude-sonnet-4',
  harbor: { timeoutMultiplier: 2, agentKwargs: { temperature: 0.7, max_turns: 200 } },
  secrets: [{ envVar: 'OPENROUTER_API_KEY', ciphertext: 'c2VhbGVk' }],
});

describe('buildHarborJobConfig', () => {
  it('writes one complete, absolute job spec with one trial and no secrets', () => {
    const config = buildHarborJobConfig(order, { taskDir: '/srv/tasks/aaa/fix-git', jobsDir: '/srv/jobs' }, 3);
    expect(config).toEqual({
      job_name: `run-${order.runId}-p1-d3`,
      jobs_dir: '/srv/jobs',
      n_attempts: 1,
      n_concurrent_trials: 1,
      timeout_multiplier: 2,
      agent_timeout_multiplier: null,
      verifier_timeout_multiplier: null,
      agent_setup_timeout_multiplier: null,
      environment_build_timeout_multiplier: null,
      retry: { max_retries: 0 },
      environment: { type: 'docker', force_build: false, delete: true, kwargs: {} },
      agents: [
        { name: 'terminus-2', model_name: 'openrouter/anthropic/claude-sonnet-4', kwargs: { temperature: 0.7, max_turns: 200 }, env: {}, override_timeout_sec: null },
      ],
      tasks: [{ path: '/srv/tasks/aaa/fix-git', source: 'thr' }],
    });
    expect(JSON.stringify(config)).not.toMatch(/OPENROUTER_API_KEY|c2VhbGVk/);
  });

  it('names the job after the dispatch and delivery, so a redelivery starts in a fresh directory', () => {
    const name = (delivery: number) => buildHarborJobConfig(order, { taskDir: '/t', jobsDir: '/j' }, delivery).job_name;
    expect(name(1)).not.toBe(name(2));
    expect(buildHarborJobConfig({ ...order, dispatch: 2 }, { taskDir: '/t', jobsDir: '/j' }, 1).job_name).toBe(`run-${order.runId}-p2-d1`);
  });
});
