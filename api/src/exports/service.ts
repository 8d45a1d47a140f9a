// A job's runs and per-task summary as rows for exports (issue 7 item 5). Runs are read a page at a
// time with a keyset cursor, so an export of 100,000 runs holds one page in memory, and the HTTP
// layer pulls the next page only when the client has taken the previous one. The column names are
// a public contract (docs/api.md "Exports"): add columns at the end, never rename or drop one.
import type { Db } from '../db/client.js';
import { jobStats, type TaskStats } from '../stats/service.js';

/** Rows per query: large enough that a page costs little more than its rows, small enough to keep memory flat. */
export const EXPORT_PAGE_SIZE = 1_000;

export interface RunRow {
  id: string;
  jobId: string;
  taskId: string;
  taskName: string;
  repeat: number;
  attempt: number;
  /** False when a later attempt of the same repeat exists. */
  latestAttempt: boolean;
  retryOfId: string | null;
  status: string;
  reward: number | null;
  rewards: unknown;
  exceptionType: string | null;
  exceptionMessage: string | null;
  failureKind: string | null;
  inputTokens: number | null;
  cacheTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  environmentSetupMs: number | null;
  agentSetupMs: number | null;
  agentExecutionMs: number | null;
  verifierMs: number | null;
  durationMs: number | null;
  runnerId: string | null;
  deliveryCount: number;
  createdAt: Date;
  dispatchedAt: Date | null;
  claimedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** COUNTED, REPLACED or EXTRA (jobs/attempts.ts): statistics count the COUNTED attempts only. */
  attemptRole: string;
  // issue 16 items 11-12
  /** For a regrade: the run whose agent output it graded again. */
  regradeOfId: string | null;
  /** For a regrade: the task upload whose tests graded it. */
  regradeTaskId: string | null;
  /** WRITTEN_BEFORE_VERIFIER or FILES_DISAGREE: the reward may be the agent's (unverified, never a pass). */
  rewardFlag: string | null;
  rewardFlagDetail: string | null;
  // Issue 16 item 3: Harbor's record beyond the outcome (runs/details.ts).
  agentVersion: string | null;
  modelUsage: unknown;
  agentMetadata: unknown;
  exceptionTraceback: string | null;
  exceptionOccurredAt: Date | null;
  verifierEnvironmentMode: string | null;
  stepResults: unknown;
}

export const RUN_COLUMNS = [
  'id', 'jobId', 'taskId', 'taskName', 'repeat', 'attempt', 'latestAttempt', 'retryOfId', 'status', 'reward', 'rewards',
  'exceptionType', 'exceptionMessage', 'failureKind', 'inputTokens', 'cacheTokens', 'outputTokens', 'costUsd',
  'environmentSetupMs', 'agentSetupMs', 'agentExecutionMs', 'verifierMs', 'durationMs', 'runnerId', 'deliveryCount',
  'createdAt', 'dispatchedAt', 'claimedAt', 'startedAt', 'finishedAt', 'attemptRole',
  'regradeOfId', 'regradeTaskId', 'rewardFlag', 'rewardFlagDetail',
  'agentVersion', 'modelUsage', 'agentMetadata', 'exceptionTraceback', 'exceptionOccurredAt', 'verifierEnvironmentMode', 'stepResults',
] as const satisfies readonly (keyof RunRow)[];

/** A task's row of the per-task summary: its statistics (stats/service.ts) and its name. */
export interface TaskRow extends TaskStats {
  taskName: string;
}

export const TASK_COLUMNS = [
  'taskId', 'taskName', 'runs', 'passed', 'failed', 'errored', 'erroredAgent', 'erroredInfrastructure', 'cancelled',
  'unfinished', 'scored', 'includesInfrastructure', 'passRate', 'passRateLow', 'passRateHigh', 'meanReward',
  'meanRewardByKey', 'durationP50Ms', 'durationP95Ms', 'phaseDurations', 'inputTokens', 'outputTokens', 'cacheTokens',
  'costUsd', 'costPerPass', 'passAtK', 'extraAttempts', 'bestOf', 'bestOfPassed', 'bestOfPassRate', 'unverified',
] as const satisfies readonly (keyof TaskRow)[];

