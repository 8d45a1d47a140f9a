import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { CREATE_JOB as CREATE, type JobHarness } from './support/jobs.js';
import { usePlatformWithRunners } from './support/platform.js';

let api: TestApp;
let h: JobHarness;

usePlatformWithRunners((p) => ({ api, h } = p));

describe('jobs end to end with runner processes and the Harbor simulator', () => {
  it('runs 3 tasks × 5 attempts on 2 runners with 2 slots each, records every outcome, never exceeds a slot', async () => {
    const pass = await h.simulatedTask('sim-pass', { HARBOR_SIM_SCENARIO: 'pass' });
    const fail = await h.simulatedTask('sim-fail', { HARBOR_SIM_SCENARIO: 'fail' });
    const infra = await h.simulatedTask('sim-infra', { HARBOR_SIM_SCENARIO: 'infra-error' });
    const r1 = h.startRunner('runner-a', 2);
    const r2 = h.startRunner('runner-b', 2);
    await Promise.all([r1.waitFor(/ready/), r2.waitFor(/ready/)]);

    const created = await graphql(api.url, CREATE, {
      input: { taskIds: [pass, fail, infra], agent: 'terminus-2', model: 'openrouter/anthropic/claude-sonnet-4', runsPerTask: 5 },
    });
    expect(created.data.createJob.__typename).toBe('MutationCreateJobSuccess');
    const jobId = created.data.createJob.data.id;
    expect(created.data.createJob.data).toMatchObject({ status: 'QUEUED', runsTotal: 15, runsQueued: 15 });

    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    expect(job).toMatchObject({ runsTotal: 15, runsQueued: 0, runsClaimed: 0, runsRunning: 0, runsPassed: 5, runsFailed: 5, runsErrored: 5 });
    const runs = job.runs.edges.map((e: any) => e.node);
    for (const run of runs) {
      const expected = { 'sim-pass': ['PASSED', 1, null], 'sim-fail': ['FAILED', 0, null], 'sim-infra': ['ERRORED', null, 'INFRASTRUCTURE'] }[
        run.task.name as 'sim-pass'
      ];
      expect([run.status, run.reward, run.failureKind]).toEqual(expected);
      expect(['runner-a', 'runner-b']).toContain(run.runnerId);
      expect(run.harborTrialDir).toMatch(/^run-[0-9a-f-]+-p1-d1\/sim-[a-z]+__[2-9A-HJ-NP-Za-km-z]{7}$/);
    }
    expect(job.inputTokens).toBeGreaterThan(0);

    // The simulator's ledger: at no moment did one runner hold more trials than its slots.
    const events = (await readFile(h.ledger, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([kind, name, at]) => ({ kind, name: name!, at: Number(at) }));
    expect(events.filter((e) => e.kind === 'start')).toHaveLength(15);
    const runnerOf = new Map(runs.map((r: any) => [r.harborTrialDir.split('/')[0], r.runnerId]));
    for (const runnerId of ['runner-a', 'runner-b']) {
      let running = 0;
      let peak = 0;
      for (const e of events.filter((e) => runnerOf.get(e.name) === runnerId).sort((a, b) => a.at - b.at || (a.kind === 'end' ? -1 : 1))) {
        running += e.kind === 'start' ? 1 : -1;
        peak = Math.max(peak, running);
      }
      expect(peak, runnerId).toBeLessThanOrEqual(2);
    }
  }, 120_000);

  it('names what is wrong with a launch', async () => {
    const bad = await graphql(api.url, CREATE, { input: { taskIds: [], agent: 'terminus', runsPerTask: 1 } });
    expect(bad.data.createJob).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
    expect(bad.data.createJob.message).toMatch(/agent "terminus" is not one of Harbor's agents/);
    const tooMany = await graphql(api.url, CREATE, { input: { taskFilter: {}, agent: 'oracle', runsPerTask: 101 } });
    expect(tooMany.data.createJob.message).toBe('runsPerTask must be a whole number from 1 to 100, got 101');
  });

  it('cancels a job: queued runs never start, running ones end CANCELLED and their Harbor processes are gone', async () => {
    const hang = await h.simulatedTask('sim-hang', { HARBOR_SIM_SCENARIO: 'hang', HARBOR_SIM_CANCEL_DELAY_MS: '200' });
    const created = await graphql(api.url, CREATE, { input: { taskIds: [hang], agent: 'oracle', runsPerTask: 8 } });
    const jobId = created.data.createJob.data.id;
    await h.waitForJob(jobId, (j) => j.runsRunning === 4, 30_000);

    const cancelled = await graphql(api.url, `mutation($id: ID!) { cancelJob(id: $id) { __typename ... on MutationCancelJobSuccess { data { status } } } }`, { id: jobId });
    expect(cancelled.data.cancelJob.data.status).toMatch(/CANCELLING|CANCELLED/);
    const job = await h.waitForJob(jobId, (j) => j.status === 'CANCELLED', 20_000);
    expect(job).toMatchObject({ runsCancelled: 8, runsQueued: 0, runsRunning: 0, runsPassed: 0 });
    const stoppedWhileRunning = job.runs.edges.filter((e: any) => e.node.harborTrialDir !== null);
    expect(stoppedWhileRunning.length).toBeGreaterThanOrEqual(4);
    for (const e of stoppedWhileRunning) expect(e.node.exceptionType).toBe('CancelledError');
    // Every simulator process that started has ended.
    const lines = (await readFile(h.ledger, 'utf8')).trim().split('\n');
    const starts = new Set(lines.filter((l) => l.startsWith('start')).map((l) => l.split(' ')[1]));
    const ends = new Set(lines.filter((l) => l.startsWith('end')).map((l) => l.split(' ')[1]));
    expect([...starts].filter((s) => !ends.has(s))).toEqual([]);
  }, 60_000);

  it('redelivers the orders of a runner killed mid-trial, so every run still completes once', async () => {
    const slow = await h.simulatedTask('sim-slow', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '600' });
    // A short ack wait so redelivery happens within the test.
    const doomed = h.startRunner('runner-doomed', 2, { RUNNER_ACK_WAIT_MS: '3000' });
    await doomed.waitFor(/ready/);
    const created = await graphql(api.url, CREATE, { input: { taskIds: [slow], agent: 'oracle', runsPerTask: 4 } });
    const jobId = created.data.createJob.data.id;
    await h.waitForJob(jobId, (j) => j.runs.edges.some((e: any) => e.node.runnerId === 'runner-doomed' && e.node.status === 'RUNNING'), 30_000);
    doomed.child.kill('SIGKILL');

    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 60_000);
    expect(job).toMatchObject({ runsTotal: 4, runsPassed: 4 });
    expect(job.runs.edges.some((e: any) => e.node.deliveryCount > 1)).toBe(true);
  }, 90_000);

  it('terminates a malformed order and keeps serving', async () => {
    const { jetstream } = await import('@nats-io/jetstream');
    const js = jetstream(api.nats.nc);
    await js.publish(api.nats.topology.runOrder('bogus', 'bogus', 'docker'), new TextEncoder().encode('{"v":1,"runId":"x"}'));
    const live = h.runners.filter((r) => r.child.exitCode === null && r.child.signalCode === null);
    await Promise.any(live.map((r) => r.waitFor(/dropped order .*bogus.* is malformed/, 20_000)));

    const pass = await h.simulatedTask('sim-after', { HARBOR_SIM_SCENARIO: 'pass' });
    const created = await graphql(api.url, CREATE, { input: { taskIds: [pass], agent: 'oracle', runsPerTask: 1 } });
    await h.waitForJob(created.data.createJob.data.id, (j) => j.status === 'COMPLETED', 30_000);
  }, 60_000);
});

describe('createJob with an idempotency key, over GraphQL', () => {
  it('answers concurrent launches with one key with the same job', async () => {
    const bare = await startTestApp();
    try {
      const task = (await bare.database.db.task.create({ data: { contentHash: 'e'.repeat(64), name: 't', instruction: 'x', sizeBytes: 1n, fileCount: 1 } })).id;
      const input = { taskIds: [task], agent: 'oracle', runsPerTask: 2, idempotencyKey: 'notebook-cell-7' };
      const answers = await Promise.all([1, 2, 3].map(() => graphql(bare.url, CREATE, { input })));
      expect(answers.map((a) => a.data.createJob.__typename)).toEqual(Array(3).fill('MutationCreateJobSuccess'));
      expect(new Set(answers.map((a) => a.data.createJob.data.id)).size).toBe(1);
      expect(await bare.database.db.job.count()).toBe(1);
      const tooLong = await graphql(bare.url, CREATE, { input: { ...input, idempotencyKey: 'k'.repeat(201) } });
      expect(tooLong.data.createJob).toMatchObject({ __typename: 'InvalidInputError', message: 'idempotencyKey must be 1 to 200 characters, got 201' });
    } finally {
      await bare.close();
    }
  });
});
