import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { createTestNats, type TestNats } from '../../test/support/nats.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { retryRuns } from '../jobs/control.js';
import { createJob } from '../jobs/launch.js';
import { InvalidInputError } from '../schema/errors.js';
import { QuotaExceededError, quotaHold, setUserQuota, userUsage } from './service.js';

let database: TestDatabase & { db: Db };
let db: Db;
let nats: TestNats;
let taskIds: string[];

beforeAll(async () => {
  [database, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  db = database.db;
  const tasks = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      db.task.create({
        data: { contentHash: `${i}`.padEnd(64, 'a'), name: `quota-${i}`, instruction: 'x', sizeBytes: 1n, fileCount: 1 },
        select: { id: true },
      }),
    ),
  );
  taskIds = tasks.map((t) => t.id);
});
afterAll(async () => {
  await nats?.cleanup();
  await database?.drop();
});

let users = 0;
async function user(quota: { maxActiveRuns?: number; monthlySpendCapUsd?: number } = {}) {
  return db.user.create({ data: { name: `quota-user-${++users}`, role: 'MEMBER', ...quota }, select: { id: true, name: true } });
}
const admin: Viewer = { userId: '00000000-0000-4000-8000-000000000001', name: 'root', role: 'ADMIN', via: 'token', credentialId: 'x' };

const launch = (createdById: string | null, tasks: number, runsPerTask: number) =>
  createJob({ db, secretsKey: null }, { taskIds: taskIds.slice(0, tasks), agent: 'oracle', runsPerTask, createdById });

async function refusal(promise: Promise<unknown>): Promise<QuotaExceededError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(QuotaExceededError);
  return error as QuotaExceededError;
}

/** Finishes `count` of a job's queued runs with a cost, at `finishedAt`, as the recorder would (counters included). */
async function finish(jobId: string, count: number, costUsd: number, finishedAt = new Date()) {
  const runs = await db.run.findMany({ where: { jobId, status: 'QUEUED' }, take: count, select: { id: true } });
  await db.run.updateMany({ where: { id: { in: runs.map((r) => r.id) } }, data: { status: 'PASSED', costUsd, finishedAt } });
  await db.job.update({ where: { id: jobId }, data: { runsQueued: { decrement: runs.length }, runsPassed: { increment: runs.length } } });
}

