// createJob's idempotency key against real PostgreSQL: a launch retried after a timeout, or sent
// twice at once, makes one job.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import type { Db } from '../db/client.js';
import { InvalidInputError } from '../schema/errors.js';
import { createJob, type LaunchInput } from './launch.js';

let database: TestDatabase & { db: Db };
let db: Db;
let taskId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  taskId = (await db.task.create({ data: { contentHash: randomBytes(32).toString('hex'), name: 't', instruction: 'x', sizeBytes: 1n, fileCount: 1 } })).id;
});
afterAll(() => database?.drop());

const launch = (input: Partial<LaunchInput> = {}) => createJob({ db, secretsKey: null }, { taskIds: [taskId], agent: 'oracle', runsPerTask: 3, ...input });
const key = () => `launch-${randomBytes(6).toString('hex')}`;

describe('createJob with an idempotency key', () => {
  it('makes one job of concurrent launches with the same key, and every caller gets it', async () => {
    const k = key();
    const launched = await Promise.all(Array.from({ length: 8 }, () => launch({ idempotencyKey: k })));
    const ids = new Set(launched.map((l) => l.id));
    expect(ids.size).toBe(1);
    expect(launched.filter((l) => !l.existing)).toHaveLength(1);
    const [id] = [...ids];
    expect(await db.job.count({ where: { idempotencyKey: k } })).toBe(1);
    expect(await db.run.count({ where: { jobId: id } })).toBe(3);
  });

  it('returns the first job to a repeated launch within a day, whatever the repeat asks for', async () => {
    const k = key();
    const first = await launch({ idempotencyKey: k });
    expect(first).toEqual({ id: expect.any(String), runsTotal: 3, existing: false });
    expect(await launch({ idempotencyKey: k, runsPerTask: 5 })).toEqual({ id: first.id, runsTotal: 3, existing: true });
    // Another key, or none, launches anew.
    expect((await launch({ idempotencyKey: key() })).id).not.toBe(first.id);
    expect((await launch()).id).not.toBe(first.id);
  });

  it('lets a key older than a day launch a new job', async () => {
    const k = key();
    const old = await launch({ idempotencyKey: k });
    await db.$executeRaw`UPDATE "Job" SET "createdAt" = now() - interval '25 hours' WHERE id = ${old.id}::uuid`;
    const fresh = await launch({ idempotencyKey: k });
    expect(fresh).toMatchObject({ existing: false });
    expect(fresh.id).not.toBe(old.id);
    expect(await db.job.findUniqueOrThrow({ where: { id: old.id }, select: { idempotencyKey: true } })).toEqual({ idempotencyKey: null });
    expect((await launch({ idempotencyKey: k })).id).toBe(fresh.id);
  });

  it('refuses a key that is empty or longer than 200 characters', async () => {
    for (const bad of ['', 'k'.repeat(201)]) {
      const error = await launch({ idempotencyKey: bad }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error).toMatchObject({ field: 'input.idempotencyKey', message: `idempotencyKey must be 1 to 200 characters, got ${bad.length}` });
    }
    expect((await launch({ idempotencyKey: 'k'.repeat(200) })).existing).toBe(false);
  });
});
