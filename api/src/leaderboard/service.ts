// The leaderboard of a dataset version (issue 17 item 2): every agent × model (× agent version)
// that ran the version's tasks, in any job. PostgreSQL aggregates the counted attempts per row ×
// task (at most rows × tasks result rows, never the trials) and, per row, the median trial time and
// the jobs; TypeScript combines those few figures with math.ts.
//
// Counting follows the job statistics (stats/service.ts): only COUNTED attempts (jobs/attempts.ts),
// scored = a fair try (infrastructure errors only when included), reward of a scored ERRORED or
// unverified run = 0, a missing reward = 0; cost and tokens over every counted attempt.
import { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import { isScored } from '../stats/service.js';
import type { PassAtKValue } from '../stats/math.js';
import { accuracyOf, LEADERBOARD_RULE, meanPassAtK, meanPassHatK, type TaskFigures } from './math.js';

/** A null Run.agentVersion, when rows are split by agent version. */
export const UNKNOWN_VERSION = 'unknown';

export interface LeaderboardOptions {
  /** Only this agent's jobs (exact name). */
  agent?: string | null;
  /** Only this model's jobs (exact model string). */
  model?: string | null;
  includeInfrastructure?: boolean;
  /** One row per agent version (Run.agentVersion) as well; a null version is "unknown". */
  splitByAgentVersion?: boolean;
}

/** Which rows: agent, model ('' for none) and agent version ('' when rows are not split by it). */
export interface RowKey {
  key: string;
  agent: string;
  model: string | null;
  agentVersion: string | null;
}

// A key is agent|model|agentVersion with `%` and `|` escaped in each part, so any name round-trips.
const escapePart = (part: string) => part.replace(/%/g, '%25').replace(/\|/g, '%7C');
const unescapePart = (part: string) => part.replace(/%7C/gi, '|').replace(/%25/g, '%');

/** The stable key of a row: `agent|model|agentVersion`, an empty part for no model or no version split. */
export function rowKey(agent: string, model: string | null, agentVersion: string | null): string {
  return [agent, model ?? '', agentVersion ?? ''].map(escapePart).join('|');
}

/** The row a key names; throws InvalidInputError when it is not three parts with an agent. */
export function parseRowKey(key: string, field: string): RowKey {
  const parts = key.split('|');
  if (parts.length !== 3 || parts[0] === '') {
    throw new InvalidInputError(`${field} must be a leaderboard row key agent|model|agentVersion, got ${JSON.stringify(key.slice(0, 200))}`, field);
  }
  const [agent, model, agentVersion] = parts.map(unescapePart) as [string, string, string];
  return { key, agent, model: model || null, agentVersion: agentVersion || null };
}

export interface DatasetTaskRef {
  taskId: string;
  /** The task's name in the dataset. */
  name: string;
}

/** One row × task cell as PostgreSQL aggregates it. */
export interface CellFigures extends TaskFigures {
  unfinished: number;
  infrastructureErrors: number;
  /** Counted attempts that ended (PASSED, FAILED, ERRORED, CANCELLED): the infrastructure error rate's base. */
  finished: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheTokens: number;
}

export interface RowCells extends RowKey {
  /** Per task of the version that this row has any counted attempt of, in the version's task order. */
  cells: Map<string, CellFigures>;
  /** The jobs whose trials the row holds, oldest first. */
  jobIds: string[];
}

export interface Aggregate {
  datasetVersionId: string;
  /** The version's tasks by name. */
  tasks: DatasetTaskRef[];
  rows: RowCells[];
}

/** The version id parsed and checked; NotFoundError when no such version exists. */
export async function requireDatasetVersion(db: Db, id: string | number, field = 'datasetVersionId'): Promise<string> {
  const versionId = parseId(id, field);
  const found = await db.datasetVersion.findUnique({ where: { id: versionId }, select: { id: true } });
  if (!found) throw new NotFoundError('dataset version', versionId);
  return versionId;
}

/** Agent and model filters on the job `j`. */
function jobFilter(options: LeaderboardOptions): Prisma.Sql {
  const agent = options.agent ?? null;
  const model = options.model ?? null;
  return Prisma.sql`(${agent}::text IS NULL OR j.agent = ${agent}::text) AND (${model}::text IS NULL OR j.model = ${model}::text)`;
}

/** The row's agent version part: a run's version ("unknown" when none) when split, else ''. */
function versionOf(options: LeaderboardOptions): Prisma.Sql {
  const split = options.splitByAgentVersion ?? true;
  return Prisma.sql`(CASE WHEN ${split}::boolean THEN coalesce(r."agentVersion", ${UNKNOWN_VERSION}) ELSE '' END)`;
}

interface CellRow extends CellFigures {
  jobId: string;
  agent: string;
  model: string;
  jobCreatedAt: Date;
  agentVersion: string;
  taskId: string;
}

/**
 * Per job × agent version × task, the figures of the counted attempts of the version's tasks,
 * grouped on uuids (cheap to hash) and named with the job's agent and model after the aggregate,
 * on at most jobs × tasks rows. Sums run in float8: numeric sums over 100,000 rows cost more than
 * the rest of the query. The scored test and the reward are computed once per run.
 */
function cellsQuery(versionId: string, options: LeaderboardOptions): Prisma.Sql {
  const scored = isScored(options.includeInfrastructure ?? false);
  return Prisma.sql`
    SELECT c."jobId"::text AS "jobId", j.agent, j.model, j."createdAt" AS "jobCreatedAt", c."agentVersion", c."taskId"::text AS "taskId",
           c.n, c.c, c."rewardSum", c."rewardSquares", c.unfinished, c."infrastructureErrors", c.finished,
           c."costUsd", c."inputTokens", c."outputTokens", c."cacheTokens"
      FROM (
        SELECT "jobId", "agentVersion", "taskId",
               count(*) FILTER (WHERE scored)::int AS n,
               -- An unverified reward (the agent may have written it) is no pass, as in the job statistics.
               count(*) FILTER (WHERE scored AND status = 'PASSED' AND "rewardFlag" IS NULL)::int AS c,
               coalesce(sum(score) FILTER (WHERE scored), 0)::float8 AS "rewardSum",
               coalesce(sum(score * score) FILTER (WHERE scored), 0)::float8 AS "rewardSquares",
               count(*) FILTER (WHERE status IN ('QUEUED', 'CLAIMED', 'RUNNING'))::int AS unfinished,
               count(*) FILTER (WHERE status = 'ERRORED' AND "failureKind" = 'INFRASTRUCTURE')::int AS "infrastructureErrors",
               count(*) FILTER (WHERE status IN ('PASSED', 'FAILED', 'ERRORED', 'CANCELLED'))::int AS finished,
               coalesce(sum("costUsd"), 0) AS "costUsd",
               coalesce(sum("inputTokens"), 0) AS "inputTokens",
               coalesce(sum("outputTokens"), 0) AS "outputTokens",
               coalesce(sum("cacheTokens"), 0) AS "cacheTokens"
          FROM (
            SELECT r."jobId", ${versionOf(options)} AS "agentVersion", r."taskId", r.status, r."failureKind", r."rewardFlag",
                   ${scored} AS scored,
                   -- A scored ERRORED or unverified run counts 0, a missing reward 0 (stats/service.ts).
                   (CASE WHEN status = 'ERRORED' OR "rewardFlag" IS NOT NULL THEN 0 ELSE coalesce(reward, 0) END) AS score,
                   r."costUsd"::float8 AS "costUsd", r."inputTokens"::float8 AS "inputTokens",
                   r."outputTokens"::float8 AS "outputTokens", r."cacheTokens"::float8 AS "cacheTokens"
              FROM "DatasetTask" dt
              JOIN "Run" r ON r."taskId" = dt."taskId" AND r."attemptRole" = 'COUNTED'
             WHERE dt."datasetVersionId" = ${versionId}::uuid AND r."jobId" IN (SELECT j.id FROM "Job" j WHERE ${jobFilter(options)})
          ) v
         GROUP BY "jobId", "agentVersion", "taskId"
      ) c
      JOIN "Job" j ON j.id = c."jobId"`;
}

/**
 * Per row × task: scored trials, passes, reward sums, and what every counted attempt spent, with
 * the row's jobs (oldest first). The database returns at most jobs × tasks rows; a row's jobs are
 * summed here.
 */
export async function aggregate(db: Db, versionId: string, options: LeaderboardOptions = {}): Promise<Aggregate> {
  const [tasks, cells] = await Promise.all([
    db.$queryRaw<DatasetTaskRef[]>`
      SELECT "taskId"::text AS "taskId", name FROM "DatasetTask" WHERE "datasetVersionId" = ${versionId}::uuid ORDER BY name, "taskId"`,
    db.$queryRaw<CellRow[]>(cellsQuery(versionId, options)),
  ]);
  const order = new Map(tasks.map((t, i) => [t.taskId, i]));
  cells.sort((a, b) => order.get(a.taskId)! - order.get(b.taskId)! || a.jobCreatedAt.getTime() - b.jobCreatedAt.getTime() || a.jobId.localeCompare(b.jobId));
  const rows = new Map<string, RowCells & { jobs: Map<string, number> }>();
  for (const cell of cells) {
    const model = cell.model || null;
    const agentVersion = cell.agentVersion || null;
    const key = rowKey(cell.agent, model, agentVersion);
    let row = rows.get(key);
    if (!row) {
      row = { key, agent: cell.agent, model, agentVersion, cells: new Map(), jobIds: [], jobs: new Map() };
      rows.set(key, row);
    }
    row.jobs.set(cell.jobId, cell.jobCreatedAt.getTime());
    const { jobId: _j, agent: _a, model: _m, jobCreatedAt: _c, agentVersion: _v, taskId: _t, ...figures } = cell;
    const sum = row.cells.get(cell.taskId);
    if (!sum) {
      row.cells.set(cell.taskId, { ...figures });
      continue;
    }
    for (const name of CELL_SUMS) sum[name] += figures[name];
  }
  return {
    datasetVersionId: versionId,
    tasks,
    rows: [...rows.values()].map(({ jobs, ...row }) => ({
      ...row,
      jobIds: [...jobs].sort(([a, at], [b, bt]) => at - bt || a.localeCompare(b)).map(([id]) => id),
    })),
  };
}

const CELL_SUMS = [
  'n', 'c', 'rewardSum', 'rewardSquares', 'unfinished', 'infrastructureErrors', 'finished', 'costUsd', 'inputTokens', 'outputTokens', 'cacheTokens',
] as const satisfies readonly (keyof CellFigures)[];

interface MedianRow {
  agent: string;
  model: string;
  agentVersion: string;
  medianMs: number | null;
}

/**
 * Per row, the median duration (startedAt → finishedAt) of its scored trials. An ordered-set
 * aggregate sorts its input by the group: sorting on the job's rank among agent × model and the
 * version in the C collation costs a fraction of sorting on the names themselves.
 */
function medians(db: Db, versionId: string, options: LeaderboardOptions): Promise<MedianRow[]> {
  const scored = isScored(options.includeInfrastructure ?? false);
  return db.$queryRaw<MedianRow[]>(Prisma.sql`
    WITH ranked AS (
      SELECT j.id, j.agent, j.model, dense_rank() OVER (ORDER BY j.agent, j.model) AS g FROM "Job" j WHERE ${jobFilter(options)}
    ),
    m AS (
      SELECT j.g, ${versionOf(options)} COLLATE "C" AS "agentVersion",
             percentile_cont(0.5) WITHIN GROUP (ORDER BY date_part('epoch', r."finishedAt" - r."startedAt") * 1000) AS "medianMs"
        FROM "DatasetTask" dt
        JOIN "Run" r ON r."taskId" = dt."taskId" AND r."attemptRole" = 'COUNTED'
        JOIN ranked j ON j.id = r."jobId"
       WHERE dt."datasetVersionId" = ${versionId}::uuid AND ${scored}
       GROUP BY 1, 2
    )
    SELECT names.agent, names.model, m."agentVersion", m."medianMs"
      FROM m JOIN (SELECT DISTINCT g, agent, model FROM ranked) names ON names.g = m.g`);
}

export interface LeaderboardRow extends RowKey {
  rank: number | null;
  complete: boolean;
  tasksCovered: number;
  taskCount: number;
  trials: number;
  unfinished: number;
  jobIds: string[];
  accuracy: number | null;
  standardError: number | null;
  ci95Low: number | null;
  ci95High: number | null;
  passAt1: number | null;
  minAttemptsPerTask: number | null;
  passAtK: PassAtKValue[];
  passHatK: PassAtKValue[];
  passed: number;
  costUsd: number;
  costPerTrial: number | null;
  costPerSuccess: number | null;
  inputTokens: number;
  outputTokens: number;
  cacheTokens: number;
  tokensPerTrial: number | null;
  tokensPerSuccess: number | null;
  medianTrialSec: number | null;
  infrastructureErrors: number;
  infrastructureErrorRate: number | null;
}

export interface Leaderboard {
  datasetVersionId: string;
  taskCount: number;
  rule: string;
  emptyReason: string | null;
  includesInfrastructure: boolean;
  splitByAgentVersion: boolean;
  rows: LeaderboardRow[];
  computedAt: Date;
}

/** A row's figures from its cells (the version has `taskCount` tasks). */
export function combineRow(row: RowCells, taskCount: number): Omit<LeaderboardRow, 'rank' | 'jobIds' | 'medianTrialSec'> {
  const cells = [...row.cells.values()];
  const sum = (pick: (c: CellFigures) => number) => cells.reduce((s, c) => s + pick(c), 0);
  const accuracy = accuracyOf(cells);
  const scored = cells.filter((c) => c.n > 0);
  const trials = sum((c) => c.n);
  const passed = sum((c) => c.c);
  const costUsd = sum((c) => c.costUsd);
  const inputTokens = sum((c) => c.inputTokens);
  const outputTokens = sum((c) => c.outputTokens);
  const finished = sum((c) => c.finished);
  const infrastructureErrors = sum((c) => c.infrastructureErrors);
  const passAtK = meanPassAtK(scored);
  return {
    key: row.key,
    agent: row.agent,
    model: row.model,
    agentVersion: row.agentVersion,
    complete: taskCount > 0 && accuracy.tasksCovered === taskCount,
    tasksCovered: accuracy.tasksCovered,
    taskCount,
    trials,
    unfinished: sum((c) => c.unfinished),
    accuracy: accuracy.accuracy,
    standardError: accuracy.standardError,
    ci95Low: accuracy.ci95Low,
    ci95High: accuracy.ci95High,
    passAt1: passAtK[0]?.value ?? null,
    minAttemptsPerTask: scored.length > 0 ? Math.min(...scored.map((c) => c.n)) : null,
    passAtK,
    passHatK: meanPassHatK(scored),
    passed,
    costUsd,
    costPerTrial: trials > 0 ? costUsd / trials : null,
    costPerSuccess: passed > 0 ? costUsd / passed : null,
    inputTokens,
    outputTokens,
    cacheTokens: sum((c) => c.cacheTokens),
    tokensPerTrial: trials > 0 ? (inputTokens + outputTokens) / trials : null,
    tokensPerSuccess: passed > 0 ? (inputTokens + outputTokens) / passed : null,
    infrastructureErrors,
    infrastructureErrorRate: finished > 0 ? infrastructureErrors / finished : null,
  };
}

/**
 * Complete rows by accuracy (highest first; equal accuracies share a rank, the next rank skips, as
 * in "1, 1, 3"), then incomplete rows unranked, by tasks covered and accuracy. Ties by key.
 */
export function rankRows<T extends { key: string; complete: boolean; accuracy: number | null; tasksCovered: number }>(rows: readonly T[]): (T & { rank: number | null })[] {
  const byAccuracy = (a: T, b: T) => (b.accuracy ?? -1) - (a.accuracy ?? -1) || a.key.localeCompare(b.key);
  const complete = rows.filter((r) => r.complete).sort(byAccuracy);
  const incomplete = rows.filter((r) => !r.complete).sort((a, b) => b.tasksCovered - a.tasksCovered || byAccuracy(a, b));
  let rank = 0;
  const ranked = complete.map((row, i) => {
    if (i === 0 || row.accuracy !== complete[i - 1]!.accuracy) rank = i + 1;
    return { ...row, rank };
  });
  return [...ranked, ...incomplete.map((row) => ({ ...row, rank: null }))];
}

function emptyReason(taskCount: number, options: LeaderboardOptions): string {
  if (taskCount === 0) return 'this dataset version has no tasks';
  const filters = [options.agent ? `agent ${options.agent}` : null, options.model ? `model ${options.model}` : null].filter(Boolean);
  return filters.length > 0
    ? `no job of ${filters.join(' and ')} has run this version's tasks yet`
    : "nobody has run this version's tasks yet: launch a job on it, or on any of its tasks";
}

/** The leaderboard of an existing, parsed dataset version (see requireDatasetVersion). */
export async function leaderboard(db: Db, versionId: string, options: LeaderboardOptions = {}): Promise<Leaderboard> {
  const [{ tasks, rows }, middles] = await Promise.all([aggregate(db, versionId, options), medians(db, versionId, options)]);
  const medianByKey = new Map(middles.map((m) => [rowKey(m.agent, m.model || null, m.agentVersion || null), m.medianMs]));
  const combined = rows.map((row) => {
    const medianMs = medianByKey.get(row.key) ?? null;
    return { ...combineRow(row, tasks.length), jobIds: row.jobIds, medianTrialSec: medianMs === null ? null : medianMs / 1000 };
  });
  return {
    datasetVersionId: versionId,
    taskCount: tasks.length,
    rule: LEADERBOARD_RULE,
    emptyReason: combined.length === 0 ? emptyReason(tasks.length, options) : null,
    includesInfrastructure: options.includeInfrastructure ?? false,
    splitByAgentVersion: options.splitByAgentVersion ?? true,
    rows: rankRows(combined),
    computedAt: new Date(),
  };
}
