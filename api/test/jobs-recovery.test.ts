import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { JOB_QUERY, jobHarness, type JobHarness } from './support/jobs.js';

const secretsKey = randomBytes(32);
let api: TestApp;
let h: JobHarness;

beforeAll(async () => {
  api = await startTestApp({ services: true, secretsKey });
  h = await jobHarness(api);
});
afterAll(async () => {
  await h?.close();
  await api?.close();
});
// Each test chooses its own runners.
afterEach(() => h.killRunners());

describe('provider keys', () => {
  it('reach Harbor only through its environment: not the database, the config, the API or the wire', async () => {
    const key = `sk-or-v1-${randomBytes(12).toString('hex')}`;
    const task = await h.simulatedTask('sim-key', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_ECHO_SECRET: 'OPENROUTER_API_KEY' });
    h.startRunner('runner-keys', 1, { SECRETS_KEY: secretsKey.toString('base64') });
    const jobId = await h.createJob({
      taskIds: [task],
      agent: 'terminus-2',
      model: 'openrouter/anthropic/claude-sonnet-4',
      providerKey: { value: key },
    });
    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    expect(job.hasProviderKey).toBe(true);
    expect(job.runs.edges[0].node.status).toBe('PASSED');

    // The simulator printed the variable it was given: the key arrived in Harbor's environment.
    const trialDir = path.join(h.jobsDir, job.runs.edges[0].node.harborTrialDir);
    expect(await readFile(path.join(trialDir, 'agent/terminus_2.pane'), 'utf8')).toContain(key);
    // Nowhere else: not in the job config Harbor was given (it keeps a copy), nor in any result.
    const jobDir = path.dirname(trialDir);
    for (const file of [path.join(jobDir, 'config.json'), path.join(trialDir, 'config.json'), path.join(trialDir, 'result.json')]) {
      expect(await readFile(file, 'utf8'), file).not.toContain(key);
    }
    const secret = await api.database.db.providerSecret.findFirstOrThrow();
    expect(secret).toMatchObject({ provider: 'openrouter', envVar: 'OPENROUTER_API_KEY', hint: key.slice(-4) });
    expect(secret.ciphertext).not.toContain(key);
    const everything = JSON.stringify((await graphql(api.url, '{ jobs { edges { node { id name harborOptions hasProviderKey } } } }')).data);
    expect(everything).not.toContain(key);
  }, 60_000);

  it('is refused when the server has no key to seal it with, naming the setting', async () => {
    const bare = await startTestApp();
    try {
      const task = (await bare.database.db.task.create({ data: { contentHash: 'f'.repeat(64), name: 't', instruction: 'x', sizeBytes: 1n, fileCount: 1 } })).id;
      const { data } = await graphql(
        bare.url,
        `mutation($input: CreateJobInput!) { createJob(input: $input) { __typename ... on Error { code message } } }`,
        { input: { taskIds: [task], agent: 'terminus-2', model: 'openrouter/x/y', providerKey: { value: 'sk-something-long' } } },
      );
      expect(data.createJob).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
      expect(data.createJob.message).toMatch(/set SECRETS_KEY/);
    } finally {
      await bare.close();
    }
  });
});

describe('retryRuns', () => {
  it('adds a new attempt for each failed run, linked to it, and runs it', async () => {
    const task = await h.simulatedTask('sim-flaky', { HARBOR_SIM_SCENARIO: 'fail' });
    h.startRunner('runner-retry', 2);
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
    const first = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    expect(first.runsFailed, JSON.stringify(first)).toBe(2);

    const { data } = await graphql(
      api.url,
      `mutation($id: ID!) { retryRuns(jobId: $id, which: FAILED) { __typename ... on MutationRetryRunsSuccess { data { status runsTotal runsQueued } } } }`,
      { id: jobId },
    );
    expect(data.retryRuns.data, JSON.stringify(data)).toMatchObject({ runsTotal: 4 });
    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED' && j.runsTotal === 4);
    const runs = job.runs.edges.map((e: any) => e.node);
    const retries = runs.filter((r: any) => r.attempt === 2);
    expect(retries).toHaveLength(2);
    const originals = new Set(runs.filter((r: any) => r.attempt === 1).map((r: any) => r.id));
    for (const r of retries) expect(originals.has(r.retryOfId)).toBe(true);
    expect(job.runsFailed).toBe(4);
  }, 60_000);
});

