import type { RunEvent, RunResult } from 'runner/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import type { Db } from '../db/client.js';
import { createJob } from './launch.js';
import { applyEvent } from './recorder.js';

let database: TestDatabase & { db: Db };
let db: Db;
let jobId: string;
let runIds: string[];

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database?.drop());

beforeEach(async () => {
  const task = await db.task.create({
    data: { contentHash: Math.random().toString(16).slice(2).padEnd(64, '0'), name: 'rec', instruction: 'x', sizeBytes: 1n, fileCount: 1 },
  });
  ({ id: jobId } = await createJob({ db, secretsKey: null }, { taskIds: [task.id], agent: 'oracle', runsPerTask: 2 }));
  runIds = (await db.run.findMany({ where: { jobId }, orderBy: { repeat: 'asc' } })).map((r) => r.id);
});

const result = (status: RunResult['status'], extra: Partial<RunResult> = {}): RunResult => ({
  status,
  reward: status === 'PASSED' ? 1 : 0,
  rewards: { reward: status === 'PASSED' ? 1 : 0 },
  exceptionType: null,
  exceptionMessage: null,
  failureKind: null,
  inputTokens: 100,
  cacheTokens: 10,
  outputTokens: 20,
  costUsd: 0.5,
  environmentSetupMs: 1,
  agentSetupMs: 2,
  agentExecutionMs: 3,
  verifierMs: 4,
  trialDir: 'run-x/t__abc',
  ...extra,
});

function event(
  runId: string,
  type: 'claimed' | 'started' | 'finished' | 'dropped' | 'released',
  deliveryCount = 1,
  res?: RunResult,
  dispatch = 1,
): RunEvent {
  const base = { v: 1 as const, runId, jobId, runnerId: 'r1', dispatch, deliveryCount, at: new Date().toISOString() };
  if (type === 'finished') return { ...base, type, result: res ?? result('PASSED') };
  if (type === 'started') return { ...base, type, trialDir: 'run-x/t__abc' };
  if (type === 'dropped') return { ...base, type, reason: 'cancelled' };
  if (type === 'released') return { ...base, type, reason: 'shutdown', message: 'the runner is shutting down' };
  return { ...base, type };
}

const counters = () =>
  db.job.findUniqueOrThrow({
    where: { id: jobId },
    select: {
      status: true,
      runsQueued: true,
      runsClaimed: true,
      runsRunning: true,
      runsPassed: true,
      runsFailed: true,
      runsCancelled: true,
      inputTokens: true,
      costUsd: true,
    },
  });

