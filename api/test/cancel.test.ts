// Cancel on the shared test nats-server (2.9 here): it must never strand another job's orders, and
// orders taken while a cancel happens must end once, cancelled or finished, none left behind.
import { readFile } from 'node:fs/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { ensureConsumer, runnersConsumerConfig } from 'runner/protocol';
import { waitFor } from 'runner/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { graphql, type TestApp } from './support/app.js';
import { type JobHarness } from './support/jobs.js';
import { usePlatformWithRunners } from './support/platform.js';

let api: TestApp;
let h: JobHarness;

usePlatformWithRunners((p) => ({ api, h } = p));
afterEach(() => h.killRunners());

const CANCEL = `mutation($id: ID!) { cancelJob(id: $id) { __typename ... on MutationCancelJobSuccess { data { status cancelNote } } ... on Error { code message } } }`;
const FINAL = ['PASSED', 'FAILED', 'ERRORED', 'CANCELLED'];

/** Harbor starts per run id, from the simulator's ledger ("start run-<runId>-d<n> <ms>"). */
async function startsByRun(ledger: string): Promise<Map<string, number>> {
  const text = await readFile(ledger, 'utf8').catch(() => '');
  const starts = new Map<string, number>();
  for (const line of text.split('\n').filter((l) => l.startsWith('start '))) {
    const runId = /run-([0-9a-f-]{36})/.exec(line)?.[1];
    if (runId) starts.set(runId, (starts.get(runId) ?? 0) + 1);
  }
  return starts;
}

async function waitDispatched(jobId: string, count: number): Promise<void> {
  await waitFor(async () => (await api.database.db.run.count({ where: { jobId, dispatchedAt: { not: null } } })) >= count, {
    what: `${count} runs of job ${jobId} to be dispatched`,
    intervalMs: 100,
  });
}

describe('cancel', () => {
  it("of one job leaves another job's queued runs to run, and none of the cancelled runs starts", async () => {
    // The runners' consumer exists, as after any runner has started once (a purge moves it on 2.9).
    await ensureConsumer(await jetstreamManager(api.nats.nc), api.nats.topology.streams.runs.name, runnersConsumerConfig(api.nats.topology));
    const task = await h.simulatedTask('sim-cancel-x', { HARBOR_SIM_SCENARIO: 'pass' });
    const x = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 30 });
    const y = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
    await waitDispatched(x, 30);
    await waitDispatched(y, 2);

    const { data } = await graphql(api.url, CANCEL, { id: x });
    expect(data.cancelJob).toEqual({ __typename: 'MutationCancelJobSuccess', data: { status: 'CANCELLED', cancelNote: null } });
    h.startRunner('runner-after-cancel', 2);

    const done = await h.waitForJob(y, (j) => j.status === 'COMPLETED', 60_000);
    expect(done).toMatchObject({ runsTotal: 2, runsPassed: 2 });
    const cancelled = await h.waitForJob(x, (j) => j.status === 'CANCELLED');
    expect(cancelled).toMatchObject({ runsTotal: 30, runsCancelled: 30, runsQueued: 0, runsClaimed: 0, runsRunning: 0 });
    // The runner took X's orders and dropped them: RUNS empties, and Harbor never ran for X.
    const jsm = await jetstreamManager(api.nats.nc);
    await waitFor(async () => (await jsm.streams.info(api.nats.topology.streams.runs.name)).state.messages === 0, {
      what: 'the cancelled orders to leave RUNS',
      intervalMs: 200,
    });
    const starts = await startsByRun(h.ledger);
    const xRuns = cancelled.runs.edges.map((e: any) => e.node.id as string);
    const yRuns = done.runs.edges.map((e: any) => e.node.id as string);
    const counts = {
      ranCancelled: xRuns.filter((id: string) => starts.has(id)).length,
      lost: yRuns.filter((id: string) => !starts.has(id)).length,
      recordedTwice: [...starts.values()].filter((n) => n > 1).length,
    };
    expect(counts).toEqual({ ranCancelled: 0, lost: 0, recordedTwice: 0 });
  }, 120_000);

  it('while a runner is taking the job’s orders: every run ends once, cancelled or finished, nothing stuck', async () => {
    const task = await h.simulatedTask('sim-cancel-busy', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '150' });
    h.startRunner('runner-busy-a', 3);
    h.startRunner('runner-busy-b', 3);
    const x = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 40 });
    await h.waitForJob(x, (j) => j.runsPassed >= 2 && j.runsRunning + j.runsClaimed > 0, 60_000);
    const { data } = await graphql(api.url, CANCEL, { id: x });
    expect(data.cancelJob.__typename).toBe('MutationCancelJobSuccess');
    const job = await h.waitForJob(x, (j) => j.status === 'CANCELLED', 60_000);

    const rows = await api.database.db.run.findMany({ where: { jobId: x }, select: { id: true, status: true } });
    const starts = await startsByRun(h.ledger);
    const counts = {
      stuck: rows.filter((r) => !FINAL.includes(r.status)).length,
      recordedTwice: rows.filter((r) => (starts.get(r.id) ?? 0) > 1).length,
      // Every run that started Harbor either finished or was stopped; none ran unrecorded.
      unaccounted: rows.filter((r) => starts.has(r.id) && !['PASSED', 'CANCELLED'].includes(r.status)).length,
    };
    expect(counts).toEqual({ stuck: 0, recordedTwice: 0, unaccounted: 0 });
    expect(job.runsPassed + job.runsCancelled).toBe(40);
    expect(job.runsCancelled).toBeGreaterThan(0);

    // The runners go on serving other jobs.
    const y = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
    expect(await h.waitForJob(y, (j) => j.status === 'COMPLETED', 60_000)).toMatchObject({ runsPassed: 2 });
  }, 180_000);
});
