// The fault counts themselves: each kind of damage is counted, so a scenario's zeros mean something.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJob } from '../../src/jobs/launch.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { countFaults, NO_FAULTS, readLedger } from '../support/faults.js';

let database: TestDatabase & { db: import('../../src/db/client.js').Db };
let dir: string;

beforeAll(async () => {
  [database, dir] = await Promise.all([createTestDatabase(), mkdtemp(path.join(os.tmpdir(), 'thr-fault-counts-'))]);
});
afterAll(async () => {
  await database?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('countFaults', () => {
  it('counts lost, stuck, recorded-twice and run-twice runs of a job', async () => {
    const db = database.db;
    const task = await db.task.create({ data: { contentHash: 'e'.repeat(64), name: 'counts', instruction: 'x', sizeBytes: 1n, fileCount: 1 } });
    const { id: jobId } = await createJob({ db, secretsKey: null }, { taskIds: [task.id], agent: 'oracle', runsPerTask: 3 });
    const [a, b, c] = await db.run.findMany({ where: { jobId }, orderBy: { repeat: 'asc' } });
    const ledger = path.join(dir, 'ledger');

    // Two runs passed and counted once each; the third still queued; nothing ran twice.
    await db.run.updateMany({ where: { id: { in: [a!.id, b!.id] } }, data: { status: 'PASSED', costUsd: 0.01, inputTokens: 10 } });
    await db.job.update({ where: { id: jobId }, data: { status: 'RUNNING', runsQueued: 1, runsPassed: 2, costUsd: 0.02, inputTokens: 20n } });
    // b's first trial was cut short (its runner killed) and run again: started twice, finished once.
    await writeFile(
      ledger,
      [
        `start run-${a!.id}-p1-d1 1 10 9`,
        `end run-${a!.id}-p1-d1 2 10 9 finished`,
        `start run-${b!.id}-p1-d1 3 11 9`,
        `end run-${b!.id}-p1-d1 4 11 1 cancelled`,
        `start run-${b!.id}-p1-d2 5 12 13`,
        `end run-${b!.id}-p1-d2 6 12 13 finished`,
        'noise',
        '',
      ].join('\n'),
    );
    expect(await countFaults(db, ledger, jobId, 3)).toMatchObject({ lost: 1, recordedTwice: 0, stuck: 1, trialsRunTwice: 0 });

    // The third passes; its outcome applied twice, its trial run twice.
    await db.run.update({ where: { id: c!.id }, data: { status: 'PASSED', costUsd: 0.01, inputTokens: 10 } });
    await db.job.update({ where: { id: jobId }, data: { status: 'COMPLETED', runsQueued: 0, runsPassed: 4, costUsd: 0.04, inputTokens: 40n } });
    await writeFile(
      ledger,
      [`start run-${c!.id}-p1-d1 7 14 9`, `end run-${c!.id}-p1-d1 8 14 9 finished`, `start run-${c!.id}-p1-d2 9 15 13`, `end run-${c!.id}-p1-d2 10 15 13 finished`].join('\n'),
      { flag: 'a' },
    );
    const counts = await countFaults(db, ledger, jobId, 3);
    expect(counts).toMatchObject({ lost: 0, recordedTwice: 3, stuck: 0, trialsRunTwice: 1 });
    expect(counts.problems).toEqual([
      'recorded twice: job.runsPassed is 4, its runs say 3',
      'recorded twice: job.inputTokens is 40, its runs say 30',
      'recorded twice: job.costUsd is 0.04, its runs add up to 0.030000',
      `trial run twice: run ${c!.id} finished 2 times (started 2)`,
    ]);
    expect((await readLedger(ledger)).starts.get(b!.id)).toBe(2);
    expect((await readLedger(ledger)).ends.get(b!.id)).toBe(2);

    // Set right, nothing is left to count.
    await db.job.update({ where: { id: jobId }, data: { runsPassed: 3, costUsd: 0.03, inputTokens: 30n } });
    await writeFile(ledger, '');
    expect(await countFaults(db, ledger, jobId, 3)).toEqual(NO_FAULTS);
  });

  it('counts every expected run as lost when the job was never written', async () => {
    const counts = await countFaults(database.db, path.join(dir, 'none'), '00000000-0000-4000-8000-000000000001', 5);
    expect(counts).toMatchObject({ lost: 5, problems: ['job 00000000-0000-4000-8000-000000000001 does not exist'] });
  });
});