describe('applyEvent', () => {
  it('moves a run through its life and the job counters with it, exactly once per event', async () => {
    expect((await applyEvent(db, event(runIds[0]!, 'claimed'), 1)).applied?.status).toBe('CLAIMED');
    expect(await counters()).toMatchObject({ status: 'RUNNING', runsQueued: 1, runsClaimed: 1 });
    // The same event delivered again (same stream sequence) changes nothing.
    expect((await applyEvent(db, event(runIds[0]!, 'claimed'), 1)).applied).toBeNull();
    await applyEvent(db, event(runIds[0]!, 'started'), 2);
    await applyEvent(db, event(runIds[0]!, 'finished'), 3);
    expect((await applyEvent(db, event(runIds[0]!, 'finished'), 3)).applied).toBeNull();
    expect(await counters()).toMatchObject({ status: 'RUNNING', runsQueued: 1, runsClaimed: 0, runsRunning: 0, runsPassed: 1, inputTokens: 100n });

    await applyEvent(db, event(runIds[1]!, 'claimed'), 4);
    await applyEvent(db, event(runIds[1]!, 'finished', 1, result('FAILED')), 5);
    const done = await counters();
    expect(done).toMatchObject({ status: 'COMPLETED', runsQueued: 0, runsPassed: 1, runsFailed: 1, inputTokens: 200n });
    expect(Number(done.costUsd)).toBe(1);
  });

  it('ignores events that arrive out of order, from an older delivery, or after the end', async () => {
    const run = runIds[0]!;
    await applyEvent(db, event(run, 'started'), 10);
    // A claim that arrives after the start (same delivery) does not move it back.
    expect((await applyEvent(db, event(run, 'claimed'), 11)).applied).toBeNull();
    // The order was redelivered to another runner: its claim restarts the run's life.
    expect((await applyEvent(db, event(run, 'claimed', 2), 12)).applied?.status).toBe('CLAIMED');
    // The first runner's late start is from an older delivery.
    expect((await applyEvent(db, event(run, 'started', 1), 13)).applied).toBeNull();
    await applyEvent(db, event(run, 'finished', 2, result('FAILED')), 14);
    // After the end, a straggler is ignored — and a live one is told to stop.
    const late = await applyEvent(db, event(run, 'started', 3), 15);
    expect(late).toEqual({ applied: null, stop: true });
    // The first delivery's outcome, arriving after the second's, changes nothing either.
    expect(await applyEvent(db, event(run, 'finished', 1, result('PASSED')), 16)).toMatchObject({ applied: null, stop: false });
    const row = await db.run.findUniqueOrThrow({ where: { id: run } });
    expect(row).toMatchObject({ status: 'FAILED', deliveryCount: 2, lastEventSeq: 14n });
    expect(await counters()).toMatchObject({ runsQueued: 1, runsClaimed: 0, runsRunning: 0, runsFailed: 1, runsPassed: 0 });
  });

  it('ignores an event for a run of another job or no run at all', async () => {
    const stranger = { ...event(runIds[0]!, 'claimed'), jobId: '00000000-0000-4000-8000-000000000000' };
    expect((await applyEvent(db, stranger, 20)).applied).toBeNull();
    expect((await applyEvent(db, event('00000000-0000-4000-8000-000000000001', 'finished'), 21)).applied).toBeNull();
    expect(await counters()).toMatchObject({ runsQueued: 2 });
  });

  it('records a dropped order as CANCELLED, and a released one back in the queue for its next delivery', async () => {
    const [dropped, released] = [runIds[0]!, runIds[1]!];
    expect((await applyEvent(db, event(dropped, 'dropped'), 30)).applied?.status).toBe('CANCELLED');
    expect(await db.run.findUniqueOrThrow({ where: { id: dropped } })).toMatchObject({ status: 'CANCELLED', exceptionType: 'CancelledError' });

    await applyEvent(db, event(released, 'claimed'), 31);
    await applyEvent(db, event(released, 'started'), 32);
    expect((await applyEvent(db, event(released, 'released'), 33)).applied?.status).toBe('QUEUED');
    expect(await db.run.findUniqueOrThrow({ where: { id: released } })).toMatchObject({ status: 'QUEUED', runnerId: null, startedAt: null });
    expect(await counters()).toMatchObject({ runsQueued: 1, runsClaimed: 0, runsRunning: 0, runsCancelled: 1 });
    // The redelivered order's claim takes it out of the queue again.
    expect((await applyEvent(db, event(released, 'claimed', 2), 35)).applied?.status).toBe('CLAIMED');
    // A drop after the end changes nothing.
    expect((await applyEvent(db, event(dropped, 'dropped', 2), 36)).applied).toBeNull();
  });

  it("keeps an older delivery's finished trial while the newer delivery runs: the newer is stopped and its outcome dropped", async () => {
    const run = runIds[0]!;
    await applyEvent(db, event(run, 'claimed', 1), 50);
    await applyEvent(db, event(run, 'started', 1), 51);
    // The order was redelivered while the first copy was still finishing; the second copy runs.
    await applyEvent(db, { ...event(run, 'claimed', 2), runnerId: 'r2' }, 52);
    await applyEvent(db, { ...event(run, 'started', 2), runnerId: 'r2' }, 53);
    expect(await counters()).toMatchObject({ runsQueued: 1, runsRunning: 1 });

    // The first copy's trial ran to the end: its outcome is the run's, and the runner of the second is told to stop.
    const kept = await applyEvent(db, event(run, 'finished', 1, result('PASSED')), 54);
    expect(kept).toMatchObject({ applied: { runId: run, status: 'PASSED' }, stop: true });
    expect(await db.run.findUniqueOrThrow({ where: { id: run } })).toMatchObject({
      status: 'PASSED',
      runnerId: 'r1',
      deliveryCount: 1,
      reward: 1,
      lastEventSeq: 54n,
    });
    // The same event again (redelivered from EVENTS) changes nothing.
    expect((await applyEvent(db, event(run, 'finished', 1, result('PASSED')), 54)).applied).toBeNull();

    // The second copy, stopped, reports CANCELLED (or, had it raced to the end, a result): dropped, counted never.
    const cut = { ...event(run, 'finished', 2, result('CANCELLED', { costUsd: 0.25, inputTokens: 7 })), runnerId: 'r2' };
    expect(await applyEvent(db, cut, 55)).toEqual({ applied: null, stop: false });
    expect(await counters()).toMatchObject({ runsQueued: 1, runsClaimed: 0, runsRunning: 0, runsPassed: 1, runsCancelled: 0, inputTokens: 100n });
    expect(Number((await counters()).costUsd)).toBe(0.5);
  });

  it('orders deliveries by dispatch first: a re-published order outranks every delivery of the one it replaced', async () => {
    const run = runIds[0]!;
    await applyEvent(db, event(run, 'claimed', 3, undefined, 1), 40);
    // The reconciler re-published the order (dispatch 2): its first delivery restarts the run's life.
    expect((await applyEvent(db, event(run, 'claimed', 1, undefined, 2), 41)).applied?.status).toBe('CLAIMED');
    // The first dispatch's copy, still finishing somewhere, is stale whatever its delivery count.
    expect((await applyEvent(db, event(run, 'started', 4, undefined, 1), 42)).applied).toBeNull();
    await applyEvent(db, event(run, 'started', 1, undefined, 2), 43);
    expect((await applyEvent(db, event(run, 'finished', 1, result('FAILED'), 2), 44)).applied?.status).toBe('FAILED');
    expect(await db.run.findUniqueOrThrow({ where: { id: run } })).toMatchObject({ status: 'FAILED', dispatch: 2, deliveryCount: 1 });
    expect(await counters()).toMatchObject({ runsQueued: 1, runsClaimed: 0, runsRunning: 0, runsPassed: 0, runsFailed: 1 });
  });
});
