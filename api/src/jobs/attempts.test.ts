// The attempt rule (DESIGN.md §4) against real PostgreSQL: which attempt of a repeat counts, and that
// every figure — statistics, comparisons, counters, retry buttons — follows it.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { migrationsDir } from '../config/paths.js';
import type { Db } from '../db/client.js';
import { deployMigrations } from '../db/migrate.js';
import type { Prisma } from '../generated/prisma/client.js';
import { compareJobs } from '../stats/compare.js';
import { jobStats, type RunStats } from '../stats/service.js';
import { addAttempts, attemptCounters, retryableCounts, type RetrySelection } from './attempts.js';
import { createJob } from './launch.js';

let database: TestDatabase & { db: Db };
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database?.drop());

const task = async (name: string) =>
  (await db.task.create({ data: { contentHash: randomBytes(32).toString('hex'), name, instruction: 'x', sizeBytes: 1n, fileCount: 1 } })).id;

type Outcome = 'P' | 'F' | 'E' | 'I' | 'C' | 'Q'; // passed, failed, agent error, infrastructure error, cancelled, queued
const OUTCOME: Record<Outcome, Partial<Prisma.RunUncheckedUpdateInput>> = {
  P: { status: 'PASSED', reward: 1, rewards: { reward: 1 }, costUsd: 1 },
  F: { status: 'FAILED', reward: 0, rewards: { reward: 0 }, costUsd: 1 },
  E: { status: 'ERRORED', failureKind: 'AGENT', exceptionType: 'AgentTimeoutError', costUsd: 1 },
  I: { status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'DockerComposeError' },
  C: { status: 'CANCELLED', exceptionType: 'CancelledError' },
  Q: { status: 'QUEUED' },
};

/** A job launched the real way (createJob), its tasks in the order given. */
async function launch(taskIds: string[], runsPerTask: number): Promise<string> {
  return (await createJob({ db, secretsKey: null }, { taskIds, agent: 'oracle', runsPerTask })).id;
}

/** Ends the latest attempt of each repeat as given (per task, one outcome per repeat; '-' leaves it). */
async function finishLatest(jobId: string, outcomes: Record<string, string>): Promise<void> {
  for (const [taskId, list] of Object.entries(outcomes)) {
    for (const [i, o] of [...list].entries()) {
      if (o === '-') continue;
      const latest = await db.run.findFirstOrThrow({ where: { jobId, taskId, repeat: i + 1 }, orderBy: { attempt: 'desc' } });
      await db.run.update({ where: { id: latest.id }, data: OUTCOME[o as Outcome] });
    }
  }
  await syncCounters(jobId);
}

/** The job row's counters over every attempt, as the recorder keeps them (it settles jobs by them). */
async function syncCounters(jobId: string): Promise<void> {
  await db.$executeRaw`
    UPDATE "Job" j SET "runsTotal" = c.total, "runsQueued" = c.queued, "runsClaimed" = c.claimed, "runsRunning" = c.running,
                       "runsPassed" = c.passed, "runsFailed" = c.failed, "runsErrored" = c.errored, "runsCancelled" = c.cancelled
      FROM (SELECT count(*)::int AS total,
                   count(*) FILTER (WHERE status = 'QUEUED')::int AS queued, count(*) FILTER (WHERE status = 'CLAIMED')::int AS claimed,
                   count(*) FILTER (WHERE status = 'RUNNING')::int AS running, count(*) FILTER (WHERE status = 'PASSED')::int AS passed,
                   count(*) FILTER (WHERE status = 'FAILED')::int AS failed, count(*) FILTER (WHERE status = 'ERRORED')::int AS errored,
                   count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled
              FROM "Run" WHERE "jobId" = ${jobId}::uuid) c
     WHERE j.id = ${jobId}::uuid`;
}

const retry = async (jobId: string, which: RetrySelection) => {
  const added = await db.$transaction((tx) => addAttempts(tx, jobId, which));
  await syncCounters(jobId);
  return added;
};

/** Each repeat's attempts as "<attempt><status letter><role letter>", e.g. "1FC 2PE". */
async function roles(jobId: string, taskId: string): Promise<string[]> {
  const runs = await db.run.findMany({ where: { jobId, taskId }, orderBy: [{ repeat: 'asc' }, { attempt: 'asc' }] });
  const byRepeat = new Map<number, string[]>();
  for (const r of runs) byRepeat.set(r.repeat, [...(byRepeat.get(r.repeat) ?? []), `${r.attempt}${r.status[0]}${r.attemptRole[0]}`]);
  return [...byRepeat.values()].map((a) => a.join(' '));
}

/** Everything a statistic says except the best-of figures, which are the only ones extra attempts add to. */
const counted = ({ extraAttempts: _e, bestOf: _b, bestOfPassed: _p, bestOfPassRate: _r, ...rest }: RunStats) => rest;

