// Fault: the API process is killed (SIGKILL) during createJob of 2,000 runs. A job is written whole
// or not at all, and every run written reaches RUNS exactly once, through the dispatcher of the
// restarted process (the outbox). No runner: the orders stay in RUNS to be counted.
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from 'runner/test-support';
import { graphql } from '../support/app.js';
import { countFaults, startFaultRig, type FaultRig } from '../support/faults.js';
import { CREATE_JOB } from '../support/jobs.js';
import { ordersInRuns } from '../support/nats.js';

const TASKS = 20;
const RUNS_PER_TASK = 100;
const RUNS = TASKS * RUNS_PER_TASK;

let rig: FaultRig;
let taskIds: string[];

beforeAll(async () => {
  rig = await startFaultRig();
  // The dispatcher reads only the task rows; no runner opens the packages.
  taskIds = await Promise.all(
    Array.from({ length: TASKS }, async (_, i) => {
      const task = await rig.database.db.task.create({
        data: { contentHash: i.toString(16).padStart(64, '0'), name: `kill-${i}`, instruction: 'x', sizeBytes: 1n, fileCount: 1 },
      });
      return task.id;
    }),
  );
});
afterAll(() => rig?.close());

const input = () => ({ taskIds, agent: 'oracle', runsPerTask: RUNS_PER_TASK });

/** Jobs whose runs are not all there: the partial state a crash must never leave. */
async function partialJobs(): Promise<{ id: string; runsTotal: number; runs: number }[]> {
  const jobs = await rig.database.db.job.findMany({ select: { id: true, runsTotal: true, _count: { select: { runs: true } } } });
  return jobs.filter((j) => j.runsTotal !== RUNS || j._count.runs !== RUNS).map((j) => ({ id: j.id, runsTotal: j.runsTotal, runs: j._count.runs }));
}

async function ordersInStream(): Promise<number> {
  const jsm = await jetstreamManager(rig.client);
  return (await jsm.streams.info(rig.topology.streams.runs.name)).state.messages;
}

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: rig.database.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Backends of the API inserting the runs of a job, and whether they wait on a lock. */
const runInserts = (client: pg.Client) =>
  client
    .query<{ waiting: boolean }>(
      `SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%INSERT INTO "Run"%'`,
    )
    .then((r) => r.rows);

describe('API killed during createJob of 2,000 runs', () => {
  it('leaves no job when killed inside the transaction', async () => {
    // Holding a lock the run insert needs keeps the transaction open until the process is killed.
    const lock = new pg.Client({ connectionString: rig.database.url });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE "Run" IN EXCLUSIVE MODE');
      const request = graphql(rig.url, CREATE_JOB, { input: input() }).catch((error: Error) => error);
      await withClient((watcher) =>
        waitFor(async () => (await runInserts(watcher)).some((b) => b.waiting), { what: 'the run insert to wait on the lock' }),
      );
      await rig.api.kill('SIGKILL');
      expect(await request).toBeInstanceOf(Error);
      await lock.query('ROLLBACK');
    } finally {
      await lock.end();
    }
    // The orphaned backend finishes its statement, finds its client gone and rolls back.
    await withClient((watcher) => waitFor(async () => (await runInserts(watcher)).length === 0, { what: 'the orphaned insert to end' }));
    await rig.api.start();

    expect(await rig.database.db.job.count()).toBe(0);
    expect(await rig.database.db.run.count()).toBe(0);
    expect(await ordersInStream()).toBe(0);
  }, 120_000);

  it('dispatches every run exactly once when killed right after createJob returns', async () => {
    const { data } = await graphql(rig.url, CREATE_JOB, { input: input() });
    expect(data.createJob.__typename).toBe('MutationCreateJobSuccess');
    const jobId: string = data.createJob.data.id;
    // The dispatcher is publishing the first batches now.
    await rig.api.kill('SIGKILL');
    await rig.api.start();

    expect(await partialJobs()).toEqual([]);
    await waitFor(async () => (await rig.database.db.run.count({ where: { jobId, dispatchedAt: null } })) === 0, {
      timeoutMs: 60_000,
      what: 'every run to be stamped dispatched',
    });
    const orders = await ordersInRuns(rig.client, rig.topology, jobId);
    const runs = await rig.database.db.run.findMany({ where: { jobId }, select: { id: true, status: true } });
    expect(runs.filter((r) => r.status !== 'QUEUED')).toEqual([]);
    // One order per run written, none twice, none for anything else.
    expect(Object.keys(orders).sort()).toEqual(runs.map((r) => rig.topology.runOrder(jobId, r.id, 'docker')).sort());
    expect(Object.entries(orders).filter(([, n]) => n !== 1)).toEqual([]);
    expect(await ordersInStream()).toBe(RUNS);
    // Counters agree with the runs; nothing ran.
    const counts = await countFaults(rig.database.db, rig.harness.ledger, jobId, RUNS);
    expect({ recordedTwice: counts.recordedTwice, trialsRunTwice: counts.trialsRunTwice }).toEqual({ recordedTwice: 0, trialsRunTwice: 0 });
  }, 120_000);
});
