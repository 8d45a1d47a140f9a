import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, startTestApp, type TestApp } from '../../test/support/app.js';
import type { Db } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import { isFlaky, neverPassedTasks } from './flaky.js';

describe('isFlaky', () => {
  it('needs a pass and a non-pass among the scored outcomes', () => {
    expect(isFlaky({ passed: 1, scored: 3 })).toBe(true);
    expect(isFlaky({ passed: 3, scored: 3 })).toBe(false);
    expect(isFlaky({ passed: 0, scored: 3 })).toBe(false);
    expect(isFlaky({ passed: 0, scored: 0 })).toBe(false);
    expect(isFlaky({ passed: 1, scored: 1 })).toBe(false);
  });
});

describe('never-passed tasks, across jobs', () => {
  let api: TestApp;
  let db: Db;
  const task: Record<string, string> = {};
  let jobId: string;

  const job = () => db.job.create({ data: { name: 'j', agent: 'terminus-2', model: 'm', runsPerTask: 2, status: 'COMPLETED' } });
  const runs = (jobId: string, data: (Omit<Prisma.RunUncheckedCreateInput, 'jobId' | 'taskId'> & { task: string })[]) =>
    db.run.createMany({ data: data.map(({ task: name, ...run }) => ({ jobId, taskId: task[name]!, ...run })) });

  beforeAll(async () => {
    api = await startTestApp();
    db = api.database.db;
    for (const name of ['solved-elsewhere', 'broken', 'only-infra', 'not-started', 'flaky']) {
      task[name] = (await db.task.create({ data: { contentHash: randomBytes(32).toString('hex'), name, instruction: 'x', sizeBytes: 1n, fileCount: 1 } })).id;
    }
    ({ id: jobId } = await job());
    await runs(jobId, [
      { task: 'solved-elsewhere', repeat: 1, status: 'FAILED', reward: 0 },
      { task: 'broken', repeat: 1, status: 'FAILED', reward: 0 },
      { task: 'broken', repeat: 2, status: 'ERRORED', failureKind: 'AGENT' },
      { task: 'only-infra', repeat: 1, status: 'ERRORED', failureKind: 'INFRASTRUCTURE' },
      { task: 'not-started', repeat: 1, status: 'QUEUED' },
      { task: 'flaky', repeat: 1, status: 'PASSED', reward: 1 },
      { task: 'flaky', repeat: 2, status: 'FAILED', reward: 0 },
    ]);
    const other = await job();
    await runs(other.id, [
      { task: 'solved-elsewhere', repeat: 1, status: 'PASSED', reward: 1 },
      { task: 'broken', repeat: 1, status: 'FAILED', reward: 0 },
    ]);
    // A job that did not run `broken` adds nothing about it, and its own tasks are not this job's.
    const unrelated = await db.task.create({ data: { contentHash: randomBytes(32).toString('hex'), name: 'unrelated', instruction: 'x', sizeBytes: 1n, fileCount: 1 } });
    await db.run.create({ data: { jobId: other.id, taskId: unrelated.id, repeat: 1, status: 'FAILED', reward: 0 } });
  });
  afterAll(() => api?.close());

  it('are the tasks of the job with a scored run somewhere and a pass nowhere', async () => {
    expect(await neverPassedTasks(db, jobId, false)).toEqual(new Set([task.broken]));
  });

  it('count infrastructure errors as scored only when asked', async () => {
    expect(await neverPassedTasks(db, jobId, true)).toEqual(new Set([task.broken, task['only-infra']]));
  });

  it('reach the per-task statistics as flaky and neverPassed markers', async () => {
    const result = await graphql(
      api.url,
      `query ($id: ID!) { job(id: $id) { taskStats { task { name } flaky neverPassed } withInfra: taskStats(includeInfrastructure: true) { task { name } neverPassed } } }`,
      { id: jobId },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data.job.taskStats.map((s: any) => [s.task.name, s.flaky, s.neverPassed])).toEqual([
      ['broken', false, true],
      ['flaky', true, false],
      ['not-started', false, false],
      ['only-infra', false, false],
      ['solved-elsewhere', false, false],
    ]);
    expect(result.data.job.withInfra.filter((s: any) => s.neverPassed).map((s: any) => s.task.name)).toEqual(['broken', 'only-infra']);
  });
});
