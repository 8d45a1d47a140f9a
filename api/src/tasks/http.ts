// GET /tasks/<id>/original.zip: the files of a task as they were uploaded, before the platform
// converted them (a Terminal-Bench 1 task). Same sign-in as every other download; 404 for a task
// that was stored as uploaded.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { requireDownloadViewer } from '../auth/http.js';
import type { Db } from '../db/client.js';
import { requestTarget } from '../edge/guard.js';
import { ORIGINAL_ZIP } from './package/index.js';
import type { TaskStore } from './store.js';

const ROUTE = /^\/tasks\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/original\.zip$/i;

export interface TaskFileDeps {
  db: Db;
  store: TaskStore;
}

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(`${message}\n`);
}

/** Handles the route; returns false for any other request. */
export function handleTaskOriginal(deps: TaskFileDeps, req: IncomingMessage, res: ServerResponse): boolean {
  const match = ROUTE.exec(requestTarget(req).pathname);
  if (!match || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  void sendOriginal(deps, match[1]!.toLowerCase(), req, res).catch((error: Error) => {
    if (!res.headersSent) fail(res, 500, `reading the original upload failed: ${error.message.replace(deps.store.root, 'TASKS_DIR')}`);
    else res.destroy(error);
  });
  return true;
}

async function sendOriginal(deps: TaskFileDeps, id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!(await requireDownloadViewer(deps.db, req, res))) return;
  const task = await deps.db.task.findUnique({ where: { id }, select: { name: true, contentHash: true, convertedFrom: true } });
  if (!task) return fail(res, 404, `no task with id ${id}`);
  if (!task.convertedFrom) return fail(res, 404, `task ${task.name} was stored as uploaded; download its files from the task page`);
  const file = path.join(deps.store.root, task.contentHash, ORIGINAL_ZIP);
  const info = await stat(file).catch(() => null);
  if (!info) return fail(res, 404, `the original upload of task ${task.name} is not kept (it was first stored from another upload)`);
  res.writeHead(200, {
    'content-type': 'application/zip',
    'content-length': String(info.size),
    'content-disposition': `attachment; filename="${task.name}-${task.convertedFrom.toLowerCase()}-original.zip"`,
    'cache-control': 'private, max-age=3600',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.pipe(res);
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    res.once('close', () => {
      stream.destroy();
      resolve();
    });
  });
}
