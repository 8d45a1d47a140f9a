// The reconciler and cancel under faults, on a nats-server of this file's own (stopped and restarted
// on the same port and store), with runners as processes driving the Harbor simulator.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { decode, ensureConsumer, logChunkSchema, openCancellations, runnersConsumerConfig } from 'runner/protocol';
import { waitFor } from 'runner/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startReconciler } from '../src/jobs/reconciler.js';
import { startServices } from '../src/services.js';
import { startEmbeddedNats, type EmbeddedNats } from '../src/platform/embedded-nats.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { jobHarness, type JobHarness } from './support/jobs.js';

/** Short, so overdue orders (two ack waits) and silent runners (one) show within a test. */
const ACK_WAIT_MS = 2_000;
const RUNNER_ENV = { RUNNER_ACK_WAIT_MS: String(ACK_WAIT_MS) };
const FINAL = ['PASSED', 'FAILED', 'ERRORED', 'CANCELLED'];

let natsDir: string;
let nats: EmbeddedNats;
let port: number;
let api: TestApp;
let h: JobHarness;
let jsm: JetStreamManager;

beforeAll(async () => {
  natsDir = await mkdtemp(path.join(os.tmpdir(), 'thr-reconciler-nats-'));
  nats = await startEmbeddedNats(natsDir);
  port = Number(new URL(nats.url).port);
  api = await startTestApp({ services: true, natsUrl: nats.url, reconcileIntervalMs: 250 });
  h = await jobHarness(api);
  jsm = await jetstreamManager(api.nats.nc);
  // As a runner with RUNNER_ACK_WAIT_MS would: the reconciler takes its bounds from this consumer.
  await ensureConsumer(jsm, api.nats.topology.streams.runs.name, runnersConsumerConfig(api.nats.topology, { ackWaitMs: ACK_WAIT_MS, maxDeliver: 3 }, 'docker'));
}, 60_000);
afterAll(async () => {
  await h?.close();
  await api?.close();
  await nats?.stop();
  await rm(natsDir, { recursive: true, force: true });
});
afterEach(() => h.killRunners());

const until = <T>(what: string, probe: () => Promise<T>, timeoutMs = 60_000) => waitFor(probe, { what, timeoutMs, intervalMs: 150 });

const dispatched = (jobId: string, count: number) =>
  until(`${count} runs of ${jobId} dispatched`, async () => (await api.database.db.run.count({ where: { jobId, dispatchedAt: { not: null } } })) >= count);

/** Removes a run's order from RUNS, as an ack of an older copy, or a lost message, would. */
async function loseOrder(jobId: string, runId: string): Promise<void> {
  const stored = await jsm.streams.getMessage(api.nats.topology.streams.runs.name, { last_by_subj: api.nats.topology.runOrder(jobId, runId, 'docker') });
  expect(stored).not.toBeNull();
  await jsm.streams.deleteMessage(api.nats.topology.streams.runs.name, stored!.seq);
}

async function startsByRun(): Promise<Map<string, number>> {
  const text = await readFile(h.ledger, 'utf8').catch(() => '');
  const starts = new Map<string, number>();
  for (const line of text.split('\n').filter((l) => l.startsWith('start '))) {
    const runId = /run-([0-9a-f-]{36})/.exec(line)?.[1];
    if (runId) starts.set(runId, (starts.get(runId) ?? 0) + 1);
  }
  return starts;
}

/** The platform's lines in a run's log (this file's LOGS stream is small: read it message by message). */
async function platformLines(runId: string): Promise<string[]> {
  const stream = api.nats.topology.streams.logs.name;
  const { state } = await jsm.streams.info(stream);
  const lines: string[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (m?.subject !== api.nats.topology.runLog(runId)) continue;
    lines.push(...decode(logChunkSchema, m.data, 'log').lines.filter((l) => l.source === 'platform').map((l) => l.text));
  }
  return lines;
}

async function settled(jobId: string) {
  const rows = await api.database.db.run.findMany({ where: { jobId }, select: { id: true, status: true, dispatch: true } });
  const starts = await startsByRun();
  return {
    rows,
    counts: {
      stuck: rows.filter((r) => !FINAL.includes(r.status)).length,
      lost: rows.filter((r) => r.status === 'PASSED' && !starts.has(r.id)).length,
      recordedTwice: rows.filter((r) => (starts.get(r.id) ?? 0) > 1).length,
    },
  };
}

