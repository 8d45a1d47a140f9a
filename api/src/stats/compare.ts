// Comparing jobs (issue 7, item 3): typically the same tasks under different agents or models.
// PostgreSQL counts the counted attempts (jobs/attempts.ts) per job and per (job, task) in one
// GROUP BY over the jobs' runs, so a job whose failures were retried compares on its first tries; TypeScript only pairs the tasks and runs the small tests from math.ts on those counts.
import { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import { mcnemarExactP, pairedBootstrap, wilsonInterval } from './math.js';
import { isScored, type StatsOptions } from './service.js';

/** Two is the least a comparison needs; beyond ten the grid stops being readable and the tests multiply. */
export const MIN_COMPARED_JOBS = 2;
export const MAX_COMPARED_JOBS = 10;

/** A task "passes" for a job, for McNemar, when its pass rate is above this; exactly half is not a pass. */
export const MAJORITY = 0.5;

/** One job's own numbers over its counted attempts, and how it differs from the baseline. */
export interface ComparedJob {
  jobId: string;
  runs: number;
  scored: number;
  passed: number;
  passRate: number | null;
  passRateLow: number | null;
  passRateHigh: number | null;
  costUsd: number;
  costPerPass: number | null;
  /** Null for the baseline itself. */
  vsBaseline: BaselineDifference | null;
}

/** A job against the baseline on their common tasks: those with at least one scored run in both. */
export interface BaselineDifference {
  commonTasks: number;
  /** Mean over common tasks of (this job's pass rate − the baseline's); null without common tasks. */
  passRateDifference: number | null;
  passRateDifferenceLow: number | null;
  passRateDifferenceHigh: number | null;
  /** Common tasks the baseline passes by majority and this job does not (McNemar's b). */
  onlyBaselinePasses: number;
  /** Common tasks this job passes by majority and the baseline does not (McNemar's c). */
  onlyThisPasses: number;
  /** Exact two-sided McNemar p-value; null without common tasks. */
  mcnemarP: number | null;
}

/** One task in one job; absent (null) where the job did not run the task. */
export interface TaskResult {
  runs: number;
  scored: number;
  passed: number;
  passRate: number | null;
  /** This pass rate − the baseline's, when both exist; null in the baseline's own column. */
  differenceVsBaseline: number | null;
}

export interface ComparedTask {
  taskId: string;
  /** One entry per compared job, in the order the jobs were given. */
  results: (TaskResult | null)[];
}

export interface JobComparison {
  includesInfrastructure: boolean;
  /** In the order given; the first is the baseline. */
  jobs: ComparedJob[];
  /** Every task any of the jobs ran, by name. */
  tasks: ComparedTask[];
}

/**
 * The ids as a comparison needs them: 2 to 10 distinct UUIDs of jobs that exist. Throws
 * InvalidInputError (count, format, duplicate) or NotFoundError (the first unknown id).
 */
export async function parseJobIds(db: Db, ids: readonly (string | number)[], field = 'ids'): Promise<string[]> {
  if (ids.length < MIN_COMPARED_JOBS || ids.length > MAX_COMPARED_JOBS) {
    throw new InvalidInputError(
      `give ${MIN_COMPARED_JOBS} to ${MAX_COMPARED_JOBS} job ids to compare, got ${ids.length}`,
      field,
    );
  }
  const parsed = ids.map((id, i) => parseId(id, `${field}.${i}`));
  const seen = new Map<string, number>();
  for (const [i, id] of parsed.entries()) {
    const first = seen.get(id);
    if (first !== undefined) throw new InvalidInputError(`job ${id} is given twice (${field}.${first} and ${field}.${i}); compare each job once`, `${field}.${i}`);
    seen.set(id, i);
  }
  const found = new Set((await db.job.findMany({ where: { id: { in: parsed } }, select: { id: true } })).map((j) => j.id));
  const missing = parsed.find((id) => !found.has(id));
  if (missing) throw new NotFoundError('job', missing);
  return parsed;
}

interface CountsRow {
  jobId: string;
  /** Null on a job's total row. */
  taskId: string | null;
  runs: number;
  scored: number;
  passed: number;
  costUsd: number;
}

/** Counted attempts per (job, task, repeat), per job and per (job, task); task rows by task name. */
function countsQuery(jobIds: readonly string[], includeInfrastructure: boolean): Prisma.Sql {
  const ids = Prisma.join(jobIds.map((id) => Prisma.sql`${id}::uuid`));
  return Prisma.sql`
    WITH counted AS (
      SELECT r."jobId", r."taskId", r.status, r."failureKind", r."costUsd", r."rewardFlag"
        FROM "Run" r
       WHERE r."jobId" IN (${ids}) AND r."attemptRole" = 'COUNTED'
    ),
    totals AS (
      SELECT "jobId", "taskId", GROUPING("taskId") = 1 AS "isJob",
             count(*)::int AS runs,
             count(*) FILTER (WHERE ${isScored(includeInfrastructure)})::int AS scored,
             -- An unverified reward (the agent may have written it) is no pass, as in the job's statistics.
             count(*) FILTER (WHERE status = 'PASSED' AND "rewardFlag" IS NULL)::int AS passed,
             coalesce(sum("costUsd"), 0)::float8 AS "costUsd"
        FROM counted
       GROUP BY GROUPING SETS (("jobId"), ("jobId", "taskId"))
    )
    SELECT totals."jobId"::text AS "jobId", CASE WHEN NOT totals."isJob" THEN totals."taskId"::text END AS "taskId",
           totals.runs, totals.scored, totals.passed, totals."costUsd"
      FROM totals
      LEFT JOIN "Task" t ON t.id = totals."taskId" AND NOT totals."isJob"
     ORDER BY totals."isJob" DESC, t.name, totals."taskId"`;
}

const rate = (passed: number, scored: number) => (scored > 0 ? passed / scored : null);

/**
 * Compares jobs given by already parsed, existing ids (see parseJobIds); the first is the baseline.
 *
 * Each job: pass rate with its Wilson interval and cost per pass, as in jobStats. Against the
 * baseline, on the common tasks: the mean per-task pass-rate difference with a 95% paired bootstrap
 * interval (math.ts pairedBootstrap, fixed seed), and an exact McNemar test on each task's majority
 * outcome (pass rate > 0.5).
 */
export async function compareJobs(db: Db, jobIds: readonly string[], options: StatsOptions = {}): Promise<JobComparison> {
  const includeInfrastructure = options.includeInfrastructure ?? false;
  const rows = await db.$queryRaw<CountsRow[]>(countsQuery(jobIds, includeInfrastructure));

  const column = new Map(jobIds.map((id, i) => [id, i]));
  const totals = new Map<string, CountsRow>();
  const tasks: ComparedTask[] = [];
  const taskIndex = new Map<string, ComparedTask>();
  for (const row of rows) {
    if (row.taskId === null) {
      totals.set(row.jobId, row);
      continue;
    }
    let task = taskIndex.get(row.taskId);
    if (!task) {
      task = { taskId: row.taskId, results: jobIds.map(() => null) };
      taskIndex.set(row.taskId, task);
      tasks.push(task);
    }
    task.results[column.get(row.jobId)!] = {
      runs: row.runs,
      scored: row.scored,
      passed: row.passed,
      passRate: rate(row.passed, row.scored),
      differenceVsBaseline: null,
    };
  }
  for (const task of tasks) {
    const baseline = task.results[0]?.passRate ?? null;
    task.results.forEach((result, i) => {
      if (i > 0 && result && result.passRate !== null && baseline !== null) result.differenceVsBaseline = result.passRate - baseline;
    });
  }

  const jobs = jobIds.map((jobId, i): ComparedJob => {
    const total = totals.get(jobId) ?? { runs: 0, scored: 0, passed: 0, costUsd: 0 };
    const interval = wilsonInterval(total.passed, total.scored);
    return {
      jobId,
      runs: total.runs,
      scored: total.scored,
      passed: total.passed,
      passRate: rate(total.passed, total.scored),
      passRateLow: interval?.low ?? null,
      passRateHigh: interval?.high ?? null,
      costUsd: total.costUsd,
      costPerPass: total.passed > 0 ? total.costUsd / total.passed : null,
      vsBaseline: i === 0 ? null : baselineDifference(tasks, i),
    };
  });
  return { includesInfrastructure: includeInfrastructure, jobs, tasks };
}

function baselineDifference(tasks: readonly ComparedTask[], column: number): BaselineDifference {
  const differences: number[] = [];
  let onlyBaselinePasses = 0;
  let onlyThisPasses = 0;
  for (const { results } of tasks) {
    const baseline = results[0]?.passRate ?? null;
    const other = results[column]?.passRate ?? null;
    if (baseline === null || other === null) continue;
    differences.push(other - baseline);
    const baselinePasses = baseline > MAJORITY;
    const otherPasses = other > MAJORITY;
    if (baselinePasses && !otherPasses) onlyBaselinePasses++;
    if (otherPasses && !baselinePasses) onlyThisPasses++;
  }
  const bootstrap = pairedBootstrap(differences);
  return {
    commonTasks: differences.length,
    passRateDifference: bootstrap?.mean ?? null,
    passRateDifferenceLow: bootstrap?.low ?? null,
    passRateDifferenceHigh: bootstrap?.high ?? null,
    onlyBaselinePasses,
    onlyThisPasses,
    mcnemarP: differences.length > 0 ? mcnemarExactP(onlyBaselinePasses, onlyThisPasses) : null,
  };
}
