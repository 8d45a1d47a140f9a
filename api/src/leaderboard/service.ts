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
  taskId: string;
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

/** The version's counted attempts as `r` with the job's agent and model, filtered. Unqualified status columns for isScored. */
function versionRuns(versionId: string, options: LeaderboardOptions): Prisma.Sql {
  const split = options.splitByAgentVersion ?? true;
  const agent = options.agent ?? null;
  const model = options.model ?? null;
  return Prisma.sql`
    SELECT j.agent, j.model,
           CASE WHEN ${split}::boolean THEN coalesce(r."agentVersion", ${UNKNOWN_VERSION}) ELSE '' END AS "agentVersion",
           r."jobId", r."taskId", r.status, r."failureKind", r."rewardFlag", r.reward, r."costUsd",
           r."inputTokens", r."outputTokens", r."cacheTokens", r."startedAt", r."finishedAt"
      FROM "DatasetTask" dt
      JOIN "Run" r ON r."taskId" = dt."taskId" AND r."attemptRole" = 'COUNTED'
      JOIN "Job" j ON j.id = r."jobId"
     WHERE dt."datasetVersionId" = ${versionId}::uuid
       AND (${agent}::text IS NULL OR j.agent = ${agent}::text)
       AND (${model}::text IS NULL OR j.model = ${model}::text)`;
}

interface CellRow {
  agent: string;
  model: string;
  agentVersion: string;
  taskId: string;
  n: number;
  c: number;
  rewardSum: number;
  rewardSquares: number;
  unfinished: number;
  infrastructureErrors: number;
  finished: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheTokens: number;
}

/**
 * Per row × task: scored trials, passes, reward sums, and what every counted attempt spent. One
 * hash aggregate over the version's counted attempts; the result is at most rows × tasks rows.
 */
export async function aggregate(db: Db, versionId: string, options: LeaderboardOptions = {}): Promise<Aggregate> {
  const scored = isScored(options.includeInfrastructure ?? false);
  const score = Prisma.sql`(CASE WHEN status = 'ERRORED' OR "rewardFlag" IS NOT NULL THEN 0 ELSE coalesce(reward, 0) END)`;
  const [tasks, cells] = await Promise.all([
    db.$queryRaw<DatasetTaskRef[]>`
      SELECT "taskId"::text AS "taskId", name FROM "DatasetTask" WHERE "datasetVersionId" = ${versionId}::uuid ORDER BY name, "taskId"`,
    db.$queryRaw<CellRow[]>(Prisma.sql`
      SELECT agent, model, "agentVersion", "taskId"::text AS "taskId",
             count(*) FILTER (WHERE ${scored})::int AS n,
             -- An unverified reward (the agent may have written it) is no pass, as in the job statistics.
             count(*) FILTER (WHERE ${scored} AND status = 'PASSED' AND "rewardFlag" IS NULL)::int AS c,
             coalesce(sum(${score}) FILTER (WHERE ${scored}), 0)::float8 AS "rewardSum",
             coalesce(sum(${score} * ${score}) FILTER (WHERE ${scored}), 0)::float8 AS "rewardSquares",
             count(*) FILTER (WHERE status IN ('QUEUED', 'CLAIMED', 'RUNNING'))::int AS unfinished,
             count(*) FILTER (WHERE status = 'ERRORED' AND "failureKind" = 'INFRASTRUCTURE')::int AS "infrastructureErrors",
             count(*) FILTER (WHERE status IN ('PASSED', 'FAILED', 'ERRORED', 'CANCELLED'))::int AS finished,
             coalesce(sum("costUsd"), 0)::float8 AS "costUsd",
             coalesce(sum("inputTokens"), 0)::float8 AS "inputTokens",
             coalesce(sum("outputTokens"), 0)::float8 AS "outputTokens",
             coalesce(sum("cacheTokens"), 0)::float8 AS "cacheTokens"
        FROM (${versionRuns(versionId, options)}) v
       GROUP BY agent, model, "agentVersion", "taskId"`),
  ]);
  const order = new Map(tasks.map((t, i) => [t.taskId, i]));
  const rows = new Map<string, RowCells>();
  for (const cell of cells.sort((a, b) => order.get(a.taskId)! - order.get(b.taskId)!)) {
    const model = cell.model || null;
    const agentVersion = cell.agentVersion || null;
    const key = rowKey(cell.agent, model, agentVersion);
    let row = rows.get(key);
    if (!row) {
      row = { key, agent: cell.agent, model, agentVersion, cells: new Map() };
      rows.set(key, row);
    }
    const { agent: _a, model: _m, agentVersion: _v, ...figures } = cell;
    row.cells.set(cell.taskId, figures);
  }
  return { datasetVersionId: versionId, tasks, rows: [...rows.values()] };
}

interface RowExtrasRow {
  agent: string;
  model: string;
  agentVersion: string;
  medianMs: number | null;
  jobIds: string[];
}

/** Per row: the median duration (startedAt → finishedAt) of its scored trials, and its jobs, oldest first. */
function rowExtras(db: Db, versionId: string, options: LeaderboardOptions): Promise<RowExtrasRow[]> {
  const scored = isScored(options.includeInfrastructure ?? false);
  return db.$queryRaw<RowExtrasRow[]>(Prisma.sql`
    WITH v AS (${versionRuns(versionId, options)}),
    medians AS (
      SELECT agent, model, "agentVersion",
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ("finishedAt" - "startedAt"))::float8 * 1000)
               FILTER (WHERE ${scored}) AS "medianMs"
        FROM v GROUP BY agent, model, "agentVersion"
    ),
    jobs AS (
      SELECT j.agent, j.model, j."agentVersion", array_agg(j."jobId"::text ORDER BY jb."createdAt", j."jobId") AS "jobIds"
        FROM (SELECT DISTINCT agent, model, "agentVersion", "jobId" FROM v) j
        JOIN "Job" jb ON jb.id = j."jobId"
       GROUP BY j.agent, j.model, j."agentVersion"
    )
    SELECT m.agent, m.model, m."agentVersion", m."medianMs", jobs."jobIds"
      FROM medians m JOIN jobs USING (agent, model, "agentVersion")`);
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
  const [{ tasks, rows }, extras] = await Promise.all([aggregate(db, versionId, options), rowExtras(db, versionId, options)]);
  const extrasByKey = new Map(extras.map((e) => [rowKey(e.agent, e.model || null, e.agentVersion || null), e]));
  const combined = rows.map((row) => {
    const extra = extrasByKey.get(row.key);
    return {
      ...combineRow(row, tasks.length),
      jobIds: extra?.jobIds ?? [],
      medianTrialSec: extra?.medianMs === null || extra?.medianMs === undefined ? null : extra.medianMs / 1000,
    };
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
