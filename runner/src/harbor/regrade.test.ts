import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runOrderSchema } from '../protocol/messages.js';
import { buildHarborRegradeConfig, regradeProblem, sourceJobDir } from './regrade.js';

const SIMULATOR = fileURLToPath(new URL('../../test/harbor-sim/harbor', import.meta.url));
const root = await mkdtemp(path.join(os.tmpdir(), 'regrade-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const order = runOrderSchema.parse({
  v: 1,
  runId: 'b8f2a3c4-0000-4000-8000-000000000001',
  jobId: 'b8f2a3c4-0000-4000-8000-000000000002',
  taskId: 'b8f2a3c4-0000-4000-8000-000000000003',
  taskName: 'fix-git',
  taskDir: `${'a'.repeat(64)}/fix-git`,
  repeat: 1,
  attempt: 2,
  agent: 'terminus-2',
  model: 'openrouter/anthropic/claude-sonnet-4',
  harbor: { verifierTimeoutMultiplier: 2 },
  regrade: { sourceTrialDir: 'run-src-p1-d1/fix-git__Kp4tZr9' },
});

describe('regrade orders', () => {
  it('accept only a source trial relative to JOBS_DIR', () => {
    for (const sourceTrialDir of ['/srv/jobs/run-x/t', '../other/t', 'run-x/../../t', '']) {
      expect(runOrderSchema.safeParse({ ...order, regrade: { sourceTrialDir } }).success, sourceTrialDir).toBe(false);
    }
    expect(runOrderSchema.parse({ ...order, regrade: undefined }).regrade).toBeUndefined();
  });

  it("build Harbor's regrade job config: the grading task in tasks, the source trial's job in source_jobs, no agent", () => {
    const config = buildHarborRegradeConfig({ ...order, regrade: order.regrade! }, { taskDir: '/tasks/aaa/fix-git', jobsDir: '/srv/jobs' }, 3);
    expect(config).toEqual({
      job_name: `run-${order.runId}-p1-d3`,
      jobs_dir: '/srv/jobs',
      n_concurrent_trials: 1,
      timeout_multiplier: 1,
      verifier_timeout_multiplier: 2,
      environment_build_timeout_multiplier: null,
      environment: { type: 'docker', force_build: false, delete: true, kwargs: {} },
      tasks: [{ path: '/tasks/aaa/fix-git', source: 'thr' }],
      source_jobs: [{ action: 'regrade', type: 'local', path: '/srv/jobs/run-src-p1-d1' }],
    });
    expect(sourceJobDir('/srv/jobs/', 'run-a/t__x')).toBe('/srv/jobs/run-a');
  });
});

describe('regradeProblem', () => {
  const jobsDir = path.join(root, 'jobs');
  const trial = 'run-src-p1-d1/fix-git__Kp4tZr9';

  it('refuses a Harbor without `harbor job regrade`, naming its version', async () => {
    // Harbor 0.22.0 has no regrade: the simulator plays it, set up by a wrapper as a test points HARBOR_BIN at one.
    const old = path.join(root, 'harbor-0.22');
    await writeFile(old, `#!/bin/sh\nHARBOR_SIM_NO_REGRADE=1 exec ${SIMULATOR} "$@"\n`);
    await chmod(old, 0o755);
    expect(await regradeProblem(old, jobsDir, trial)).toBe(
      'Harbor 0.22.0 cannot regrade: it has no `harbor job regrade` command (regrade needs a later Harbor release); the source run was not touched',
    );
  });

  it('refuses a source trial that is not under JOBS_DIR here, and accepts one that is', async () => {
    expect(await regradeProblem(SIMULATOR, jobsDir, trial)).toBe(
      `the source trial ${trial} is not under JOBS_DIR on this runner (deleted, or JOBS_DIR is not shared storage)`,
    );
    await mkdir(path.join(jobsDir, trial), { recursive: true });
    await writeFile(path.join(jobsDir, trial, 'result.json'), '{}');
    expect(await regradeProblem(SIMULATOR, jobsDir, trial)).toBeNull();
  });
});