interface Cursor {
  taskName: string;
  taskId: string;
  repeat: number;
  attempt: number;
}

/**
 * A job's runs ordered by task name, task, repeat and attempt (the order a person reads them in;
 * the keyset cursor follows it, so pages never skip or repeat a run): the counted attempt of each
 * repeat, the one its statistics count, or with `allAttempts` every attempt.
 */
export async function* exportRuns(db: Db, jobId: string, allAttempts = false, pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<RunRow> {
  let after: Cursor | null = null;
  for (;;) {
    const page: RunRow[] = await db.$queryRaw<RunRow[]>`
      SELECT r.id::text, r."jobId"::text, r."taskId"::text, t.name AS "taskName", r.repeat, r.attempt,
             NOT EXISTS (SELECT 1 FROM "Run" n WHERE n."jobId" = r."jobId" AND n."taskId" = r."taskId"
                                                  AND n.repeat = r.repeat AND n.attempt > r.attempt) AS "latestAttempt",
             r."retryOfId"::text, r.status::text, r.reward, r.rewards, r."exceptionType", r."exceptionMessage",
             r."failureKind"::text, r."inputTokens", r."cacheTokens", r."outputTokens", r."costUsd"::float8 AS "costUsd",
             r."environmentSetupMs", r."agentSetupMs", r."agentExecutionMs", r."verifierMs",
             (extract(epoch FROM (r."finishedAt" - r."startedAt")) * 1000)::float8 AS "durationMs",
             r."runnerId", r."deliveryCount", r."createdAt", r."dispatchedAt", r."claimedAt", r."startedAt", r."finishedAt",
             r."attemptRole"::text AS "attemptRole",
             r."regradeOfId"::text AS "regradeOfId", r."regradeTaskId"::text AS "regradeTaskId",
             r."rewardFlag"::text AS "rewardFlag", r."rewardFlagDetail",
             r."agentVersion", r."modelUsage", r."agentMetadata", r."exceptionTraceback", r."exceptionOccurredAt",
             r."verifierEnvironmentMode", r."stepResults"
        FROM "Run" r JOIN "Task" t ON t.id = r."taskId"
       WHERE r."jobId" = ${jobId}::uuid AND (${allAttempts}::boolean OR r."attemptRole" = 'COUNTED')
         AND (${after === null}::boolean
              OR (t.name, r."taskId", r.repeat, r.attempt) > (${after?.taskName ?? ''}, ${after?.taskId ?? jobId}::uuid, ${after?.repeat ?? 0}::int, ${after?.attempt ?? 0}::int))
       ORDER BY t.name, r."taskId", r.repeat, r.attempt
       LIMIT ${pageSize}`;
    yield* page;
    if (page.length < pageSize) return;
    const last = page[page.length - 1]!;
    after = { taskName: last.taskName, taskId: last.taskId, repeat: last.repeat, attempt: last.attempt };
  }
}

/**
 * The per-task summary of jobStats (stats/service.ts), by task name. jobStats aggregates in the
 * database, so what comes back is one row per task, not the runs; names are looked up a page at a time.
 */
export async function* exportTasks(db: Db, jobId: string, includeInfrastructure: boolean): AsyncGenerator<TaskRow> {
  const { tasks } = await jobStats(db, jobId, { includeInfrastructure });
  for (let i = 0; i < tasks.length; i += EXPORT_PAGE_SIZE) {
    const page = tasks.slice(i, i + EXPORT_PAGE_SIZE);
    const names = new Map(
      (await db.task.findMany({ where: { id: { in: page.map((s) => s.taskId) } }, select: { id: true, name: true } })).map((t) => [t.id, t.name]),
    );
    for (const s of page) {
      const row: TaskRow = { ...s, taskName: names.get(s.taskId) ?? '' };
      // Only the documented columns, in their order (JSON output keeps the keys' order).
      yield Object.fromEntries(TASK_COLUMNS.map((column) => [column, row[column]])) as unknown as TaskRow;
    }
  }
}
