// A run's whole log as plain text over HTTP, streamed: memory stays flat however large the log.
// (The trial directory as a zip is trials/http.ts.)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestTarget } from '../edge/guard.js';
import { requireDownloadViewer } from '../auth/http.js';
import { readRunLog, type LogDeps } from './service.js';

const ROUTE = /^\/runs\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/log$/i;

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}

/** Handles the download routes; returns false for any other request. */
export function handleDownload(deps: LogDeps, req: IncomingMessage, res: ServerResponse): boolean {
  // The raw path: URL's parser throws on some targets (`//`) and would resolve others into this route.
  const match = ROUTE.exec(requestTarget(req).pathname);
  if (!match || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const runId = match[1]!.toLowerCase();
  void sendLog(deps, runId, req, res).catch((error: Error) => {
    if (!res.headersSent) fail(res, 500, `download failed: ${error.message}`);
    else res.destroy(error);
  });
  return true;
}

async function sendLog(deps: LogDeps, runId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!(await requireDownloadViewer(deps.db, req, res))) return;
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