describe('failures of the machinery', () => {
  it('takes no runs while Harbor is missing: the runner shows DEGRADED with the reason, and the run waits for a healthy runner', async () => {
    const task = await h.simulatedTask('sim-noharbor', { HARBOR_SIM_SCENARIO: 'pass' });
    const runner = h.startRunner('runner-noharbor', 1, { HARBOR_BIN: '/nonexistent/harbor' });
    await runner.waitFor(/warning: Harbor is not installed/);
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 1 });

    const query = '{ runners { id state slots busy harborVersion lastError degradedReason degradedSince lastHeartbeatAt } }';
    const deadline = Date.now() + 30_000;
    let seen: any;
    while (Date.now() < deadline && seen?.state !== 'DEGRADED') {
      seen = (await graphql(api.url, query)).data.runners.find((r: any) => r.id === 'runner-noharbor');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(seen).toMatchObject({ state: 'DEGRADED', slots: 1, busy: 0, harborVersion: null, degradedReason: expect.stringMatching(/\/nonexistent\/harbor was not found/) });
    expect(seen.degradedSince).toBeTruthy();
    // Not the run's failure: it is still queued, for a runner that can run it.
    const waiting = (await graphql(api.url, JOB_QUERY, { id: jobId })).data.job;
    expect(waiting).toMatchObject({ runsQueued: 1, runsErrored: 0 });

    h.startRunner('runner-withharbor', 1);
    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    expect(job.runs.edges[0].node).toMatchObject({ status: 'PASSED', runnerId: 'runner-withharbor' });
  }, 60_000);

  it('loses nothing when the API is down mid-job: events wait in JetStream and counters come out exact', async () => {
    const task = await h.simulatedTask('sim-apidown', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '150' });
    h.startRunner('runner-apidown', 3);
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 6 });
    await h.waitForJob(jobId, (j) => j.runsRunning + j.runsClaimed > 0, 30_000);
    await api.stopServices();
    // Runners keep working while nothing records; give them time to finish everything dispatched.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await api.startServices();

    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 60_000);
    expect(job.runs.edges.map((e: any) => e.node.exceptionMessage).filter(Boolean)).toEqual([]);
    expect(job).toMatchObject({ runsTotal: 6, runsPassed: 6, runsQueued: 0, runsClaimed: 0, runsRunning: 0, runsFailed: 0, runsErrored: 0 });
    expect(job.runs.totalCount).toBe(6);
  }, 90_000);

  it('drains on SIGTERM: the running trial finishes and is recorded, no new order is taken', async () => {
    const task = await h.simulatedTask('sim-drain', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '300' });
    const draining = h.startRunner('runner-drain', 1);
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
    await h.waitForJob(jobId, (j) => j.runsRunning === 1, 30_000);
    draining.child.kill('SIGTERM');

    expect((await draining.exited).code).toBe(0);
    expect(draining.output()).toMatch(/SIGTERM: finishing 1 running trial/);
    const afterDrain = await h.waitForJob(jobId, (j) => j.runsPassed === 1);
    expect(afterDrain).toMatchObject({ status: 'RUNNING', runsQueued: 1, runsRunning: 0 });

    h.startRunner('runner-after-drain', 1);
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED' && j.runsPassed === 2, 30_000);
  }, 60_000);

  it('records an order that ran out of deliveries as an INFRASTRUCTURE error, never a silent drop', async () => {
    const task = await h.simulatedTask('sim-giveup', { HARBOR_SIM_SCENARIO: 'hang' });
    // The runners share the consumer: one delivery, a 2 s ack wait. JetStream notices an expired
    // order only while some runner is pulling, so one stays up.
    const settings = { RUNNER_MAX_DELIVER: '1', RUNNER_ACK_WAIT_MS: '2000' };
    const runners = { 'giveup-a': h.startRunner('giveup-a', 1, settings), 'giveup-b': h.startRunner('giveup-b', 1, settings) };
    await Promise.all(Object.values(runners).map((r) => r.waitFor(/ready/)));
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 1 });
    const running = await h.waitForJob(jobId, (j) => j.runsRunning === 1, 30_000);
    runners[running.runs.edges[0].node.runnerId as 'giveup-a'].child.kill('SIGKILL');

    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 30_000);
    expect(job.runs.edges[0].node).toMatchObject({ status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'MaxDeliveriesExceeded' });
    expect(job.runs.edges[0].node.exceptionMessage).toMatch(/delivered 1 times and no runner finished it/);
  }, 60_000);
});
