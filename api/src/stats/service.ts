// Statistics of jobs and of the platform (DESIGN.md §4). PostgreSQL does the counting, sums and
// percentiles in one pass over a job's runs (GROUP BY GROUPING SETS gives the job row and one row
// per task together); TypeScript only adds the Wilson interval and pass@k from math.ts.
//
// Every job statistic looks at the COUNTED attempt of each (task, repeat) (jobs/attempts.ts): its
// first fair try, so retrying failures until they pass changes no figure; an infrastructure error
// that was retried and passed counts once, as a pass. Extra attempts show only as "best of N".
import { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import { FAIR_TRY } from '../jobs/attempts.js';
import { meanPassAtK, passAtKCurve, type PassAtKValue, wilsonInterval } from './math.js';

export const PHASES = ['environment_setup', 'agent_setup', 'agent_execution', 'verifier'] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseDuration {
  phase: Phase;
  p50Ms: number;
  p95Ms: number;
}

export interface RunStats {
  runs: number;
  passed: number;
  /** Scored runs whose reward the agent may have written (Run.rewardFlag): counted, never as passes. */
  unverified: number;
  failed: number;
  errored: number;
  erroredAgent: number;
  erroredInfrastructure: number;
  cancelled: number;
  unfinished: number;
  scored: number;
  includesInfrastructure: boolean;
  passRate: number | null;
  passRateLow: number | null;
  passRateHigh: number | null;
  meanReward: number | null;
  meanRewardByKey: Record<string, number> | null;
  durationP50Ms: number | null;
  durationP95Ms: number | null;
  phaseDurations: PhaseDuration[];
  inputTokens: number;
  outputTokens: number;
  cacheTokens: number;
  costUsd: number;
  costPerPass: number | null;
  passAtK: PassAtKValue[];
  /** Attempts after a repeat's fair try (retries of scored attempts); none of them counts above. */
  extraAttempts: number;
  /** The most fair tries one scored repeat had (1 without extra attempts; 0 when nothing was scored). */
  bestOf: number;
  /** Scored repeats that passed in some attempt, the counted one or an extra one. */
  bestOfPassed: number;
  bestOfPassRate: number | null;
}

export interface TaskStats extends RunStats {
  taskId: string;
}

export interface JobStats {
  job: RunStats;
  /** One entry per task of the job, ordered by task name. */
  tasks: TaskStats[];
}

export interface StatsOptions {
  /** Count infrastructure failures as failed attempts in the pass rate (default: leave them out). */
  includeInfrastructure?: boolean;
}

/** The counted attempt of each (task, repeat) of a job, as `r` (attempts.ts decides which counts). */
function countedRuns(jobId: string): Prisma.Sql {
  return Prisma.sql`SELECT r.* FROM "Run" r WHERE r."jobId" = ${jobId}::uuid AND r."attemptRole" = 'COUNTED'`;
}

/**
 * Whether a run counts towards the pass rate, over unqualified Run columns: it was a fair try
 * (passed, failed, or errored through the agent) — infrastructure errors only when asked, since a
 * rate-limited or broken sandbox says nothing about the agent.
 */
export function isScored(includeInfrastructure: boolean): Prisma.Sql {
  return Prisma.sql`(${FAIR_TRY} OR (${includeInfrastructure}::boolean AND status = 'ERRORED'))`;
}

interface CountsRow {
  taskId: string | null;
  runs: number;
  passed: number;
  unverified: number;
  failed: number;
  errored: number;
  erroredInfrastructure: number;
  cancelled: number;
  unfinished: number;
  scored: number;
  rewardSum: number | null;
  durationP50: number | null;
  durationP95: number | null;
  environmentSetupN: number;
  environmentSetupP50: number | null;
  environmentSetupP95: number | null;
  agentSetupN: number;
  agentSetupP50: number | null;
  agentSetupP95: number | null;
  agentExecutionN: number;
  agentExecutionP50: number | null;
  agentExecutionP95: number | null;
  verifierN: number;
  verifierP50: number | null;
  verifierP95: number | null;
  inputTokens: number;
  outputTokens: number;
  cacheTokens: number;
  costUsd: number;
  extraAttempts: number;
  bestOf: number;
  bestOfPassed: number;
}

interface RewardKeyRow {
  taskId: string | null;
  key: string;
  sum: number;
}

/** Outcome counts, sums and percentiles per task and for the whole job (the empty grouping set), tasks by name. */
function countsQuery(jobId: string, includeInfrastructure: boolean): Prisma.Sql {
  const scored = isScored(includeInfrastructure);
  const percentiles = (column: string, name: string) => {
    const value = Prisma.raw(`"${column}"::float8`);
    return Prisma.sql`
      count(${value}) FILTER (WHERE scored)::int AS ${Prisma.raw(`"${name}N"`)},
      percentile_cont(0.5) WITHIN GROUP (ORDER BY ${value}) FILTER (WHERE scored) AS ${Prisma.raw(`"${name}P50"`)},
      percentile_cont(0.95) WITHIN GROUP (ORDER BY ${value}) FILTER (WHERE scored) AS ${Prisma.raw(`"${name}P95"`)}`;
  };
  return Prisma.sql`
    WITH extras AS (
      SELECT e."taskId", e.repeat, count(*)::int AS extra,
             count(*) FILTER (WHERE ${FAIR_TRY})::int AS "fairExtra",
             bool_or(e.status = 'PASSED') AS "extraPassed"
        FROM "Run" e
       -- A regrade is a new verdict of an attempt, not another try: never a "best of N" attempt.
       WHERE e."jobId" = ${jobId}::uuid AND e."attemptRole" = 'EXTRA' AND e."regradeOfId" IS NULL
       GROUP BY e."taskId", e.repeat
    ),
    runs AS (
      SELECT l.*, ${scored} AS scored,
             extract(epoch FROM (l."finishedAt" - l."startedAt"))::float8 * 1000 AS "durationMs",
             coalesce(x.extra, 0) AS extra,
             -- Extra attempts follow a fair try, so a repeat that has some was scored.
             1 + coalesce(x."fairExtra", 0) AS tries,
             ((l.status = 'PASSED' AND l."rewardFlag" IS NULL) OR coalesce(x."extraPassed", false)) AS "passedSome"
        FROM (${countedRuns(jobId)}) l
        LEFT JOIN extras x ON x."taskId" = l."taskId" AND x.repeat = l.repeat
    ),
    totals AS (
      SELECT runs."taskId", GROUPING(runs."taskId") = 1 AS "isJob",
             count(*)::int AS runs,
             -- A reward the agent may have written (rewardFlag) is unverified: scored, never a pass.
             count(*) FILTER (WHERE status = 'PASSED' AND "rewardFlag" IS NULL)::int AS passed,
             count(*) FILTER (WHERE "rewardFlag" IS NOT NULL)::int AS unverified,
             count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
             count(*) FILTER (WHERE status = 'ERRORED')::int AS errored,
             count(*) FILTER (WHERE status = 'ERRORED' AND "failureKind" = 'INFRASTRUCTURE')::int AS "erroredInfrastructure",
             count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled,
             count(*) FILTER (WHERE status IN ('QUEUED', 'CLAIMED', 'RUNNING'))::int AS unfinished,
             count(*) FILTER (WHERE scored)::int AS scored,
             sum(CASE WHEN status = 'ERRORED' OR "rewardFlag" IS NOT NULL THEN 0 ELSE coalesce(reward, 0) END) FILTER (WHERE scored)::float8 AS "rewardSum",
             percentile_cont(0.5) WITHIN GROUP (ORDER BY "durationMs") FILTER (WHERE scored) AS "durationP50",
             percentile_cont(0.95) WITHIN GROUP (ORDER BY "durationMs") FILTER (WHERE scored) AS "durationP95",
             ${percentiles('environmentSetupMs', 'environmentSetup')},
             ${percentiles('agentSetupMs', 'agentSetup')},
             ${percentiles('agentExecutionMs', 'agentExecution')},
             ${percentiles('verifierMs', 'verifier')},
             coalesce(sum("inputTokens"), 0)::float8 AS "inputTokens",
             coalesce(sum("outputTokens"), 0)::float8 AS "outputTokens",
             coalesce(sum("cacheTokens"), 0)::float8 AS "cacheTokens",
             coalesce(sum("costUsd"), 0)::float8 AS "costUsd",
             coalesce(sum(extra), 0)::int AS "extraAttempts",
             coalesce(max(tries) FILTER (WHERE scored), 0)::int AS "bestOf",
             count(*) FILTER (WHERE scored AND "passedSome")::int AS "bestOfPassed"
        FROM runs
       GROUP BY GROUPING SETS ((), (runs."taskId"))
    )
    -- Names are joined to the 1 + tasks result rows, not to every run.
    SELECT CASE WHEN NOT totals."isJob" THEN totals."taskId"::text END AS "taskId", totals.*
      FROM totals
      LEFT JOIN "Task" t ON t.id = totals."taskId" AND NOT totals."isJob"
     ORDER BY totals."isJob" DESC, t.name, totals."taskId"`;
}

/** Per reward key, the sum over scored runs, per task and for the whole job. */
function rewardKeysQuery(jobId: string, includeInfrastructure: boolean): Prisma.Sql {
  const scored = isScored(includeInfrastructure);
  // Runs with the same rewards object are summed once: with 0/1 rewards a task has one or two
  // distinct objects however many runs it has, so jsonb_each runs a few hundred times, not 10,000.
  // ERRORED runs add 0, and the mean divides by the scored count, so they are simply left out.
  return Prisma.sql`
    WITH distinct_rewards AS (
      SELECT l."taskId", l.rewards, count(*) AS n
        FROM (${countedRuns(jobId)}) l
       WHERE ${scored} AND l.status <> 'ERRORED' AND l."rewardFlag" IS NULL AND jsonb_typeof(l.rewards) = 'object'
       GROUP BY l."taskId", l.rewards
    )
    SELECT CASE WHEN GROUPING(d."taskId") = 0 THEN d."taskId"::text END AS "taskId",
           kv.key,
           sum(kv.value::float8 * d.n)::float8 AS sum
      FROM distinct_rewards d
      CROSS JOIN LATERAL jsonb_each(d.rewards) kv
     WHERE jsonb_typeof(kv.value) = 'number'
     GROUP BY GROUPING SETS ((kv.key), (d."taskId", kv.key))`;
}

/**
 * Statistics of the whole job and of each of its tasks, from two aggregate queries.
 *
 * Outcome figures (pass rate, mean reward, durations) cover the scored runs; counts, tokens and cost
 * cover every counted attempt, since a cancelled or infrastructure-failed run still spent money.
 * Extra attempts add only the best-of figures.
 * An ERRORED run counts as reward 0 even when the verifier left a reward, like its place in the pass
 * rate; a run without rewards counts 0 for every key (Harbor's `mean` metric does the same).
 */
export async function jobStats(db: Db, jobId: string, options: StatsOptions = {}): Promise<JobStats> {
  const includeInfrastructure = options.includeInfrastructure ?? false;
  const [counts, rewardKeys] = await Promise.all([
    db.$queryRaw<CountsRow[]>(countsQuery(jobId, includeInfrastructure)),
    db.$queryRaw<RewardKeyRow[]>(rewardKeysQuery(jobId, includeInfrastructure)),
  ]);

  const keySums = new Map<string | null, Map<string, number>>();
  for (const row of rewardKeys) {
    const sums = keySums.get(row.taskId) ?? new Map<string, number>();
    sums.set(row.key, row.sum);
    keySums.set(row.taskId, sums);
  }
  const build = (row: CountsRow, passAtK: PassAtKValue[]) => toRunStats(row, includeInfrastructure, keySums.get(row.taskId), passAtK);

  // With no runs at all the grand-total row still comes back (an empty grouping set always yields one row).
  const [total, ...perTask] = counts;
  const tasks = perTask.map((row) => ({ taskId: row.taskId!, ...build(row, passAtKCurve(row.scored, row.passed)) }));
  return {
    job: build(total!, meanPassAtK(perTask.map((row) => ({ n: row.scored, c: row.passed })))),
    tasks,
  };
}

function toRunStats(
  row: CountsRow,
  includeInfrastructure: boolean,
  rewardKeySums: Map<string, number> | undefined,
  passAtK: PassAtKValue[],
): RunStats {
  const interval = wilsonInterval(row.passed, row.scored);
  const mean = (sum: number | null) => (row.scored > 0 ? (sum ?? 0) / row.scored : null);
  const phase = (name: Phase, n: number, p50: number | null, p95: number | null): PhaseDuration[] =>
    n > 0 && p50 !== null && p95 !== null ? [{ phase: name, p50Ms: p50, p95Ms: p95 }] : [];
  return {
    runs: row.runs,
    passed: row.passed,
    unverified: row.unverified,
    failed: row.failed,
    errored: row.errored,
    erroredAgent: row.errored - row.erroredInfrastructure,
    erroredInfrastructure: row.erroredInfrastructure,
    cancelled: row.cancelled,
    unfinished: row.unfinished,
    scored: row.scored,
    includesInfrastructure: includeInfrastructure,
    passRate: row.scored > 0 ? row.passed / row.scored : null,
    passRateLow: interval?.low ?? null,
    passRateHigh: interval?.high ?? null,
    meanReward: mean(row.rewardSum),
    meanRewardByKey:
      rewardKeySums && rewardKeySums.size > 1 && row.scored > 0
        ? Object.fromEntries([...rewardKeySums].sort(([a], [b]) => a.localeCompare(b)).map(([key, sum]) => [key, sum / row.scored]))
        : null,
    durationP50Ms: row.durationP50,
    durationP95Ms: row.durationP95,
    phaseDurations: [
      ...phase('environment_setup', row.environmentSetupN, row.environmentSetupP50, row.environmentSetupP95),
      ...phase('agent_setup', row.agentSetupN, row.agentSetupP50, row.agentSetupP95),
      ...phase('agent_execution', row.agentExecutionN, row.agentExecutionP50, row.agentExecutionP95),
      ...phase('verifier', row.verifierN, row.verifierP50, row.verifierP95),
    ],
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    cacheTokens: row.cacheTokens,
    costUsd: row.costUsd,
    costPerPass: row.passed > 0 ? row.costUsd / row.passed : null,
    passAtK,
    extraAttempts: row.extraAttempts,
    bestOf: row.bestOf,
    bestOfPassed: row.bestOfPassed,
    bestOfPassRate: row.scored > 0 ? row.bestOfPassed / row.scored : null,
  };
}

export interface ErrorCount {
  exceptionType: string;
  failureKind: 'AGENT' | 'INFRASTRUCTURE' | null;
  count: number;
  sampleMessage: string | null;
  sampleRunId: string;
}

/** What a run that errored without any exception is filed under (the verifier left no reward). */
export const NO_EXCEPTION = '(none)';

/**
 * A job's exceptions by type and blame, most frequent first, over the counted attempts: ERRORED runs
 * and runs that kept a reward despite an exception (an agent timeout). Cancellations are their own
 * outcome, not errors. The sample is the most recently finished run of the group.
 */
export function errorBreakdown(db: Db, jobId: string): Promise<ErrorCount[]> {
  return db.$queryRaw<ErrorCount[]>`
    WITH counted AS (${countedRuns(jobId)})
    SELECT coalesce("exceptionType", ${NO_EXCEPTION}) AS "exceptionType",
           "failureKind"::text AS "failureKind",
           count(*)::int AS count,
           (array_agg("exceptionMessage" ORDER BY "finishedAt" DESC NULLS LAST, id))[1] AS "sampleMessage",
           (array_agg(id::text ORDER BY "finishedAt" DESC NULLS LAST, id))[1] AS "sampleRunId"
      FROM counted
     WHERE status <> 'CANCELLED' AND ("exceptionType" IS NOT NULL OR status = 'ERRORED')
     GROUP BY 1, 2
     ORDER BY count DESC, 1, 2`;
}

export interface Overview {
  runsQueued: number;
  runsRunning: number;
  runsFinishedToday: number;
  runsPassedToday: number;
  jobsActive: number;
  queueDepth: number;
}

/**
 * Live counters across all jobs. Each is a count over an index ((status, dispatchedAt) on runs,
 * finishedAt for today, (status, createdAt) on jobs), so the cost follows what is active, not history.
 * "Today" starts at midnight UTC.
 */
export async function overview(db: Db): Promise<Overview> {
  const [row] = await db.$queryRaw<Overview[]>`
    SELECT
      (SELECT count(*) FROM "Run" WHERE status = 'QUEUED')::int AS "runsQueued",
      (SELECT count(*) FROM "Run" WHERE status IN ('CLAIMED', 'RUNNING'))::int AS "runsRunning",
      today."finished" AS "runsFinishedToday",
      today."passed" AS "runsPassedToday",
      (SELECT count(*) FROM "Job" WHERE status IN ('QUEUED', 'RUNNING', 'CANCELLING'))::int AS "jobsActive",
      (SELECT count(*) FROM "Run" WHERE status = 'QUEUED' AND "dispatchedAt" IS NOT NULL)::int AS "queueDepth"
    FROM (
      SELECT count(*)::int AS finished, count(*) FILTER (WHERE status = 'PASSED')::int AS passed
        FROM "Run" WHERE "finishedAt" >= date_trunc('day', now(), 'UTC')
    ) today`;
  return row!;
}

/** Suggestions are a short list; more than this is never useful in a dropdown. */
export const MAX_MODELS = 100;

/**
 * Models earlier jobs used, most recently used first; `search` matches anywhere in the name,
 * case-insensitively and literally (`%` and `_` are not wildcards).
 */
export async function recentModels(db: Db, options: { search?: string | null; first?: number | null } = {}): Promise<string[]> {
  const first = Math.min(Math.max(options.first ?? 20, 0), MAX_MODELS);
  const search = options.search?.trim() ?? '';
  const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const rows = await db.$queryRaw<{ model: string }[]>`
    SELECT model FROM "Job"
     WHERE model <> '' AND model ILIKE ${pattern}
     GROUP BY model
     ORDER BY max("createdAt") DESC, model
     LIMIT ${first}`;
  return rows.map((r) => r.model);
}
