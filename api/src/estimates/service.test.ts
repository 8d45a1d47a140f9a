import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import type { Db } from '../db/client.js';
import type { RunStatus } from '../generated/prisma/enums.js';
import { createJob } from '../jobs/launch.js';
import { InvalidInputError } from '../schema/errors.js';
import { estimateJob } from './service.js';

let database: TestDatabase & { db: Db };
let db: Db;
let tasks: Record<'a' | 'b' | 'c' | 'd', string>;

const MODEL = 'openrouter/acme/large';

async function task(name: string, category: string): Promise<string> {
  const row = await db.task.create({
    data: { contentHash: Math.random().toString(16).slice(2).padEnd(64, '0'), name, category, instruction: 'x', sizeBytes: 1n, fileCount: 1 },
  });
  return row.id;
}

/** Earlier runs of one task as the recorder would have left them: [status, cost, seconds from start to finish]. */
async function history(taskId: string, model: string, runs: Array<[RunStatus, number | null, number | null]>): Promise<void> {
  const { id } = await createJob({ db, secretsKey: null }, { taskIds: [taskId], agent: 'terminus-2', model, runsPerTask: runs.length });
  const rows = await db.run.findMany({ where: { jobId: id }, orderBy: { repeat: 'asc' } });
  const start = new Date('2026-11-01T10:00:00Z');
  for (const [i, [status, costUsd, seconds]] of runs.entries()) {
    await db.run.update({
      where: { id: rows[i]!.id },
      data: { status, costUsd, startedAt: seconds === null ? null : start, finishedAt: seconds === null ? null : new Date(start.getTime() + seconds * 1000) },
    });
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  tasks = { a: await task('alpha', 'web'), b: await task('beta', 'web'), c: await task('gamma', 'ops'), d: await task('delta', 'ops') };
  await history(tasks.a, MODEL, [
    ['PASSED', 0.1, 60],
    ['FAILED', 0.3, 120],
    // Stopped part-way: its cost would pull the estimate down, so it is not counted, however large.
    ['CANCELLED', 9, 5],
    // Never ran.
    ['QUEUED', null, null],
  ]);
  await history(tasks.b, MODEL, [
    ['ERRORED', 1.0, 30],
    // Timed but no cost reported (an agent that does not count tokens): time only.
    ['PASSED', null, 90],
  ]);
  // Another model's runs of the task that has none of its own: not this estimate's business.
  await history(tasks.c, 'openrouter/acme/small', [['PASSED', 5, 600]]);
});
afterAll(() => database?.drop());

describe('jobEstimate', () => {
  it("estimates each task from its own runs, the others from the mean run, from this agent and model's finished runs only", async () => {
    const estimate = await estimateJob(db, { taskIds: [tasks.a, tasks.c], agent: 'terminus-2', model: ` ${MODEL} `, runsPerTask: 3 });
    // alpha: 3 × mean(0.1, 0.3) = 0.6; gamma: 3 × the mean run (0.1 + 0.3 + 1.0) / 3.
    expect(estimate).toMatchObject({ agent: 'terminus-2', model: MODEL, tasks: 2, runs: 6, costBasisRuns: 3, tasksWithOwnCost: 1, timeBasisRuns: 4 });
    expect(estimate.costUsd).toBeCloseTo(0.6 + 1.4, 10);
    expect(estimate.costPerRunUsd).toBeCloseTo(2 / 6, 10);
    // alpha: 3 × mean(60, 120) s; gamma: 3 × the mean timed run (60 + 120 + 30 + 90) / 4.
    expect(estimate.trialSeconds).toBeCloseTo(270 + 225, 10);
  });

  it('takes the tasks of a library filter as createJob would', async () => {
    const estimate = await estimateJob(db, { taskFilter: { category: 'web' }, agent: 'terminus-2', model: MODEL, runsPerTask: 2 });
    // alpha 2 × 0.2, beta 2 × 1.0 (its own run with a cost), both from their own history.
    expect(estimate).toMatchObject({ tasks: 2, runs: 4, tasksWithOwnCost: 2 });
    expect(estimate.costUsd).toBeCloseTo(2.4, 10);
    expect(estimate.trialSeconds).toBeCloseTo(2 * 90 + 2 * 60, 10);
  });

  it('has no estimate for an agent and model never run here, rather than a guess', async () => {
    const estimate = await estimateJob(db, { taskIds: [tasks.d], agent: 'terminus-2', model: 'openrouter/acme/unknown', runsPerTask: 5 });
    expect(estimate).toEqual({
      agent: 'terminus-2',
      model: 'openrouter/acme/unknown',
      tasks: 1,
      runs: 5,
      costUsd: null,
      costPerRunUsd: null,
      costBasisRuns: 0,
      tasksWithOwnCost: 0,
      trialSeconds: null,
      timeBasisRuns: 0,
    });
  });

  it('refuses what createJob refuses, naming the field', async () => {
    const refused = (input: Parameters<typeof estimateJob>[1]) =>
      estimateJob(db, input).then(
        () => null,
        (error: unknown) => (error instanceof InvalidInputError ? { field: error.field, message: error.message } : error),
      );
    expect(await refused({ taskIds: [tasks.a], agent: 'terminus-2', model: MODEL, runsPerTask: 0 })).toEqual({
      field: 'input.runsPerTask',
      message: 'runsPerTask must be a whole number from 1 to 100, got 0',
    });
    expect(await refused({ taskIds: [tasks.a], agent: 'terminus-2', model: null, runsPerTask: 1 })).toMatchObject({ field: 'input.model' });
    expect(await refused({ taskIds: [tasks.a], agent: 'no such agent', model: MODEL, runsPerTask: 1 })).toMatchObject({ field: 'input.agent' });
    const missing = '00000000-0000-4000-8000-000000000000';
    expect(await refused({ taskIds: [tasks.a, missing], agent: 'terminus-2', model: MODEL, runsPerTask: 1 })).toEqual({
      field: 'input.taskIds',
      message: `no task with id ${missing}`,
    });
    expect(await refused({ taskFilter: { category: 'none such' }, agent: 'terminus-2', model: MODEL, runsPerTask: 1 })).toEqual({
      field: 'input.taskFilter',
      message: 'no task matches taskFilter',
    });
  });
});
