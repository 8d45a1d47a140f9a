// Leaderboard figures are reused only while no run was written: a read right after a trial is
// recorded sees it, and reads in between compute nothing.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import type { Db } from '../db/client.js';
import { transition } from '../runs/lifecycle.js';
import { cachedByRuns, MAX_CACHED } from './cache.js';
import { leaderboard } from './service.js';

let database: TestDatabase & { db: Db };
let db: Db;
let versionId: string;
let jobId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  const tasks = await Promise.all(
    ['t1', 't2'].map((name) => db.task.create({ data: { contentHash: randomBytes(32).toString('hex'), name, instruction: 'x', sizeBytes: 1n, fileCount: 1 } })),
  );
  const dataset = await db.dataset.create({ data: { name: 'cached' } });
  versionId = (
    await db.datasetVersion.create({
      data: { datasetId: dataset.id, version: '1', source: 'MANUAL', taskCount: 2, tasks: { create: tasks.map((t) => ({ taskId: t.id, name: t.name })) } },
    })
  ).id;
  // A launch writes its runs and the job's counters together (jobs/launch.ts).
  jobId = (
    await db.job.create({
      data: {
        name: 'cached job', agent: 'terminus-2', model: 'openrouter/vendor/m', runsPerTask: 1, status: 'RUNNING', runsTotal: 2, runsRunning: 2,
        runs: { create: tasks.map((t) => ({ taskId: t.id, repeat: 1, status: 'RUNNING' as const, agentVersion: '2.0.0' })) },
      },
    })
  ).id;
});

afterAll(async () => {
  await database?.drop();
});

describe('cachedByRuns', () => {
  it('computes once while nothing is written, shares a computation in flight, and forgets a failure', async () => {
    let computed = 0;
    const compute = async () => ++computed;
    const [first, second] = await Promise.all([cachedByRuns(db, 'k', compute), cachedByRuns(db, 'k', compute)]);
    expect([first, second, computed]).toEqual([1, 1, 1]);
    expect(await cachedByRuns(db, 'k', compute)).toBe(1);

    await expect(cachedByRuns(db, 'failing', () => Promise.reject(new Error('database went away')))).rejects.toThrow('database went away');
    expect(await cachedByRuns(db, 'failing', compute)).toBe(2);
  });

  it('keeps at most MAX_CACHED entries, dropping the least recently used', async () => {
    let computed = 0;
    const compute = async () => ++computed;
    for (let i = 0; i <= MAX_CACHED; i++) await cachedByRuns(db, `lru-${i}`, compute);
    expect(computed).toBe(MAX_CACHED + 1);
    await cachedByRuns(db, `lru-${MAX_CACHED}`, compute);
    expect(computed).toBe(MAX_CACHED + 1);
    await cachedByRuns(db, 'lru-0', compute);
    expect(computed).toBe(MAX_CACHED + 2);
  });
});

describe('a cached leaderboard', () => {
  it('shows a trial recorded right before the read, without waiting for any notification', async () => {
    const before = await leaderboard(db, versionId);
    expect(before.rows.map((r) => [r.trials, r.unfinished])).toEqual([[0, 2]]);
    expect(await leaderboard(db, versionId)).toMatchObject({ rows: [{ trials: 0, unfinished: 2 }] });

    // The recorder's write: the run's outcome and its job's counters in one transaction.
    const run = await db.run.findFirstOrThrow({ where: { jobId }, orderBy: { taskId: 'asc' } });
    await db.$transaction((tx) => transition(tx, { id: run.id, jobId, status: 'RUNNING' }, 'PASSED', { reward: 1, finishedAt: new Date() }));

    const after = await leaderboard(db, versionId);
    expect(after.rows.map((r) => [r.trials, r.passed, r.unfinished, r.accuracy])).toEqual([[1, 1, 1, 1]]);
  });
});
