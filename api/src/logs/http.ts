// Downloads that are not GraphQL: a run's whole log as plain text, and its trial directory as a
// zip. Both stream: memory stays flat however large the log or the files.
import { createReadStream } from 'node:fs';
import { readdir, realpath } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import yazl from 'yazl';
import type { LogDeps } from './service.js';
import { readRunLog } from './service.js';

const ROUTE = /^\/runs\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(log|files\.zip)$/i;

export interface DownloadDeps extends LogDeps {
  jobsDir: string;
}

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}

/** Handles the download routes; returns false for any other request. */
export function handleDownload(deps: DownloadDeps, req: IncomingMessage, res: ServerResponse): boolean {
  const match = ROUTE.exec(new URL(req.url ?? '/', 'http://x').pathname);
  if (!match || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const [, runId, what] = match as unknown as [string, string, 'log' | 'files.zip'];
  void (what === 'log' ? sendLog(deps, runId.toLowerCase(), res) : sendFiles(deps, runId.toLowerCase(), res)).catch((error: Error) => {
    if (!res.headersSent) fail(res, 500, `download failed: ${error.message}`);
    else res.destroy(error);
  });
  return true;
}

async function sendLog(deps: DownloadDeps, runId: string, res: ServerResponse): Promise<void> {
  if (!(await deps.db.run.findUnique({ where: { id: runId }, select: { id: true } }))) return fail(res, 404, `no run with id ${runId}`);
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'content-disposition': `attachment; filename="run-${runId}.log"`,
  });
  for await (const lines of readRunLog(deps, runId)) {
    const text = lines.map((l) => `${l.at} [${l.source}${l.file ? `:${l.file}` : ''}] ${l.text}\n`).join('');
    // Respect the client's pace: wait for the socket to drain before reading on.
    if (!res.write(text)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

async function sendFiles(deps: DownloadDeps, runId: string, res: ServerResponse): Promise<void> {
  const run = await deps.db.run.findUnique({ where: { id: runId }, select: { harborTrialDir: true } });
  if (!run) return fail(res, 404, `no run with id ${runId}`);
  if (!run.harborTrialDir) return fail(res, 404, `run ${runId} has no trial directory yet`);
  const root = await realpath(deps.jobsDir);
  const dir = await realpath(path.resolve(root, run.harborTrialDir)).catch(() => null);
  // The recorded path comes from a runner: never serve anything outside JOBS_DIR.
  if (!dir || !dir.startsWith(`${root}${path.sep}`)) return fail(res, 404, `the trial directory of run ${runId} is not under JOBS_DIR`);

  const zip = new yazl.ZipFile();
  const base = path.basename(dir);
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    zip.addReadStream(createReadStream(full), path.join(base, path.relative(dir, full)).split(path.sep).join('/'));
  }
  zip.end();
  res.writeHead(200, { 'content-type': 'application/zip', 'content-disposition': `attachment; filename="${base}.zip"` });
  zip.outputStream.pipe(res);
  await new Promise<void>((resolve, reject) => {
    res.once('finish', resolve);
    res.once('close', resolve);
    zip.outputStream.once('error', reject);
  });
}
