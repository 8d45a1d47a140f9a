import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from 'runner/test-support';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { giveUpOneOrder, JOB_QUERY, jobHarness, type JobHarness } from './support/jobs.js';
import { ordersInRuns } from './support/nats.js';

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

    // The simulator printed the variable it was given, so the key arrived in Harbor's environment; the
    // runner then scrubbed it from the trial's files at rest (the echo's output is the redaction).
    const trialDir = path.join(h.jobsDir, job.runs.edges[0].node.harborTrialDir);
    const pane = await readFile(path.join(trialDir, 'agent/terminus_2.pane'), 'utf8');
    expect(pane).toContain('# echo $OPENROUTER_API_KEY\n[REDACTED]\n');
    expect(pane).not.toContain(key);
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

/** Changes what the simulated Harbor does for a task from now on (its .harbor-sim in TASKS_DIR). */
async function resimulate(taskId: string, sim: Record<string, string>): Promise<void> {
  const { contentHash, name } = await api.database.db.task.findUniqueOrThrow({ where: { id: taskId } });
  await writeFile(path.join(api.tasksDir, contentHash, name, '.harbor-sim'), Object.entries(sim).map(([k, v]) => `${k}=${v}\n`).join(''));
}

const STATS = `query($id: ID!) { job(id: $id) { runsTotal runsFailed stats { passRate passed scored passAtK { k value } } } }`;
const COMPARE = `query($ids: [ID!]!) { compareJobs(ids: $ids) { ... on QueryCompareJobsSuccess { data {
  jobs { passRate passed scored vsBaseline { passRateDifference passRateDifferenceLow passRateDifferenceHigh } } } } } }`;

describe('retryRuns', () => {
  it('retries failed runs as extra attempts: pass rate, pass@k and comparisons keep the first tries; best of 2 apart', async () => {
    const flaky = await h.simulatedTask('sim-flaky', { HARBOR_SIM_SCENARIO: 'fail' });
    const steady = await h.simulatedTask('sim-steady', { HARBOR_SIM_SCENARIO: 'pass' });
    h.startRunner('runner-retry', 3);
    // Two jobs with the same first tries; only the first is retried.
    const jobId = await h.createJob({ taskIds: [flaky, steady], agent: 'oracle', runsPerTask: 3 });
    const other = await h.createJob({ taskIds: [flaky, steady], agent: 'oracle', runsPerTask: 3 });
    for (const id of [jobId, other]) await h.waitForJob(id, (j) => j.status === 'COMPLETED');
    const first = (await graphql(api.url, STATS, { id: jobId })).data.job;
    expect(first, JSON.stringify(first)).toMatchObject({ runsTotal: 6, runsFailed: 3, stats: { passRate: 0.5, passed: 3, scored: 6 } });
    const compared = (await graphql(api.url, COMPARE, { ids: [other, jobId] })).data.compareJobs.data;

    // The flaky task passes from now on: its retries pass.
    await resimulate(flaky, { HARBOR_SIM_SCENARIO: 'pass' });
    const { data } = await graphql(
      api.url,
      `mutation($id: ID!) { retryRuns(jobId: $id, which: FAILED) { __typename ... on MutationRetryRunsSuccess { data { status runsTotal runsQueued } } } }`,
      { id: jobId },
    );
    expect(data.retryRuns.data, JSON.stringify(data)).toMatchObject({ status: 'RUNNING', runsTotal: 6, runsQueued: 0 });
    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    const runs = job.runs.edges.map((e: any) => e.node);
    const retries = runs.filter((r: any) => r.attempt === 2);
    expect(retries.map((r: any) => r.status)).toEqual(['PASSED', 'PASSED', 'PASSED']);
    const originals = new Set(runs.filter((r: any) => r.attempt === 1 && r.task.name === 'sim-flaky').map((r: any) => r.id));
    for (const r of retries) expect(originals.has(r.retryOfId)).toBe(true);

    // Every figure is still that of the first tries: counters, pass rate, pass@k, the comparison.
    expect((await graphql(api.url, STATS, { id: jobId })).data.job).toEqual(first);
    expect((await graphql(api.url, COMPARE, { ids: [other, jobId] })).data.compareJobs.data).toEqual(compared);
    expect(compared.jobs[1].vsBaseline).toMatchObject({ passRateDifference: 0 });

    // The extra attempts are shown apart, as best of 2, and nothing is left to retry.
    const apart = await graphql(
      api.url,
      `query($id: ID!) { job(id: $id) { runsTotal attemptsTotal extraAttempts replacedAttempts retryable { failed unsuccessful }
        stats { bestOf bestOfPassed bestOfPassRate extraAttempts } runs(attemptRole: [EXTRA]) { totalCount } } }`,
      { id: jobId },
    );
    expect(apart.data.job).toEqual({
      runsTotal: 6, attemptsTotal: 9, extraAttempts: 3, replacedAttempts: 0, retryable: { failed: 0, unsuccessful: 0 },
      stats: { bestOf: 2, bestOfPassed: 6, bestOfPassRate: 1, extraAttempts: 3 }, runs: { totalCount: 3 },
    });
  }, 120_000);

  it('retries only infrastructure errors when not told which, and those retries replace them', async () => {
    const broken = await h.simulatedTask('sim-sandbox', { HARBOR_SIM_SCENARIO: 'infra-error' });
    const failing = await h.simulatedTask('sim-failing', { HARBOR_SIM_SCENARIO: 'fail' });
    h.startRunner('runner-infra', 3);
    const jobId = await h.createJob({ taskIds: [broken, failing], agent: 'oracle', runsPerTask: 2 });
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    await resimulate(broken, { HARBOR_SIM_SCENARIO: 'pass' });

    const { data } = await graphql(api.url, `mutation($id: ID!) { retryRuns(jobId: $id) { __typename } }`, { id: jobId });
    expect(data.retryRuns.__typename).toBe('MutationRetryRunsSuccess');
    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    const runs = job.runs.edges.map((e: any) => e.node);
    expect(runs.filter((r: any) => r.attempt === 2).map((r: any) => [r.task.name, r.status])).toEqual([
      ['sim-sandbox', 'PASSED'],
      ['sim-sandbox', 'PASSED'],
    ]);
    const { data: after } = await graphql(
      api.url,
      `query($id: ID!) { job(id: $id) { runsTotal runsPassed runsFailed runsErrored attemptsTotal replacedAttempts extraAttempts stats { passRate scored } } }`,
      { id: jobId },
    );
    expect(after.job).toEqual({
      runsTotal: 4, runsPassed: 2, runsFailed: 2, runsErrored: 0, attemptsTotal: 6, replacedAttempts: 2, extraAttempts: 0,
      stats: { passRate: 0.5, scored: 4 },
    });
  }, 120_000);
});

