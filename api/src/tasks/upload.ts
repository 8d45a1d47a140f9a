// uploadTasks: every zip of a request is written to disk, unpacked and validated by the package
// reader, and each valid task is moved into the content-addressed store and recorded. One bad zip
// or task never blocks the others; a rejected task leaves no files and no row.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { extractArchive, type ExtractedTask, type PackageLimits, type Problem } from './package/index.js';
import type { TaskStore } from './store.js';

export type UploadStatus = 'CREATED' | 'DUPLICATE' | 'REJECTED';

/** What GraphQL multipart hands us: a web File. */
export interface UploadFile {
  name: string;
  size: number;
  stream(): ReadableStream<Uint8Array>;
}

export interface UploadedTask {
  name: string;
  /** The task's folder inside the zip, '' when its files were at the root. */
  rootPath: string;
  status: UploadStatus;
  /** The stored task: the new one, or for a duplicate the one already there. */
  taskId: string | null;
  errors: Problem[];
  warnings: Problem[];
}

export interface UploadedFile {
  fileName: string;
  sizeBytes: number;
  /** Problems with the archive as a whole; when present no task of it was stored. */
  errors: Problem[];
  warnings: Problem[];
  tasks: UploadedTask[];
}

export interface UploadResult {
  files: UploadedFile[];
  created: number;
  duplicates: number;
  rejected: number;
  /** Files that yielded no task at all (damaged, no task.toml, …). */
  rejectedFiles: number;
}

/** Platform policy for uploads (Harbor has none); see README "Configuration". */
export interface UploadLimits extends PackageLimits {
  /** Streamed decompressed bytes of all zips in one request. */
  maxRequestBytes: number;
  /** Compressed size of one zip, enforced while the request is read. */
  maxZipBytes: number;
  /** Zips in one request. */
  maxFiles: number;
}

export interface UploadDeps {
  db: Db;
  store: TaskStore;
  limits: UploadLimits;
  /** Recorded as Task.createdById on tasks this upload stores first (duplicates keep their uploader). */
  uploaderId?: string | null;
}

/** Zips unpacked side by side; more would only contend for the two cores and the disk. */
const CONCURRENCY = 2;

export async function uploadTasks(deps: UploadDeps, files: UploadFile[], signal?: AbortSignal): Promise<UploadResult> {
  const budget = { remainingBytes: deps.limits.maxRequestBytes };
  const results: UploadedFile[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      results[index] = await uploadOne(deps, files[index]!, budget, signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker));

  const tasks = results.flatMap((f) => f.tasks);
  return {
    files: results,
    created: tasks.filter((t) => t.status === 'CREATED').length,
    duplicates: tasks.filter((t) => t.status === 'DUPLICATE').length,
    rejected: tasks.filter((t) => t.status === 'REJECTED').length,
    rejectedFiles: results.filter((f) => f.tasks.length === 0 && f.errors.length > 0).length,
  };
}

async function uploadOne(
  deps: UploadDeps,
  file: UploadFile,
  budget: { remainingBytes: number },
  signal: AbortSignal | undefined,
): Promise<UploadedFile> {
  const work = await deps.store.incoming();
  try {
    const zipPath = path.join(work, 'upload.zip');
    // Iterated rather than Readable.fromWeb: the server's File streams are not Node's own class.
    await pipeline(Readable.from(file.stream() as unknown as AsyncIterable<Uint8Array>), createWriteStream(zipPath), { signal });
    const extractDir = path.join(work, 'x');
    await mkdir(extractDir);
    const archive = await extractArchive(zipPath, { fileName: file.name, workDir: extractDir, limits: deps.limits, budget, signal });
    const tasks: UploadedTask[] = [];
    for (const task of archive.tasks) {
      if (archive.errors.length > 0 || task.errors.length > 0) {
        tasks.push({ name: task.name, rootPath: task.rootPath, status: 'REJECTED', taskId: null, errors: task.errors, warnings: task.warnings });
      } else {
        tasks.push(await storeTask(deps, file.name, task));
      }
    }
    return { fileName: file.name, sizeBytes: file.size, errors: archive.errors, warnings: archive.warnings, tasks };
  } finally {
    await deps.store.discard(work);
  }
}

/** Moves an accepted task into the store and records it (or finds the same content stored): dataset imports share it. */
export async function storeTask(deps: Pick<UploadDeps, 'db' | 'store' | 'uploaderId'>, fileName: string, task: ExtractedTask): Promise<UploadedTask> {
  const hash = task.contentHash!;
  const result = (status: UploadStatus, taskId: string): UploadedTask => ({
    name: task.name,
    rootPath: task.rootPath,
    status,
    taskId,
    errors: [],
    warnings: task.warnings,
  });
  const existing = await deps.db.task.findUnique({ where: { contentHash: hash }, select: { id: true } });
  if (existing) return result('DUPLICATE', existing.id);

  const moved = await deps.store.commit(path.dirname(task.dir!), hash);
  const config = task.config!;
  try {
    const created = await deps.db.task.create({
      data: {
        contentHash: hash,
        createdById: deps.uploaderId ?? null,
        name: task.name,
        description: config.description,
        difficulty: config.difficulty,
        category: config.category,
        tags: config.tags,
        instruction: task.instruction!,
        agentTimeoutSec: config.agentTimeoutSec,
        verifierTimeoutSec: config.verifierTimeoutSec,
        buildTimeoutSec: config.buildTimeoutSec,
        cpus: config.cpus,
        memoryMb: config.memoryMb,
        storageMb: config.storageMb,
        dockerImage: config.dockerImage,
        metadata: config.raw as Prisma.InputJsonObject,
        files: task.files! as unknown as Prisma.InputJsonArray,
        warnings: task.warnings as unknown as Prisma.InputJsonArray,
        sizeBytes: BigInt(task.sizeBytes!),
        fileCount: task.files!.length,
        uploadFileName: fileName,
        uploadRootPath: task.rootPath,
        steps: task.steps ? (task.steps as unknown as Prisma.InputJsonArray) : Prisma.DbNull,
        convertedFrom: task.conversion?.from ?? null,
        conversionNotes: task.conversion ? (task.conversion.notes as unknown as Prisma.InputJsonArray) : Prisma.DbNull,
      },
      select: { id: true },
    });
    return result('CREATED', created.id);
  } catch (error) {
    // A concurrent upload of the same content recorded it first: its row and folder serve both.
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      const winner = await deps.db.task.findUniqueOrThrow({ where: { contentHash: hash }, select: { id: true } });
      return result('DUPLICATE', winner.id);
    }
    if (moved) await deps.store.remove(hash);
    throw error;
  }
}