describe('the reconciler', () => {
  it('re-publishes an order that vanished from RUNS, once, and the run completes', async () => {
    const task = await h.simulatedTask('sim-lost', { HARBOR_SIM_SCENARIO: 'pass' });
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
    await dispatched(jobId, 2);
    const [lost] = await api.database.db.run.findMany({ where: { jobId }, orderBy: { repeat: 'asc' } });
    await loseOrder(jobId, lost!.id);
    // A second replica's services on the same database: only one reconciler may act on the run.
    const twin = await startServices({ db: api.database.db, nats: api.nats.nc, topology: api.nats.topology, log: () => {}, reconcileIntervalMs: 250 });
    try {
      h.startRunner('runner-lost', 2, RUNNER_ENV);
      const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 60_000);
      expect(job).toMatchObject({ runsPassed: 2 });
    } finally {
      await twin.stop();
    }
    const { rows, counts } = await settled(jobId);
    expect(counts).toEqual({ stuck: 0, lost: 0, recordedTwice: 0 });
    expect(rows.find((r) => r.id === lost!.id)?.dispatch).toBe(2);
    expect(await platformLines(lost!.id)).toEqual([
      'reconciled: the order was no longer in the queue; dispatched again (dispatch 2 of at most 3)',
    ]);
  }, 90_000);

  it('requeues a run RUNNING on a runner that vanished with its order acked, and it completes', async () => {
    const task = await h.simulatedTask('sim-vanish', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '1500' });
    const doomed = h.startRunner('runner-vanishes', 1, RUNNER_ENV);
    await doomed.waitFor(/ready/);
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 1 });
    const job = await h.waitForJob(jobId, (j) => j.runsRunning === 1, 30_000);
    const runId = job.runs.edges[0].node.id;
    await h.killRunners();
    // Its heartbeat gone and its order acked: nothing JetStream would redeliver.
    await (await new Kvm(api.nats.nc).open(api.nats.topology.runnersBucket)).delete('runner-vanishes');
    await loseOrder(jobId, runId);
    h.startRunner('runner-takes-over', 1, RUNNER_ENV);

    const done = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 60_000);
    expect(done).toMatchObject({ runsPassed: 1 });
    const { rows, counts } = await settled(jobId);
    expect({ stuck: counts.stuck, lost: counts.lost }).toEqual({ stuck: 0, lost: 0 });
    expect(rows[0]).toMatchObject({ dispatch: 2 });
    expect(await platformLines(runId)).toEqual([
      'reconciled: runner runner-vanishes is gone and no delivery of the order is left; dispatched again (dispatch 2 of at most 3)',
    ]);
  }, 90_000);

  it('does nothing while another replica holds its lease, and takes it over once it lapses', async () => {
    const db = api.database.db;
    // This test plays both replicas: the app's own reconciler steps aside (it hands its lease back).
    await api.stopServices();
    await db.reconcilerLease.upsert({
      where: { id: 1 },
      create: { id: 1, holder: 'another-replica', until: new Date(Date.now() + 3_600_000) },
      update: { holder: 'another-replica', until: new Date(Date.now() + 3_600_000) },
    });
    const reconciler = startReconciler({ db, nats: api.nats.nc, topology: api.nats.topology, defaultSecrets: [], log: () => {}, intervalMs: 3_600_000 });
    try {
      expect(await reconciler.tick()).toEqual({ acted: false, redispatched: 0, cancelsCompleted: 0 });
      await db.reconcilerLease.update({ where: { id: 1 }, data: { until: new Date(Date.now() - 1_000) } });
      expect((await reconciler.tick()).acted).toBe(true);
      expect((await db.reconcilerLease.findUniqueOrThrow({ where: { id: 1 } })).holder).not.toBe('another-replica');
    } finally {
      await reconciler.stop();
      await api.startServices();
    }
  });
});

describe('cancel during a NATS outage', () => {
  it('answers that it completes later, cancels the queued runs, and finishes once NATS is back', async () => {
    const task = await h.simulatedTask('sim-outage', { HARBOR_SIM_SCENARIO: 'pass' });
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 6 });
    await dispatched(jobId, 6);
    await nats.stop();
    try {
      const { data, errors } = await graphql(
        api.url,
        `mutation($id: ID!) { cancelJob(id: $id) { __typename ... on MutationCancelJobSuccess { data { status runsCancelled cancelNote } } ... on Error { code message } } }`,
        { id: jobId },
      );
      expect(errors).toBeUndefined();
      expect(data.cancelJob.__typename).toBe('MutationCancelJobSuccess');
      expect(data.cancelJob.data).toMatchObject({ runsCancelled: 6 });
      expect(data.cancelJob.data.cancelNote).toMatch(/NATS was unreachable.*completes when NATS is back/);
    } finally {
      nats = await startEmbeddedNats(natsDir, 'nats-server', port);
    }
    // Back: the reconciler writes the cancellation records, so a runner drops every order unstarted.
    await until('the cancel completed', async () => (await api.database.db.job.findUnique({ where: { id: jobId } }))?.cancelsUnrecordedSince === null);
    const cancellations = await openCancellations(api.nats.nc, api.nats.topology);
    const rows = await api.database.db.run.findMany({ where: { jobId } });
    for (const run of rows) expect(await cancellations.find(run.id), run.id).toMatchObject({ reason: 'user' });
    h.startRunner('runner-after-outage', 2, RUNNER_ENV);
    await until('RUNS emptied by the runner', async () => (await jsm.streams.info(api.nats.topology.streams.runs.name)).state.messages === 0);
    const job = await h.waitForJob(jobId, (j) => j.status === 'CANCELLED');
    expect(job).toMatchObject({ runsCancelled: 6, runsQueued: 0, runsRunning: 0 });
    const starts = await startsByRun();
    expect(rows.filter((r) => starts.has(r.id)).length).toBe(0);
  }, 120_000);
});
