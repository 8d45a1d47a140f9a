import type { RunEvent, RunResult } from 'runner/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import type { Db } from '../db/client.js';
import { budgetMessage, usd } from './budget.js';
import { createJob } from './launch.js';
import { applyEvent } from './recorder.js';

let database: TestDatabase & { db: Db };
let db: Db;
let seq = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database?.drop());

async function jobWithBudget(runsPerTask: number, budgetUsd: number) {
  const task = await db.task.create({
    data: { contentHash: Math.random().toString(16).slice(2).padEnd(64, '0'), name: 'budget', instruction: 'x', sizeBytes: 1n, fileCount: 1 },
  });
  const { id } = await createJob({ db, secretsKey: null }, { taskIds: [task.id], agent: 'oracle', runsPerTask, budgetUsd });
  const runIds = (await db.run.findMany({ where: { jobId: id }, orderBy: { repeat: 'asc' } })).map((r) => r.id);
  return { jobId: id, runIds };
}

const result = (costUsd: number): RunResult => ({
  status: 'PASSED',
  reward: 1,
  rewards: { reward: 1 },
  exceptionType: null,
  exceptionMessage: null,
  failureKind: null,
  inputTokens: 100,
  cacheTokens: 0,
  outputTokens: 20,
  costUsd,
  environmentSetupMs: 1,
  agentSetupMs: 2,
  agentExecutionMs: 3,
  verifierMs: 4,
  trialDir: 'run-x/t__abc',
});

function event(jobId: string, runId: string, type: 'claimed' | 'started' | 'finished', deliveryCount = 1, costUsd = 0.02): RunEvent {
  const base = { v: 1 as const, runId, jobId, runnerId: 'r1', dispatch: 1, deliveryCount, at: new Date().toISOString() };
  if (type === 'finished') return { ...base, type, result: result(costUsd) };
  if (type === 'started') return { ...base, type, trialDir: 'run-x/t__abc' };
  return { ...base, type };
}

const apply = (e: RunEvent) => applyEvent(db, e, ++seq);

describe('budget', () => {
  it('says the stop in words', () => {
    expect(budgetMessage(5.02, 5)).toBe('stopped: recorded cost $5.02 reached the budget of $5.00');
    expect(usd(0.0125)).toBe('0.0125');
    expect(usd(1234.5)).toBe('1234.50');
  });

  it('stops the job once, in the transaction that records the cost that reaches the budget', async () => {
    const { jobId, runIds } = await jobWithBudget(4, 0.03);
    const [a, b, c] = runIds as [string, string, string];
    for (const run of [a, b]) {
      await apply(event(jobId, run, 'claimed'));
      await apply(event(jobId, run, 'started'));
    }
    const first = await apply(event(jobId, a, 'finished'));
    expect(first.budgetReached).toBe(false);
    const second = await apply(event(jobId, b, 'finished'));
    expect(second.budgetReached).toBe(true);
    let job = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job).toMatchObject({ status: 'CANCELLING', stopReason: 'BUDGET_REACHED', stopMessage: 'stopped: recorded cost $0.04 reached the budget of $0.03' });

    // The same event again (a redelivery to the recorder) changes nothing and stops nothing twice.
    expect((await applyEvent(db, event(jobId, b, 'finished'), seq)).budgetReached ?? false).toBe(false);

    // A claim recorded after the stop is cancelled and its runner told to stop.
    const claim = await apply(event(jobId, c, 'claimed'));
    expect(claim).toMatchObject({ applied: { status: 'CANCELLED' }, stop: true });
    const run = await db.run.findUniqueOrThrow({ where: { id: c } });
    expect(run).toMatchObject({ status: 'CANCELLED', exceptionType: 'CancelledError', exceptionMessage: "not started: the job's budget was reached" });
    job = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job).toMatchObject({ runsPassed: 2, runsCancelled: 1, runsQueued: 1, status: 'CANCELLING' });
  });

  it('lets a run claimed before the stop finish, but cancels a new delivery of it', async () => {
    const { jobId, runIds } = await jobWithBudget(3, 0.01);
    const [a, b, c] = runIds as [string, string, string];
    await apply(event(jobId, a, 'claimed'));
    await apply(event(jobId, b, 'claimed'));
    await apply(event(jobId, c, 'claimed'));
    await apply(event(jobId, a, 'started'));
    expect((await apply(event(jobId, a, 'finished'))).budgetReached).toBe(false); // nothing is queued: nothing to stop
    const job = await db.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job.stopReason).toBeNull();

    const { jobId: j2, runIds: r2 } = await jobWithBudget(3, 0.01);
    const [x, y, z] = r2 as [string, string, string];
    await apply(event(j2, x, 'claimed'));
    await apply(event(j2, y, 'claimed'));
    expect((await apply(event(j2, x, 'finished'))).budgetReached).toBe(true);
    // y was claimed before the stop: its start is recorded as usual.
    expect(await apply(event(j2, y, 'started'))).toMatchObject({ applied: { status: 'RUNNING' }, stop: false });
    // Its runner died and the order came back: that new start is refused.
    expect(await apply(event(j2, y, 'claimed', 2))).toMatchObject({ applied: { status: 'CANCELLED' }, stop: true });
    expect(await apply(event(j2, z, 'claimed'))).toMatchObject({ applied: { status: 'CANCELLED' }, stop: true });
    expect(await db.job.findUniqueOrThrow({ where: { id: j2 } })).toMatchObject({ status: 'CANCELLED', runsPassed: 1, runsCancelled: 2 });
  });
});
