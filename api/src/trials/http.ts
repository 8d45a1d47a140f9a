// A run's trial files over HTTP, streamed: /runs/<id>/recording.cast (the asciicast the player
// loads), /runs/<id>/files/<path> (any file of the trial directory) and /runs/<id>/files.zip (all of
// them). The path is checked segment by segment and the resolved file must stay inside the trial
// directory: `..`, absolute paths and symlinks out are refused with 400. Trial files are written by
// the agent under test, so nothing is served as HTML: text is text/plain, the rest octet-stream, with
// nosniff and a sandbox CSP. The run's provider keys are replaced by [REDACTED] in everything served.
import { requireDownloadViewer } from '../auth/http.js';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline, Readable } from 'node:stream';
import yazl from 'yazl';
import { sendZip } from '../edge/zip-download.js';
import type { Db } from '../db/client.js';
import { decodeSegment, requestTarget } from '../edge/guard.js';
import { listTrialFiles, resolveTrialFile, trialDir, UnsafePathError } from './files.js';
import { RUN_SECRET_SELECT, type TrialScrubbers } from './secrets.js';
import { createScrubber, hostPathPlaceholders } from 'runner/secrets';
import { TRIAL_FILES } from 'runner/protocol';

const ROUTE = /^\/runs\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(recording\.cast|files\.zip|files\/(.*))$/i;

export interface TrialFileDeps {
  db: Db;
  jobsDir: string;
  scrubbers: TrialScrubbers;
}

const TEXT = new Set(['.txt', '.log', '.json', '.jsonl', '.cast', '.pane', '.md', '.toml', '.yaml', '.yml', '.py', '.sh', '.csv', '.xml', '.diff', '.patch']);

function contentType(file: string): string {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.cast') return 'application/x-asciicast; charset=utf-8';
  if (ext === '.json') return 'application/json; charset=utf-8';
  return TEXT.has(ext) ? 'text/plain; charset=utf-8' : 'application/octet-stream';
}

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(`${message}\n`);
}

/** Handles the trial file routes; returns false for any other request. */
export function handleTrialFile(deps: TrialFileDeps, req: IncomingMessage, res: ServerResponse): boolean {
  // The raw path, not URL's: its parser resolves `..` and `%2e%2e` away, which would turn a
  // traversal attempt into some other path instead of a refusal.
  const { pathname, params } = requestTarget(req);
  const match = ROUTE.exec(pathname);
  if (!match || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const runId = match[1]!.toLowerCase();
  const failed = (error: Error) => {
    // File system errors name the absolute path (ELOOP, EACCES): JOBS_DIR is shown as its placeholder.
    const message = createScrubber([], hostPathPlaceholders({ jobsDir: deps.jobsDir })).scrub(error.message);
    if (!res.headersSent) fail(res, 500, `reading the files failed: ${message}`);
    else res.destroy(error);
  };
  if (match[2]!.toLowerCase() === 'files.zip') {
    void sendTrialZip(deps, runId, req, res).catch(failed);
    return true;
  }
  const relative = match[3] === undefined ? TRIAL_FILES.recording : decodeSegment(match[3]);
  if (relative === null) {
    fail(res, 400, 'the file path is not valid percent-encoding');
    return true;
  }
  const download = params.has('download');
  void send(deps, runId, relative, download, req, res).catch(failed);
  return true;
}

async function send(deps: TrialFileDeps, runId: string, relative: string, download: boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!(await requireDownloadViewer(deps.db, req, res))) return;
  const run = await deps.db.run.findUnique({ where: { id: runId }, select: { harborTrialDir: true, ...RUN_SECRET_SELECT } });
  if (!run) return fail(res, 404, `no run with id ${runId}`);
  const dir = await trialDir(deps.jobsDir, run.harborTrialDir);
  if (!dir) return fail(res, 404, `run ${runId} has no trial directory (yet)`);
  let found;
  try {
    found = await resolveTrialFile(dir, relative);
  } catch (error) {
    if (error instanceof UnsafePathError) return fail(res, 400, error.message);
    throw error;
  }
  if (!found) return fail(res, 404, `run ${runId} has no file ${relative}`);
  const name = path.basename(found.file).replace(/["\\\r\n]/g, '_');
  const scrubber = deps.scrubbers(run);
  res.writeHead(200, {
    'content-type': contentType(found.file),
    // A redaction changes the length: then the body is sent chunked.
    ...(scrubber.active ? {} : { 'content-length': String(found.size) }),
    'content-disposition': `${download ? 'attachment' : 'inline'}; filename="${name}"`,
    // Files grow and are rewritten while the trial runs.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "sandbox; default-src 'none'",
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // Stop at the size announced: a file still being appended to must not overrun content-length.
  const stream = createReadStream(found.file, { start: 0, end: Math.max(0, found.size - 1) });
  if (found.size === 0) {
    stream.destroy();
    res.end();
    return;
  }
  stream.pipe(scrubber.stream()).pipe(res);
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    res.once('close', () => {
      stream.destroy();
      resolve();
    });
    res.once('finish', resolve);
  });
}

async function sendTrialZip(deps: TrialFileDeps, runId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!(await requireDownloadViewer(deps.db, req, res))) return;
  const run = await deps.db.run.findUnique({ where: { id: runId }, select: { harborTrialDir: true, ...RUN_SECRET_SELECT } });
  if (!run) return fail(res, 404, `no run with id ${runId}`);
  const dir = await trialDir(deps.jobsDir, run.harborTrialDir);
  if (!dir) return fail(res, 404, `run ${runId} has no trial directory (yet)`);
  const base = path.basename(dir);
  res.writeHead(200, {
    'content-type': 'application/zip',
    'content-disposition': `attachment; filename="${base.replace(/["\\\r\n]/g, '_')}.zip"`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const scrubber = deps.scrubbers(run);
  const zip = new yazl.ZipFile();
  const scrubbed = (source: Readable): Readable => {
    const out = scrubber.stream();
    // A read failing half-way cuts the download (an error left unheard would end the process).
    pipeline(source, out, (error) => {
      if (error) (zip.outputStream as Readable).destroy(error);
    });
    return out;
  };
  // Regular files only (symlinks the agent planted are not followed), each opened only when yazl
  // gets to it: a trial with thousands of files must not hold thousands of descriptors.
  for (const file of (await listTrialFiles(dir, Number.POSITIVE_INFINITY)).files) {
    zip.addReadStreamLazy(`${base}/${file.path}`, { mtime: file.modifiedAt }, (give) => {
      open(path.join(dir, ...file.path.split('/')), 'r').then(
        (handle) => give(null, scrubbed(handle.createReadStream())),
        // Deleted since the listing (Harbor removes files while it runs): an empty entry.
        () => give(null, Readable.from([])),
      );
    });
  }
  await sendZip(zip, res);
}
