// Leaderboard downloads: /datasets/<datasetVersionId>/leaderboard.csv and leaderboard.json, with
// the same checks as a job's exports (exports/http.ts): a signed-in viewer, a UUID, known query
// parameters with valid values, 404 for a version that does not exist. The board is at most a few
// hundred rows, so it is computed once and written whole.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify } from 'csv-stringify/sync';
import { requireDownloadViewer } from '../auth/http.js';
import type { Db } from '../db/client.js';
import { decodeSegment, requestTarget } from '../edge/guard.js';
import { leaderboard, type LeaderboardOptions, type LeaderboardRow } from './service.js';

const ROUTE = /^\/datasets\/([^/]+)\/leaderboard\.(csv|json)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The CSV's columns, in order: a public contract (docs/api.md "Leaderboard"); add at the end only. */
export const LEADERBOARD_COLUMNS = [
  'rank', 'key', 'agent', 'model', 'agentVersion', 'complete', 'tasksCovered', 'taskCount', 'trials', 'unfinished', 'passed',
  'accuracy', 'standardError', 'ci95Low', 'ci95High', 'passAt1', 'minAttemptsPerTask', 'passAtK', 'passHatK',
  'costUsd', 'costPerTrial', 'costPerSuccess', 'inputTokens', 'outputTokens', 'cacheTokens', 'tokensPerTrial', 'tokensPerSuccess',
  'medianTrialSec', 'infrastructureErrors', 'infrastructureErrorRate', 'jobIds',
] as const satisfies readonly (keyof LeaderboardRow)[];

/** The path of a leaderboard download, relative to the API's origin. */
export function leaderboardExportPath(datasetVersionId: string, format: 'csv' | 'json'): string {
  return `/datasets/${datasetVersionId}/leaderboard.${format}`;
}

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}

/** Handles the leaderboard download routes; returns false for any other request. */
export function handleLeaderboardExport(deps: { db: Db }, req: IncomingMessage, res: ServerResponse): boolean {
  const { pathname, params } = requestTarget(req);
  const match = ROUTE.exec(pathname);
  if (!match || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const [, rawId, format] = match as unknown as [string, string, 'csv' | 'json'];
  const id = decodeSegment(rawId);
  if (id === null) {
    fail(res, 400, `the dataset version id in the path is not valid percent-encoding: ${JSON.stringify(rawId.slice(0, 100))}`);
    return true;
  }
  void send(deps.db, req, res, id, format, params).catch((error: Error) => {
    if (!res.headersSent) fail(res, 500, `export failed: ${error.message}`);
    else res.destroy(error);
  });
  return true;
}

function booleanParam(params: URLSearchParams, name: string): boolean | null | Error {
  const value = params.get(name);
  if (value === null) return null;
  if (value === 'true' || value === 'false') return value === 'true';
  return new Error(`${name} must be true or false, got ${JSON.stringify(value.slice(0, 100))}`);
}

async function send(db: Db, req: IncomingMessage, res: ServerResponse, id: string, format: 'csv' | 'json', params: URLSearchParams): Promise<void> {
  if (!(await requireDownloadViewer(db, req, res))) return;
  if (!UUID.test(id)) return fail(res, 400, `the dataset version id in the path must be a UUID, got ${JSON.stringify(id.slice(0, 100))}`);
  const versionId = id.toLowerCase();
  const include = booleanParam(params, 'includeInfrastructure');
  if (include instanceof Error) return fail(res, 400, include.message);
  const split = booleanParam(params, 'splitByAgentVersion');
  if (split instanceof Error) return fail(res, 400, split.message);
  const version = await db.datasetVersion.findUnique({ where: { id: versionId }, select: { id: true } });
  if (!version) return fail(res, 404, `no dataset version with id ${versionId}`);
  const options: LeaderboardOptions = {
    agent: params.get('agent') || null,
    model: params.get('model') || null,
    includeInfrastructure: include ?? false,
    splitByAgentVersion: split ?? true,
  };
  const board = await leaderboard(db, versionId, options);

  res.writeHead(200, {
    'content-type': format === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/json; charset=utf-8',
    'content-disposition': `attachment; filename="leaderboard-${versionId}.${format}"`,
    'cache-control': 'no-store',
  });
  if (req.method === 'HEAD') return void res.end();
  const rows = board.rows.map((row) => Object.fromEntries(LEADERBOARD_COLUMNS.map((column) => [column, row[column]])));
  if (format === 'json') {
    const { rows: _rows, ...head } = board;
    return void res.end(`${JSON.stringify({ ...head, columns: LEADERBOARD_COLUMNS, rows }, null, 1)}\n`);
  }
  // As the job exports: empty for null, JSON for lists (passAtK, jobIds), ISO 8601 for instants.
  res.end(
    stringify(rows, {
      header: true,
      columns: [...LEADERBOARD_COLUMNS],
      cast: { boolean: (v) => String(v), date: (v) => v.toISOString(), object: (v) => JSON.stringify(v) },
    }),
  );
}
