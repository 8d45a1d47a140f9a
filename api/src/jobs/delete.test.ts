import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import type { Db } from '../db/client.js';
import { NotFoundError } from '../schema/errors.js';
import { deleteTask } from '../tasks/library.js';
import { TaskStore } from '../tasks/store.js';
import { deleteJob, JobActiveError } from './delete.js';
import { createJob } from './launch.js';

let database: TestDatabase & { db: Db };
let db: Db;
let jobsDir: string;
let tasksDir: string;
const secretsKey = randomBytes(32);

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  jobsDir = await mkdtemp(path.join(os.tmpdir(), 'thr-delete-jobs-'));
  tasksDir = await mkdtemp(path.join(os.tmpdir(), 'thr-delete-tasks-'));
});
afterAll(async () => {
  await database?.drop();
  await rm(jobsDir, { recursive: true, force: true });
  await rm(tasksDir, { recursive: true, force: true });
});

async function task(name: string): Promise<string> {
  const row = await db.task.create({
    data: { contentHash: randomBytes(32).toString('hex'), name, instruction: 'x', sizeBytes: 1n, fileCount: 1 },
  });
  return row.id;
}

/** A job whose runs all ended, with the files a runner leaves: a directory per delivery and its config file. */
async function finishedJob(taskId: string, options: { providerKey?: string } = {}) {
  const { id } = await createJob(
    { db, secretsKey },
    {
      taskIds: [taskId],
      agent: 'terminus-2',
      model: 'openrouter/acme/large',
      runsPerTask: 2,
      providerKey: options.providerKey ? { value: options.providerKey } : null,
    },
  );
  const runs = await db.run.findMany({ where: { jobId: id }, select: { id: true } });
  for (const [i, run] of runs.entries()) {
    await db.run.update({ where: { id: run.id }, data: { status: 'PASSED', harborTrialDir: `run-${run.id}-d1/t__x` } });
    await db.runTest.create({ data: { runId: run.id, position: 0, name: 'test_ok', status: 'PASSED' } });
    // Names from runners before dispatch numbers (-d<n>) and after (-p<dispatch>-d<n>).
    for (const delivery of i === 0 ? ['d1', 'd2', 'p2-d1'] : ['d1']) {
      await mkdir(path.join(jobsDir, `run-${run.id}-${delivery}`, 't__x', 'agent'), { recursive: true });
      await writeFile(path.join(jobsDir, `run-${run.id}-${delivery}`, 't__x', 'agent', 'log.txt'), 'hello');
      await mkdir(path.join(jobsDir, '.runner'), { recursive: true });
      await writeFile(path.join(jobsDir, '.runner', `run-${run.id}-${delivery}.json`), '{}');
    }
  }
  await db.job.update({ where: { id }, data: { status: 'COMPLETED', runsQueued: 0, runsPassed: 2 } });
  return { id, runIds: runs.map((r) => r.id) };
}

describe('deleteJob', () => {
  it("removes the job, its runs, their tests, its own key and its runs' directories, and nothing else", async () => {
    const taskId = await task('delete-me');
    const kept = await finishedJob(taskId);
    const gone = await finishedJob(taskId, { providerKey: 'sk-or-v1-0123456789abcdef' });
    const secretId = (await db.job.findUniqueOrThrow({ where: { id: gone.id } })).providerSecretId!;
    expect(secretId).toBeTruthy();

    expect(await deleteJob({ db, jobsDir }, gone.id)).toEqual({
      id: gone.id,
      // The second job of this agent and model: names are unique, so it is the " (2)".
      name: 'terminus-2 · openrouter/acme/large (2)',
      runsDeleted: 2,
      directoriesRemoved: 4,
      filesNote: null,
    });
    expect(await db.job.findUnique({ where: { id: gone.id } })).toBeNull();
    expect(await db.run.count({ where: { id: { in: gone.runIds } } })).toBe(0);
    expect(await db.runTest.count({ where: { runId: { in: gone.runIds } } })).toBe(0);
    expect(await db.providerSecret.findUnique({ where: { id: secretId } })).toBeNull();
    const left = [...(await readdir(jobsDir)), ...(await readdir(path.join(jobsDir, '.runner')))];
    for (const runId of gone.runIds) expect(left.some((name) => name.includes(runId))).toBe(false);
    // The other job of the same task keeps its rows and files.
    expect(await db.run.count({ where: { jobId: kept.id } })).toBe(2);
    for (const runId of kept.runIds) expect(left).toContain(`run-${runId}-d1`);
  });

  it('refuses a job that is still queued, running or cancelling, and changes nothing', async () => {
    const taskId = await task('busy');
    const { id } = await createJob({ db, secretsKey: null }, { taskIds: [taskId], agent: 'oracle', runsPerTask: 1 });
    for (const status of ['QUEUED', 'RUNNING', 'CANCELLING'] as const) {
      await db.job.update({ where: { id }, data: { status } });
      const refused = await deleteJob({ db, jobsDir }, id).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(JobActiveError);
      expect((refused as JobActiveError).message).toBe(`job ${id} is ${status.toLowerCase()}: cancel it and wait until it has stopped, then delete it`);
    }
    expect(await db.run.count({ where: { jobId: id } })).toBe(1);
    await db.job.update({ where: { id }, data: { status: 'CANCELLED' } });
    expect((await deleteJob({ db, jobsDir }, id)).runsDeleted).toBe(1);
  });

  it('answers NotFoundError for a job that does not exist (or was just deleted)', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    await expect(deleteJob({ db, jobsDir }, missing)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('frees the tasks it ran: deleteTask, refused before, succeeds once no job refers to them', async () => {
    const store = new TaskStore(tasksDir);
    const taskId = await task('freed');
    const { id } = await finishedJob(taskId);
    await expect(deleteTask({ db, store }, taskId)).rejects.toMatchObject({ code: 'TASK_IN_USE' });
    await deleteJob({ db, jobsDir }, id);
    expect(await deleteTask({ db, store }, taskId)).toEqual({ id: taskId, name: 'freed' });
  });
});
