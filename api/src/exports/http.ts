// Export downloads: /jobs/<id>/runs.csv, runs.json, tasks.csv and tasks.json. Rows are streamed
// from the database as the client reads them: a Readable over the row generator feeds the CSV
// stringifier (or the JSON writer) through pipeline(), which stops pulling pages while the socket
// is full and stops the query loop when the client goes away.
import { requireDownloadViewer } from '../auth/http.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { Db } from '../db/client.js';
import type { Scrubber } from 'runner/secrets';
import { decodeSegment, requestTarget } from '../edge/guard.js';
import { RUN_SECRET_SELECT, type TrialScrubbers } from '../trials/secrets.js';
import { exportRuns, exportTasks, RUN_COLUMNS, TASK_COLUMNS, type RunRow } from './service.js';

const ROUTE = /^\/jobs\/([^/]+)\/(runs|tasks)\.(csv|json)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ExportDeps {
  db: Db;
  /** A run's keys (and host paths) as a scrubber: exception messages are redacted again on the way out. */
  scrubbers: TrialScrubbers;
}

export type ExportKind = 'runs' | 'tasks';
export type ExportFormat = 'csv' | 'json';

/** The path of an export, relative to the API's origin. */
export function exportPath(jobId: string, kind: ExportKind, format: ExportFormat): string {
  return `/jobs/${jobId}/${kind}.${format}`;
}

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}

/** Free text a run carries that Harbor wrote: the exception's message and traceback, the steps' messages. */
function scrubRun(row: RunRow, scrubber: Scrubber): RunRow {
  const scrub = (text: string | null) => (text === null ? null : scrubber.scrub(text));
  // Each step as stored (its keys in their order), only its message replaced.
  const scrubStep = (step: unknown) =>
    step && typeof step === 'object' && typeof (step as { exceptionMessage?: unknown }).exceptionMessage === 'string'
      ? { ...step, exceptionMessage: scrubber.scrub((step as { exceptionMessage: string }).exceptionMessage) }
      : step;
  return {
    ...row,
    exceptionMessage: scrub(row.exceptionMessage),
    exceptionTraceback: scrub(row.exceptionTraceback),
    stepResults: Array.isArray(row.stepResults) ? row.stepResults.map(scrubStep) : row.stepResults,
  };
}

async function* scrubbedRuns(rows: AsyncIterable<RunRow>, scrubber: Scrubber): AsyncGenerator<RunRow> {
  for await (const row of rows) yield scrubber.active ? scrubRun(row, scrubber) : row;
}

/** Handles the export routes; returns false for any other request. */
export function handleExport(deps: ExportDeps, req: IncomingMessage, res: ServerResponse): boolean {
  // Parsed without throwing: a malformed path or percent-encoding is the client's mistake (400), and a
  // throw here would escape the catch below.
  const { pathname, params } = requestTarget(req);
  const match = ROUTE.exec(pathname);
  if (!match || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const [, rawId, kind, format] = match as unknown as [string, string, ExportKind, ExportFormat];
  const id = decodeSegment(rawId);
  if (id === null) {
    fail(res, 400, `the job id in the path is not valid percent-encoding: ${JSON.stringify(rawId.slice(0, 100))}`);
    return true;
  }
  void send(deps, req, res, id, kind, format, params).catch((error: Error) => {
    if (!res.headersSent) fail(res, 500, `export failed: ${error.message}`);
    else res.destroy(error);
  });
  return true;
}

async function send(
  deps: ExportDeps,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  kind: ExportKind,
  format: ExportFormat,
  params: URLSearchParams,
): Promise<void> {
  if (!(await requireDownloadViewer(deps.db, req, res))) return;
  if (!UUID.test(id)) return fail(res, 400, `the job id in the path must be a UUID, got ${JSON.stringify(id)}`);
  const jobId = id.toLowerCase();
  const include = params.get('includeInfrastructure');
  if (include !== null && include !== 'true' && include !== 'false') {
    return fail(res, 400, `includeInfrastructure must be true or false, got ${JSON.stringify(include)}`);
  }
  const attempts = params.get('attempts');
  if (attempts !== null && attempts !== 'counted' && attempts !== 'all') {
    return fail(res, 400, `attempts must be counted (one run per task and repeat) or all, got ${JSON.stringify(attempts)}`);
  }
  const job = await deps.db.job.findUnique({ where: { id: jobId }, select: { id: true, ...RUN_SECRET_SELECT.job.select } });
  if (!job) return fail(res, 404, `no job with id ${jobId}`);
  // The runner scrubs keys before it reports; this is the second line (runs recorded before that, a key it never saw).
  const scrubber = deps.scrubbers({ job });

  res.writeHead(200, {
    'content-type': format === 'csv' ? 'text/csv; charset=utf-8; header=present' : 'application/json; charset=utf-8',
    'content-disposition': `attachment; filename="job-${jobId}-${kind}.${format}"`,
    'cache-control': 'no-store',
  });
  if (req.method === 'HEAD') return void res.end();

  const rows = kind === 'runs' ? scrubbedRuns(exportRuns(deps.db, jobId, attempts === 'all'), scrubber) : exportTasks(deps.db, jobId, include === 'true');
  const source = Readable.from(rows);
  const body =
    format === 'csv'
      ? stringify({
          header: true,
          columns: [...(kind === 'runs' ? RUN_COLUMNS : TASK_COLUMNS)],
          // Empty for null; JSON for objects and lists (rewards, passAtK); ISO 8601 for instants.
          cast: { boolean: (v) => String(v), date: (v) => v.toISOString(), object: (v) => JSON.stringify(v) },
        })
      : jsonArray();
  try {
    await pipeline(source, body, res);
  } catch (error) {
    // The client went away mid-download: nothing to answer. Anything else is a real failure.
    if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
  }
}

/** Rows in, one JSON array out: one element per line, so line-oriented tools can read it as it arrives. */
function jsonArray(): Transform {
  let first = true;
  return new Transform({
    writableObjectMode: true,
    transform(row, _encoding, done) {
      done(null, `${first ? '[\n' : ',\n'}${JSON.stringify(row)}`);
      first = false;
    },
    flush(done) {
      done(null, first ? '[]\n' : '\n]\n');
    },
  });
}
