// GET /tasks/<id>/original.zip: the files of a task as they were uploaded, before the platform
// converted them (a Terminal-Bench 1 task). Same sign-in as every other download; 404 for a task
// that was stored as uploaded.
// GET /tasks/<id>/task.zip: the task's stored files (the package Harbor runs) as one zip, streamed,
// written from the task's file list so only the package's own files go in.
import { createReadStream } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import yazl from 'yazl';
import { sendZip } from '../edge/zip-download.js';
import { requireDownloadViewer } from '../auth/http.js';
import type { Db } from '../db/client.js';
import { requestTarget } from '../edge/guard.js';
import { ORIGINAL_ZIP, type TaskFile } from './package/index.js';
import type { TaskStore } from './store.js';

const ROUTE = /^\/tasks\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(original|task)\.zip$/i;

export interface TaskFileDeps {
  db: Db;
  store: TaskStore;
}

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
  res.end(`${message}\n`);
}

/** Handles both routes (original.zip and task.zip); returns false for any other request. */
export function handleTaskOriginal(deps: TaskFileDeps, req: IncomingMessage, res: ServerResponse): boolean {
  const match = ROUTE.exec(requestTarget(req).pathname);
  if (!match || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const send = match[2]!.toLowerCase() === 'task' ? sendTaskZip : sendOriginal;
  void send(deps, match[1]!.toLowerCase(), req, res).catch((error: Error) => {
    if (!res.headersSent) fail(res, 500, `reading the task's files failed: ${error.message.replaceAll(deps.store.root, 'TASKS_DIR')}`);
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

async function sendTaskZip(deps: TaskFileDeps, id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!(await requireDownloadViewer(deps.db, req, res))) return;
  const task = await deps.db.task.findUnique({ where: { id }, select: { name: true, contentHash: true, files: true, createdAt: true } });
  if (!task) return fail(res, 404, `no task with id ${id}`);
  const dir = await realpath(deps.store.taskDir(task.contentHash, task.name)).catch(() => null);
  if (!dir) return fail(res, 404, `the files of task ${task.name} are not in the task store`);
  const name = task.name.replace(/["\\\r\n/]/g, '_');
  res.writeHead(200, {
    'content-type': 'application/zip',
    'content-disposition': `attachment; filename="${name}.zip"`,
    // Stored packages never change (content-addressed), but a task can be deleted: private, short.
    'cache-control': 'private, max-age=3600',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const zip = new yazl.ZipFile();
  // Each file opened only when yazl gets to it: a package of many files must not hold as many
  // descriptors. The executable bit goes into the zip, so solve.sh and test.sh still run unzipped.
  for (const file of task.files as unknown as TaskFile[]) {
    zip.addReadStreamLazy(`${task.name}/${file.path}`, { mtime: task.createdAt, mode: file.executable ? 0o100755 : 0o100644 }, (give) => {
      open(path.join(dir, ...file.path.split('/')), 'r').then(
        (handle) => give(null, handle.createReadStream()),
        (error: Error) => give(error, null as unknown as Readable),
      );
    });
  }
  // A file missing from the store cuts the download rather than leaving a zip that looks whole.
  zip.on('error', (error: Error) => (zip.outputStream as Readable).destroy(error));
  await sendZip(zip, res);
}
