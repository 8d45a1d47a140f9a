// Per-test results of runs (issue 8): stored with the run's outcome, and the tests that fail most
// often across a job's or a task's runs. The runner parses and bounds them (runner/src/harbor/tests/);
// here they are written as rows and counted by PostgreSQL.
import { Prisma } from '../generated/prisma/client.js';
import type { TestsSource } from '../generated/prisma/enums.js';
import type { TestResults } from 'runner/protocol';
import type { Db } from '../db/client.js';

type Tx = Prisma.TransactionClient;

/** Most failing tests one query returns: a table people read, not an export. */
export const MAX_FAILING_TESTS = 100;

const SOURCE: Record<NonNullable<TestResults['source']>, TestsSource> = {
  ctrf: 'CTRF',
  pytest: 'PYTEST',
  junit: 'JUNIT',
  jest: 'JEST',
  go: 'GO',
  unittest: 'UNITTEST',
  cargo: 'CARGO',
};

/** PostgreSQL text cannot hold NUL, and one in a test's output must not make the event unrecordable. */
const text = (s: string) => s.replaceAll('\u0000', '\uFFFD');

/** The Run columns for a finished run's tests; all null when the runner sent none (or is older than tests). */
export function testColumns(tests: TestResults | undefined): Prisma.RunUpdateInput {
  if (!tests) return { testsPassed: null, testsFailed: null, testsTotal: null, testsSource: null, testsNote: null };
  const read = tests.source !== null;
  return {
    testsPassed: read ? tests.passed : null,
    testsFailed: read ? tests.failed : null,
    testsTotal: read ? tests.total : null,
    testsSource: read ? SOURCE[tests.source!] : null,
    testsNote: tests.note ? text(tests.note) : null,
  };
}

/**
 * Replaces the run's test rows, inside the transaction that records its outcome: applied twice, it
 * leaves the same rows (the recorder already ignores a repeated event; this holds even if it did not).
 */
export async function replaceTests(tx: Tx, runId: string, tests: TestResults | undefined): Promise<void> {
  await tx.runTest.deleteMany({ where: { runId } });
  if (!tests?.cases.length) return;
  await tx.runTest.createMany({
    data: tests.cases.map((c, position) => ({
      runId,
      position,
      name: text(c.name),
      status: c.status,
      durationMs: c.durationMs ?? null,
      message: c.message === undefined ? null : text(c.message),
    })),
  });
}

export interface FailingTest {
  taskId: string;
  name: string;
  /** Runs in which it failed. */
  failures: number;
  /** Runs that reported it at all. */
  runs: number;
  /** The message of its most recent failure. */
  lastMessage: string | null;
  /** The most recent run in which it failed, to open. */
  sampleRunId: string;
}

/**
 * Tests by how many runs they failed in, most first (then the higher failure rate, then by name),
 * per task and name. Only the counted attempt of each (job, task, repeat) counts, once it finished,
 * as in the job statistics (jobs/attempts.ts): an extra attempt that passed hides no failure.
 */
export async function failingTests(db: Db, scope: { jobId?: string; taskId?: string }, first: number): Promise<FailingTest[]> {
  const conditions = [Prisma.sql`r.status IN ('PASSED', 'FAILED', 'ERRORED', 'CANCELLED')`];
  if (scope.jobId) conditions.push(Prisma.sql`r."jobId" = ${scope.jobId}::uuid`);
  if (scope.taskId) conditions.push(Prisma.sql`r."taskId" = ${scope.taskId}::uuid`);
  return db.$queryRaw<FailingTest[]>`
    WITH counted AS (
      SELECT r.id, r."taskId", r."finishedAt"
        FROM "Run" r
       WHERE ${Prisma.join(conditions, ' AND ')} AND r."attemptRole" = 'COUNTED'
    )
    SELECT l."taskId"::text AS "taskId", t.name,
           count(DISTINCT l.id) FILTER (WHERE t.status = 'FAILED')::int AS failures,
           count(DISTINCT l.id)::int AS runs,
           (array_agg(t.message ORDER BY l."finishedAt" DESC NULLS LAST, l.id) FILTER (WHERE t.status = 'FAILED'))[1] AS "lastMessage",
           (array_agg(l.id::text ORDER BY l."finishedAt" DESC NULLS LAST, l.id) FILTER (WHERE t.status = 'FAILED'))[1] AS "sampleRunId"
      FROM counted l
      JOIN "RunTest" t ON t."runId" = l.id
      JOIN "Task" k ON k.id = l."taskId"
     GROUP BY l."taskId", k.name, t.name
    HAVING count(*) FILTER (WHERE t.status = 'FAILED') > 0
     ORDER BY failures DESC, runs ASC, t.name, k.name, l."taskId"
     LIMIT ${first}`;
}