describe('failures of the machinery', () => {
  it('takes no runs while Harbor is missing: the runner shows DEGRADED with the reason, and the run waits for a healthy runner', async () => {
    const task = await h.simulatedTask('sim-noharbor', { HARBOR_SIM_SCENARIO: 'pass' });
    const runner = h.startRunner('runner-noharbor', 1, { HARBOR_BIN: '/nonexistent/harbor' });
    await runner.waitFor(/warning: Harbor is not installed/);
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 1 });

    const query = '{ runners { id state slots busy harborVersion lastError degradedReason degradedSince lastHeartbeatAt } }';
    const seen = await waitFor(
      async () => {
        const runner = (await graphql(api.url, query)).data.runners.find((r: any) => r.id === 'runner-noharbor');
        return runner?.state === 'DEGRADED' && runner;
      },
      { what: 'the runner to show DEGRADED', intervalMs: 200 },
    );
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
    // Runners keep working while nothing records: wait until they have acked every order dispatched,
    // which they do once its outcome is published.
    await waitFor(async () => Object.keys(await ordersInRuns(api.nats.nc, api.nats.topology, jobId)).length === 0, {
      timeoutMs: 60_000,
      what: 'the runners to finish every dispatched order',
    });
    await api.startServices();

    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 60_000);
    expect(job.runs.edges.map((e: any) => e.node.exceptionMessage).filter(Boolean)).toEqual([]);
    expect(job).toMatchObject({ runsTotal: 6, runsPassed: 6, runsQueued: 0, runsClaimed: 0, runsRunning: 0, runsFailed: 0, runsErrored: 0 });
    expect(job.runs.totalCount).toBe(6);
  }, 90_000);

  it('records an order that ran out of deliveries as an INFRASTRUCTURE error, never a silent drop', async () => {
    const job = await giveUpOneOrder(h, 'sim-giveup');
    expect(job.runs.edges[0].node).toMatchObject({ status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'MaxDeliveriesExceeded' });
    expect(job.runs.edges[0].node.exceptionMessage).toMatch(/delivered 1 times and no runner finished it/);
  }, 60_000);
});