describe('retrying scored attempts', () => {
  let alpha: string;
  let beta: string;
  let retried: string;
  let untouched: string;

  beforeAll(async () => {
    alpha = await task('alpha');
    beta = await task('beta');
    // The same first tries in two jobs; only the first is retried.
    for (const id of [(retried = await launch([alpha, beta], 3)), (untouched = await launch([alpha, beta], 3))]) {
      await finishLatest(id, { [alpha]: 'PFF', [beta]: 'FEP' });
    }
  });

  it('adds extra attempts that never raise the pass rate, pass@k or mean reward; best of 2 is reported apart', async () => {
    const before = await jobStats(db, retried);
    const comparedBefore = await compareJobs(db, [untouched, retried]);
    expect(before.job).toMatchObject({ runs: 6, scored: 6, passed: 2, extraAttempts: 0, bestOf: 1, bestOfPassed: 2 });

    expect(await retry(retried, 'UNSUCCESSFUL')).toBe(4);
    expect(await roles(retried, alpha)).toEqual(['1PC', '1FC 2QE', '1FC 2QE']);
    expect(await roles(retried, beta)).toEqual(['1FC 2QE', '1EC 2QE', '1PC']);
    // While they run, and once every retry has passed, the job's figures stay those of the first tries.
    expect(counted((await jobStats(db, retried)).job)).toEqual(counted(before.job));
    await finishLatest(retried, { [alpha]: '-PP', [beta]: 'PP-' });

    const after = await jobStats(db, retried);
    expect(counted(after.job)).toEqual(counted(before.job));
    expect(after.tasks.map(counted)).toEqual(before.tasks.map(counted));
    expect(after.job).toMatchObject({
      passRate: 2 / 6,
      passAtK: before.job.passAtK,
      extraAttempts: 4,
      bestOf: 2,
      bestOfPassed: 6,
      bestOfPassRate: 1,
    });
    expect(after.tasks[0]).toMatchObject({ passed: 1, scored: 3, extraAttempts: 2, bestOf: 2, bestOfPassed: 3 });
    // Against the job that was not retried: no difference at all, and the same comparison as before.
    const comparison = await compareJobs(db, [untouched, retried]);
    expect(comparison).toEqual(comparedBefore);
    expect(comparison.jobs[1]).toMatchObject({ passRate: 2 / 6, passed: 2, scored: 6 });
    expect(comparison.jobs[1]!.vsBaseline).toMatchObject({ passRateDifference: 0, passRateDifferenceLow: 0, passRateDifferenceHigh: 0, mcnemarP: 1 });
  });

  it('counts one run per repeat and the extra attempts apart; the buttons count latest attempts', async () => {
    const counters = (await attemptCounters(db, [retried])).get(retried)!;
    expect(counters).toEqual({
      runsTotal: 6, runsQueued: 0, runsClaimed: 0, runsRunning: 0, runsPassed: 2, runsFailed: 3, runsErrored: 1, runsCancelled: 0,
      attemptsTotal: 10, replacedAttempts: 0, extraAttempts: 4,
    });
    // Three counted attempts failed, but their repeats' latest attempts passed: nothing is left to retry.
    expect(await retryableCounts(db, retried)).toEqual({ FAILED: 0, ERRORED: 0, INFRA: 0, CANCELLED: 0, UNSUCCESSFUL: 0 });
    expect(await retryableCounts(db, untouched)).toEqual({ FAILED: 3, ERRORED: 1, INFRA: 0, CANCELLED: 0, UNSUCCESSFUL: 4 });
    expect(await retry(retried, 'FAILED')).toBe(0);
  });
});

describe('retrying attempts the agent never had a fair try in', () => {
  it('replaces infrastructure errors and cancellations; a repeat without a fair try counts its latest attempt', async () => {
    const t = await task('gamma');
    const id = await launch([t], 4);
    await finishLatest(id, { [t]: 'ICPF' });
    expect((await jobStats(db, id)).job).toMatchObject({ runs: 4, passed: 1, scored: 2, cancelled: 1, erroredInfrastructure: 1 });

    // The default selection of retryRuns: infrastructure errors only.
    expect(await retry(id, 'INFRA')).toBe(1);
    expect(await roles(id, t)).toEqual(['1ER 2QC', '1CC', '1PC', '1FC']);
    expect((await jobStats(db, id)).job).toMatchObject({ runs: 4, unfinished: 1, erroredInfrastructure: 0 });
    // The new attempt errors again: still no fair try, so it is the one that counts.
    await finishLatest(id, { [t]: 'I' });
    expect(await retry(id, 'UNSUCCESSFUL')).toBe(3);
    expect(await roles(id, t)).toEqual(['1ER 2ER 3QC', '1CR 2QC', '1PC', '1FC 2QE']);
    await finishLatest(id, { [t]: 'PF-P' });

    const { job } = await jobStats(db, id);
    // Repeats 1 and 2 count their replacements (a pass and a fail); 4 keeps its first fail.
    expect(job).toMatchObject({ runs: 4, scored: 4, passed: 2, failed: 2, errored: 0, cancelled: 0, extraAttempts: 1, bestOf: 2, bestOfPassed: 3 });
    expect((await attemptCounters(db, [id])).get(id)).toMatchObject({ runsTotal: 4, runsPassed: 2, runsFailed: 2, attemptsTotal: 8, replacedAttempts: 3, extraAttempts: 1 });
  });

  it('keeps a retry of an extra attempt extra, whatever the extra attempt ended in', async () => {
    const t = await task('delta');
    const id = await launch([t], 1);
    await finishLatest(id, { [t]: 'F' });
    await retry(id, 'FAILED');
    await finishLatest(id, { [t]: 'I' });
    expect(await retry(id, 'INFRA')).toBe(1);
    expect(await roles(id, t)).toEqual(['1FC 2EE 3QE']);
    expect((await jobStats(db, id)).job).toMatchObject({ runs: 1, failed: 1, scored: 1, passRate: 0, extraAttempts: 2 });
  });
});

