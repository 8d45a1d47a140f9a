// Regrades against real PostgreSQL: which runs a selection regrades, which upload grades them, and
// how a scored regrade takes over its attempt's role (once, and again for a later regrade).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import type { Db } from '../db/client.js';
import type { RunStatus } from '../generated/prisma/enums.js';
import { addAttempts, retryableCounts } from './attempts.js';
import { createJob } from './launch.js';
import { regradeRuns, settleRegrade } from './regrade.js';

let database: TestDatabase & { db: Db };
let db: Db;
const published: unknown[] = [];
const deps = () => ({ db, nats: { publish: (...args: unknown[]) => published.push(args) } as never, topology: { jobUpdate: (id: string) => `updates.job.${id}` } as never });

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database?.drop());

const task = async (name: string, createdAt = new Date()) =>
  (await db.task.create({ data: { contentHash: randomBytes(32).toString('hex'), name, instruction: 'x', sizeBytes: 1n, fileCount: 1, createdAt } })).id;

async function finish(runId: string, status: RunStatus): Promise<void> {
  await db.run.update({ where: { id: runId }, data: { status, harborTrialDir: `run-${runId}-p1-d1/t__abcdefg`, reward: status === 'PASSED' ? 1 : 0 } });
}

const roles = async (jobId: string) =>
  (await db.run.findMany({ where: { jobId }, orderBy: [{ repeat: 'asc' }, { attempt: 'asc' }] })).map((r) => `${r.repeat}.${r.attempt} ${r.status} ${r.attemptRole}`);

describe('regradeRuns', () => {
  it('regrades by current verdict with the newest upload of each task name, or the one given', async () => {
    const old = await task('fix-git', new Date(Date.now() - 60_000));
    const other = await task('other');
    const jobId = (await createJob({ db, secretsKey: null }, { taskIds: [old, other], agent: 'oracle', runsPerTask: 2 })).id;
    const runs = await db.run.findMany({ where: { jobId }, orderBy: [{ taskId: 'asc' }, { repeat: 'asc' }] });
    for (const run of runs) await finish(run.id, run.taskId === old && run.repeat === 1 ? 'FAILED' : run.repeat === 2 ? 'ERRORED' : 'PASSED');
    const fixed = await task('fix-git');

    expect(await regradeRuns(deps(), jobId, { which: 'FAILED' })).toBe(1);
    const regrade = await db.run.findFirstOrThrow({ where: { jobId, regradeOfId: { not: null } } });
    expect(regrade).toMatchObject({ taskId: old, repeat: 1, attempt: 2, attemptRole: 'EXTRA', status: 'QUEUED', regradeTaskId: fixed });
    expect(await db.job.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({ status: 'RUNNING' });
    // Under way: not again.
    await expect(regradeRuns(deps(), jobId, { runIds: [regrade.regradeOfId!] })).rejects.toThrow(/not regradable/);
    await expect(regradeRuns(deps(), jobId, { runIds: [regrade.id] })).rejects.toThrow(/not regradable/);
    await expect(regradeRuns(deps(), jobId, {})).rejects.toThrow('give either which or runIds');

    // ERRORED runs of both tasks, the old upload pinned for fix-git; a task of another name is refused.
    await expect(regradeRuns(deps(), jobId, { which: 'ERRORED', taskIds: [await task('unrelated')] })).rejects.toThrow(/not a task of the runs to regrade/);
    expect(await regradeRuns(deps(), jobId, { which: 'ERRORED', taskIds: [old] })).toBe(2);
    const errored = await db.run.findMany({ where: { jobId, regradeOfId: { not: null }, repeat: 2 }, orderBy: { taskId: 'asc' } });
    expect(errored.map((r) => [r.taskId, r.regradeTaskId])).toEqual(
      [
        [old, old],
        [other, other],
      ].sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );
  });

  it('a scored regrade takes its attempt’s role; a later one takes it over again; one without a score changes nothing', async () => {
    const t = await task('chain');
    const jobId = (await createJob({ db, secretsKey: null }, { taskIds: [t], agent: 'oracle', runsPerTask: 1 })).id;
    const source = await db.run.findFirstOrThrow({ where: { jobId } });
    await finish(source.id, 'FAILED');

    const regradeOnce = async (status: RunStatus) => {
      await regradeRuns(deps(), jobId, { runIds: [source.id] });
      const g = await db.run.findFirstOrThrow({ where: { jobId, regradeOfId: source.id }, orderBy: { attempt: 'desc' } });
      await finish(g.id, status);
      await db.$transaction((tx) => settleRegrade(tx, g.id, source.id, status));
    };
    await regradeOnce('ERRORED');
    expect(await roles(jobId)).toEqual(['1.1 FAILED COUNTED', '1.2 ERRORED EXTRA']);
    await regradeOnce('PASSED');
    expect(await roles(jobId)).toEqual(['1.1 FAILED REPLACED', '1.2 ERRORED EXTRA', '1.3 PASSED COUNTED']);
    // The run's current verdict is its latest scored regrade's: FAILED no longer selects it.
    expect(await regradeRuns(deps(), jobId, { which: 'FAILED' })).toBe(0);
    await regradeOnce('FAILED');
    expect(await roles(jobId)).toEqual(['1.1 FAILED REPLACED', '1.2 ERRORED EXTRA', '1.3 PASSED REPLACED', '1.4 FAILED COUNTED']);
    // A repeat regraded last is not retried (that would run the agent again on the old upload): it is regraded again.
    expect(await retryableCounts(db, jobId)).toMatchObject({ FAILED: 0, ERRORED: 0, UNSUCCESSFUL: 0 });
    expect(await db.$transaction((tx) => addAttempts(tx, jobId, 'FAILED'))).toBe(0);
  });
});