describe('maxActiveRuns', () => {
  it('refuses a launch that would take the user over the limit, with the figures, and writes nothing', async () => {
    const u = await user({ maxActiveRuns: 100 });
    await launch(u.id, 10, 10); // 100 active
    const jobsBefore = await db.job.count();
    const error = await refusal(launch(u.id, 3, 10));
    expect(error.code).toBe('QUOTA_EXCEEDED');
    expect(error.message).toMatch(/^would have 130 active runs, limit 100 /);
    expect(error.usage).toMatchObject({ activeRuns: 100, maxActiveRuns: 100 });
    expect(await db.job.count()).toBe(jobsBefore);
  });

  it('counts queued, claimed and running runs, not finished ones, and lets a launch up to the limit through', async () => {
    const u = await user({ maxActiveRuns: 5 });
    const { id } = await launch(u.id, 5, 1);
    await finish(id, 2, 0);
    await db.run.updateMany({ where: { jobId: id, status: 'QUEUED', task: { name: 'quota-2' } }, data: { status: 'RUNNING' } });
    await db.job.update({ where: { id }, data: { runsQueued: { decrement: 1 }, runsRunning: { increment: 1 }, status: 'RUNNING' } });
    expect(await userUsage(db, u.id)).toMatchObject({ activeRuns: 3 });
    await launch(u.id, 2, 1); // 3 + 2 = 5: at the limit, allowed
    expect((await refusal(launch(u.id, 1, 1))).message).toMatch(/^would have 6 active runs, limit 5/);
  });

  it('lets only one of two concurrent launches through when both together would exceed the limit', async () => {
    const u = await user({ maxActiveRuns: 15 });
    const outcomes = await Promise.allSettled([launch(u.id, 10, 1), launch(u.id, 10, 1)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(QuotaExceededError);
    expect(await userUsage(db, u.id)).toMatchObject({ activeRuns: 10 });
  });

  it('limits retries by the job creator’s quota, and refuses without adding an attempt', async () => {
    const u = await user({ maxActiveRuns: 4 });
    const { id } = await launch(u.id, 3, 1);
    await db.run.updateMany({ where: { jobId: id }, data: { status: 'CANCELLED', finishedAt: new Date() } });
    await db.job.update({ where: { id }, data: { runsQueued: 0, runsCancelled: 3, status: 'CANCELLED' } });
    await launch(u.id, 2, 1); // 2 active
    const deps = { db, nats: nats.nc, topology: nats.topology };
    expect((await refusal(retryRuns(deps, id, 'CANCELLED'))).message).toMatch(/^would have 5 active runs, limit 4/);
    expect(await db.run.count({ where: { jobId: id } })).toBe(3);
    await setUserQuota(db, { actor: admin, ip: null }, { userId: u.id, maxActiveRuns: 5 });
    expect(await retryRuns(deps, id, 'CANCELLED')).toBe(3);
  });

  it('does not limit jobs without a creator', async () => {
    await launch(null, 10, 100);
  });
});

describe('monthlySpendCapUsd', () => {
  it('refuses launches once this month’s recorded spend reached the cap; last month’s spend does not count', async () => {
    const u = await user({ monthlySpendCapUsd: 5 });
    const { id } = await launch(u.id, 4, 1);
    const lastMonth = new Date();
    lastMonth.setUTCDate(0); // the last day of the previous month
    await finish(id, 1, 100, lastMonth);
    await finish(id, 1, 2.5);
    expect(await userUsage(db, u.id)).toMatchObject({ monthSpendUsd: 2.5, monthlySpendCapUsd: 5, activeRuns: 2 });
    expect(await quotaHold(db, u.id)).toBeNull();
    await launch(u.id, 1, 1);

    await finish(id, 1, 2.5);
    const error = await refusal(launch(u.id, 1, 1));
    expect(error.message).toMatch(/^spent \$5\.00 this month, which reached the monthly cap of \$5\.00/);
    expect(await quotaHold(db, u.id)).toMatch(/reached their monthly cap of \$5\.00/);
  });
});

describe('setUserQuota', () => {
  it('sets and clears limits and records QUOTA_SET with the values before and after, in the same transaction', async () => {
    const u = await user();
    const usage = await setUserQuota(db, { actor: admin, ip: '10.0.0.7' }, { userId: u.id, maxActiveRuns: 50, monthlySpendCapUsd: 20 });
    expect(usage).toEqual({ activeRuns: 0, monthSpendUsd: 0, maxActiveRuns: 50, monthlySpendCapUsd: 20 });
    // Omitted stays, null clears.
    expect(await setUserQuota(db, { actor: admin, ip: null }, { userId: u.id, monthlySpendCapUsd: null })).toMatchObject({ maxActiveRuns: 50, monthlySpendCapUsd: null });
    const events = await db.auditEvent.findMany({ where: { action: 'QUOTA_SET', targetId: u.id }, orderBy: { at: 'asc' } });
    expect(events.map((e) => ({ actorName: e.actorName, ip: e.ip, detail: e.detail }))).toEqual([
      {
        actorName: 'root',
        ip: '10.0.0.7',
        detail: { user: u.name, before: { maxActiveRuns: null, monthlySpendCapUsd: null }, after: { maxActiveRuns: 50, monthlySpendCapUsd: 20 } },
      },
      {
        actorName: 'root',
        ip: null,
        detail: { user: u.name, before: { maxActiveRuns: 50, monthlySpendCapUsd: 20 }, after: { maxActiveRuns: 50, monthlySpendCapUsd: null } },
      },
    ]);
  });

  it('refuses bad values and unknown users, changing nothing and recording nothing', async () => {
    const u = await user({ maxActiveRuns: 7 });
    const before = await db.auditEvent.count();
    for (const input of [{ maxActiveRuns: -1 }, { maxActiveRuns: 2.5 }, { monthlySpendCapUsd: Number.NaN }, { monthlySpendCapUsd: 1e9 }, {}]) {
      await expect(setUserQuota(db, { actor: admin, ip: null }, { userId: u.id, ...input })).rejects.toBeInstanceOf(InvalidInputError);
    }
    await expect(setUserQuota(db, { actor: admin, ip: null }, { userId: '00000000-0000-4000-8000-00000000dead', maxActiveRuns: 1 })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await db.auditEvent.count()).toBe(before);
    expect(await userUsage(db, u.id)).toMatchObject({ maxActiveRuns: 7 });
  });
});
