// Single trial files over HTTP, streamed: /runs/<id>/recording.cast (the asciicast the player loads)
// and /runs/<id>/files/<path> (any file of the trial directory). The path is checked segment by
// segment and the resolved file must stay inside the trial directory: `..`, absolute paths and
// symlinks out are refused with 400. Trial files are written by the agent under test, so nothing is
// served as HTML: text is text/plain, the rest octet-stream, with nosniff and a sandbox CSP.
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Db } from '../db/client.js';
import { resolveTrialFile, trialDir, UnsafePathError } from './files.js';

const ROUTE = /^\/runs\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(recording\.cast|files\/(.*))$/i;

export interface TrialFileDeps {
  db: Db;
  jobsDir: string;
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
  const [pathname = '/', search = ''] = (req.url ?? '/').split('?', 2);
  const match = ROUTE.exec(pathname);
  if (!match || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const runId = match[1]!.toLowerCase();
  let relative: string;
  try {
    relative = match[3] === undefined ? 'agent/recording.cast' : decodeURIComponent(match[3]);
  } catch {
    fail(res, 400, 'the file path is not valid percent-encoding');
    return true;
  }
  const download = new URLSearchParams(search).has('download');
  void send(deps, runId, relative, download, req, res).catch((error: Error) => {
    if (!res.headersSent) fail(res, 500, `reading the file failed: ${error.message}`);
    else res.destroy(error);
  });
  return true;
}

async function send(deps: TrialFileDeps, runId: string, relative: string, download: boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const run = await deps.db.run.findUnique({ where: { id: runId }, select: { harborTrialDir: true } });
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
  res.writeHead(200, {
    'content-type': contentType(found.file),
    'content-length': String(found.size),
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
  stream.pipe(res);
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    res.once('close', () => {
      stream.destroy();
      resolve();
    });
    res.once('finish', resolve);
  });
}