describe('a job of 10 tasks × 3 repeats', () => {
  it('reads 30 runs however often its runs were retried', async () => {
    const tasks = await Promise.all(Array.from({ length: 10 }, (_, i) => task(`ten-${i}`)));
    const id = await launch(tasks, 3);
    await finishLatest(id, Object.fromEntries(tasks.map((t, i) => [t, ['PFI', 'FFP', 'ICF'][i % 3]!])));
    await retry(id, 'FAILED');
    await retry(id, 'INFRA');
    await finishLatest(id, Object.fromEntries(tasks.map((t) => [t, 'PPP'])));
    await retry(id, 'UNSUCCESSFUL');

    const counters = (await attemptCounters(db, [id])).get(id)!;
    expect(counters.runsTotal).toBe(30);
    expect(counters.runsPassed + counters.runsFailed + counters.runsErrored + counters.runsCancelled + counters.runsQueued).toBe(30);
    expect(counters.attemptsTotal).toBe(30 + counters.replacedAttempts + counters.extraAttempts);
    expect(counters.attemptsTotal).toBeGreaterThan(40);
    expect((await jobStats(db, id)).job.runs).toBe(30);
    expect(await db.run.count({ where: { jobId: id, attemptRole: 'COUNTED' } })).toBe(30);
  });
});

describe('the migration that introduced attempt roles', () => {
  it('gives runs recorded before it their roles under the rule', async () => {
    const empty = await createEmptyDatabase();
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'thr-attempts-'));
    try {
      const names = (await readdir(migrationsDir)).filter((n) => /^\d{14}_/.test(n)).sort();
      const introduced = names.find((n) => n.includes('attempt_roles'))!;
      for (const name of names.filter((n) => n < introduced)) await cp(path.join(migrationsDir, name), path.join(scratch, name), { recursive: true });
      await cp(path.join(migrationsDir, 'migration_lock.toml'), path.join(scratch, 'migration_lock.toml'));
      await deployMigrations(empty.url, scratch);

      const client = new pg.Client({ connectionString: empty.url });
      await client.connect();
      try {
        const taskId = (await client.query(`INSERT INTO "Task" (id, "contentHash", name, instruction, "sizeBytes", "fileCount")
                                            VALUES (gen_random_uuid(), repeat('a', 64), 't', 'x', 1, 1) RETURNING id`)).rows[0].id;
        const jobId = (await client.query(`INSERT INTO "Job" (id, name, agent, model, "runsPerTask") VALUES (gen_random_uuid(), 'j', 'oracle', '', 4) RETURNING id`)).rows[0].id;
        // repeat → its attempts' outcomes, in order.
        const history: Record<number, Array<[string, string | null]>> = {
          1: [['FAILED', null], ['PASSED', null]],
          2: [['ERRORED', 'INFRASTRUCTURE'], ['CANCELLED', null], ['ERRORED', 'AGENT'], ['PASSED', null]],
          3: [['CANCELLED', null], ['ERRORED', 'INFRASTRUCTURE']],
          4: [['PASSED', null]],
        };
        for (const [repeat, attempts] of Object.entries(history)) {
          for (const [i, [status, kind]] of attempts.entries()) {
            await client.query(`INSERT INTO "Run" (id, "jobId", "taskId", repeat, attempt, status, "failureKind")
                                VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6)`, [jobId, taskId, Number(repeat), i + 1, status, kind]);
          }
        }
        await deployMigrations(empty.url, migrationsDir);
        const rows = (await client.query(`SELECT repeat, string_agg("attemptRole"::text, ' ' ORDER BY attempt) AS roles FROM "Run" GROUP BY repeat ORDER BY repeat`)).rows;
        expect(rows).toEqual([
          { repeat: 1, roles: 'COUNTED EXTRA' },
          { repeat: 2, roles: 'REPLACED REPLACED COUNTED EXTRA' },
          { repeat: 3, roles: 'REPLACED COUNTED' },
          { repeat: 4, roles: 'COUNTED' },
        ]);
      } finally {
        await client.end();
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
      await empty.drop();
    }
  });
});
