// Attempts (DESIGN.md §4). A repeat (task × repeat index) of a job has a first attempt and one more
// per retry. Which of them counts is decided here, when retryRuns adds an attempt, and kept in
// Run.attemptRole; every count and statistic reads that column and nothing else.
//
// - A repeat counts its first fair try: PASSED, FAILED, or ERRORED not blamed on the infrastructure
//   (an agent timeout, a context overflow). That is the agent's result. Retrying it adds an EXTRA
//   attempt, shown as "best of N" but never raising a pass rate, pass@k or a comparison: retrying
//   failures until they pass would make any model look better than one that was not retried.
// - Until it has a fair try, the repeat counts its latest attempt: retrying an infrastructure error
//   or a cancelled attempt REPLACES it, since the agent never had a fair try.
//
// Roles change only when an attempt is added: only finished attempts are retried, and whether a
// finished attempt was a fair try never changes afterwards.
import { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';

type Tx = Prisma.TransactionClient;

/** A fair try, over unqualified Run columns: the agent ran and its outcome says something about it. */
export const FAIR_TRY = Prisma.sql`(status IN ('PASSED', 'FAILED') OR (status = 'ERRORED' AND "failureKind" IS DISTINCT FROM 'INFRASTRUCTURE'))`;

/** What retryRuns(which) retries among the latest attempts, over unqualified Run columns. */
export const RETRY_SELECTIONS = {
  FAILED: Prisma.sql`status = 'FAILED'`,
  ERRORED: Prisma.sql`status = 'ERRORED'`,
  INFRA: Prisma.sql`(status = 'ERRORED' AND "failureKind" = 'INFRASTRUCTURE')`,
  CANCELLED: Prisma.sql`status = 'CANCELLED'`,
  UNSUCCESSFUL: Prisma.sql`status IN ('FAILED', 'ERRORED', 'CANCELLED')`,
} satisfies Record<string, Prisma.Sql>;
export type RetrySelection = keyof typeof RETRY_SELECTIONS;
const RETRY_SELECTION_NAMES = Object.keys(RETRY_SELECTIONS) as RetrySelection[];

/**
 * The latest attempt of each of the job's repeats, as `r`, among those the condition keeps. A repeat
 * whose latest attempt is a regrade (regrade.ts) has none: a retry would run the agent again on the
 * old task, so such a repeat is regraded again instead (regradeRuns).
 */
function latestAttempts(jobId: string, condition: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
    SELECT r.id, r."taskId", r.repeat, r.attempt, r.status, r."failureKind"
      FROM "Run" r
     WHERE r."jobId" = ${jobId}::uuid AND ${condition} AND r."regradeOfId" IS NULL
       AND NOT EXISTS (SELECT 1 FROM "Run" n
                        WHERE n."jobId" = r."jobId" AND n."taskId" = r."taskId" AND n.repeat = r.repeat AND n.attempt > r.attempt)`;
}

/**
 * Adds a new attempt after the latest attempt of every repeat that matches `which`, each with its
 * role: EXTRA when the repeat already had a fair try, otherwise COUNTED, the attempt it retries
 * becoming REPLACED. Returns how many were added. The caller holds the job's row lock, so two
 * retries cannot add the same attempt twice, and updates the job's counters.
 */
export async function addAttempts(tx: Tx, jobId: string, which: RetrySelection): Promise<number> {
  return tx.$executeRaw`
    WITH retried AS (
      SELECT l.*,
             EXISTS (SELECT 1 FROM "Run" p
                      WHERE p."jobId" = ${jobId}::uuid AND p."taskId" = l."taskId" AND p.repeat = l.repeat AND ${FAIR_TRY}) AS "hadFairTry"
        FROM (${latestAttempts(jobId, RETRY_SELECTIONS[which])}) l
    ),
    replaced AS (
      UPDATE "Run" r SET "attemptRole" = 'REPLACED' FROM retried t WHERE r.id = t.id AND NOT t."hadFairTry"
    )
    INSERT INTO "Run" (id, "jobId", "taskId", repeat, attempt, "retryOfId", "attemptRole")
    SELECT gen_random_uuid(), ${jobId}::uuid, t."taskId", t.repeat, t.attempt + 1, t.id,
           (CASE WHEN t."hadFairTry" THEN 'EXTRA' ELSE 'COUNTED' END)::"AttemptRole"
      FROM retried t
     ORDER BY t."taskId", t.repeat`;
}

/** Per selection, how many attempts retryRuns(which) would add now. */
export type RetryableCounts = Record<RetrySelection, number>;

export async function retryableCounts(db: Db, jobId: string): Promise<RetryableCounts> {
  const unsuccessful = RETRY_SELECTIONS.UNSUCCESSFUL;
  const count = (which: RetrySelection) => Prisma.sql`count(*) FILTER (WHERE ${RETRY_SELECTIONS[which]})::int AS ${Prisma.raw(`"${which}"`)}`;
  // Only unsuccessful attempts are read (the (jobId, status) index finds them), each checked for a later one.
  const [row] = await db.$queryRaw<RetryableCounts[]>`
    SELECT ${Prisma.join(RETRY_SELECTION_NAMES.map(count))}
      FROM (${latestAttempts(jobId, unsuccessful)}) latest`;
  return row!;
}

/** A job's run counters as people read them: one attempt per repeat, and the others apart. */
export interface AttemptCounters {
  /** Counted attempts: one per repeat, runsPerTask × tasks. */
  runsTotal: number;
  runsQueued: number;
  runsClaimed: number;
  runsRunning: number;
  runsPassed: number;
  runsFailed: number;
  runsErrored: number;
  runsCancelled: number;
  /** Every attempt, counted, replaced and extra. */
  attemptsTotal: number;
  replacedAttempts: number;
  extraAttempts: number;
}

/**
 * The counters of each job, in one statement (one snapshot): the job row's counters over every
 * attempt (the recorder keeps them, and settles the job with them) minus its replaced and extra
 * attempts, which are few and found through the (jobId, attemptRole, status) index.
 */
export async function attemptCounters(db: Db, jobIds: readonly string[]): Promise<Map<string, AttemptCounters>> {
  const ids = [...jobIds];
  const rows = await db.$queryRaw<(AttemptCounters & { jobId: string })[]>`
    SELECT j.id::text AS "jobId",
           j."runsTotal" - coalesce(o.total, 0) AS "runsTotal",
           j."runsQueued" - coalesce(o.queued, 0) AS "runsQueued",
           j."runsClaimed" - coalesce(o.claimed, 0) AS "runsClaimed",
           j."runsRunning" - coalesce(o.running, 0) AS "runsRunning",
           j."runsPassed" - coalesce(o.passed, 0) AS "runsPassed",
           j."runsFailed" - coalesce(o.failed, 0) AS "runsFailed",
           j."runsErrored" - coalesce(o.errored, 0) AS "runsErrored",
           j."runsCancelled" - coalesce(o.cancelled, 0) AS "runsCancelled",
           j."runsTotal" AS "attemptsTotal",
           coalesce(o.replaced, 0) AS "replacedAttempts",
           coalesce(o.extra, 0) AS "extraAttempts"
      FROM "Job" j
      LEFT JOIN (
        SELECT "jobId",
               count(*)::int AS total,
               count(*) FILTER (WHERE status = 'QUEUED')::int AS queued,
               count(*) FILTER (WHERE status = 'CLAIMED')::int AS claimed,
               count(*) FILTER (WHERE status = 'RUNNING')::int AS running,
               count(*) FILTER (WHERE status = 'PASSED')::int AS passed,
               count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
               count(*) FILTER (WHERE status = 'ERRORED')::int AS errored,
               count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled,
               count(*) FILTER (WHERE "attemptRole" = 'REPLACED')::int AS replaced,
               count(*) FILTER (WHERE "attemptRole" = 'EXTRA')::int AS extra
          FROM "Run"
         WHERE "jobId" = ANY(${ids}::uuid[]) AND "attemptRole" IN ('REPLACED', 'EXTRA')
         GROUP BY "jobId"
      ) o ON o."jobId" = j.id
     WHERE j.id = ANY(${ids}::uuid[])`;
  return new Map(rows.map(({ jobId, ...counters }) => [jobId, counters]));
}
