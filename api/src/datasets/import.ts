// importDataset: a dataset version from the server's own shared storage, either a folder of task
// directories (a checkout of terminal-bench-2: one sub-folder per task, each with task.toml) or a
// Harbor registry.json-style manifest whose tasks are local paths.
//
// Each task directory goes through exactly the checks an upload gets: it is packed as a zip of its
// folder and read by the same package reader (tasks/package), then stored by the same function as
// an upload, so equal content is one task whatever way it arrived. All or nothing: every folder is
// read first, and when any is refused nothing is stored and the error lists every folder and why.
//
// Only paths under DATASET_IMPORT_ROOT are read, checked after resolving links: a path that leaves
// the root, or a link inside a task that points anywhere, is refused and named.
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import type { Db } from '../db/client.js';
import { DomainError, InvalidInputError } from '../schema/errors.js';
import { extractArchive, type ExtractedTask } from '../tasks/package/index.js';
import type { TaskStore } from '../tasks/store.js';
import { storeTask, type UploadLimits } from '../tasks/upload.js';
import { label } from './names.js';
import { checkNaming, checkVersionFree, createOrAddVersion, type DraftTask, type MadeVersion } from './service.js';

/** A manifest is a list of dataset entries; Harbor's own registry.json is ~1 MB, so 16 MiB is ample and bounds memory. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** Task folders read side by side; more would only contend for the two cores and the disk. */
const CONCURRENCY = 2;

export interface ImportDeps {
  db: Db;
  store: TaskStore;
  limits: UploadLimits;
  /** DATASET_IMPORT_ROOT; null: importing is off. */
  root: string | null;
  createdById?: string | null;
}

export interface ImportInput {
  path: string;
  name: string;
  version: string;
  description?: string | null;
}

/** Why one task folder (or manifest entry) could not be imported. */
export interface ImportProblem {
  /** The task folder (relative to DATASET_IMPORT_ROOT) or manifest entry it concerns. */
  folder: string;
  /** A package check's code (missing_required_file, task_toml_invalid, …) or symlink, outside_root, not_found, manifest_invalid. */
  code: string;
  message: string;
  /** The file inside the folder it concerns, when known. */
  path: string | null;
}

export class DatasetImportError extends DomainError {
  readonly code = 'DATASET_IMPORT_FAILED';
  constructor(
    readonly problems: ImportProblem[],
    readonly folders: number,
  ) {
    const failed = new Set(problems.map((p) => p.folder)).size;
    super(
      `${failed} of ${folders} task folder${folders === 1 ? '' : 's'} could not be imported, so nothing was stored; ` +
        `first: ${problems[0]!.folder}: ${problems[0]!.message}`,
    );
  }
}

export interface Imported extends MadeVersion {
  source: 'FOLDER' | 'MANIFEST';
  tasks: number;
  /** Tasks stored now; the rest were in the library already (same content). */
  created: number;
}

interface TaskSource {
  /** Shown in problems: the folder relative to the root, or the manifest's task name. */
  label: string;
  /** The task's name in the dataset. */
  name: string | null;
  dir: string;
}

function invalid(message: string): never {
  throw new InvalidInputError(message, 'input.path');
}

export async function importDataset(deps: ImportDeps, input: ImportInput, signal?: AbortSignal): Promise<Imported> {
  const { name, version, description } = checkNaming(input);
  if (!deps.root) invalid('importing from the server is off: set DATASET_IMPORT_ROOT to the folder imports may read');
  const root = await realpath(deps.root).catch(() => invalid(`DATASET_IMPORT_ROOT (${deps.root}) does not exist on this server`));
  const target = await resolveInside(root, input.path);
  await checkVersionFree(deps.db, name, version);

  const info = await stat(target);
  const shown = path.relative(root, target) || '.';
  let sources: TaskSource[];
  let problems: ImportProblem[];
  let manifestDescription: string | null = null;
  if (info.isDirectory()) {
    ({ sources, problems } = await folderTasks(root, target));
  } else if (info.isFile()) {
    ({ sources, problems, description: manifestDescription } = await manifestTasks(root, target, name, version));
  } else {
    invalid(`${shown} is neither a folder nor a manifest file`);
  }
  if (sources.length === 0 && problems.length === 0) {
    invalid(`${shown} holds no task folders (sub-folders with a task.toml)`);
  }

  const work = await deps.store.incoming();
  try {
    const budget = { remainingBytes: deps.limits.maxRequestBytes };
    const read: Array<{ source: TaskSource; task: ExtractedTask } | null> = new Array(sources.length).fill(null);
    let next = 0;
    const worker = async () => {
      while (next < sources.length) {
        const index = next++;
        const source = sources[index]!;
        signal?.throwIfAborted();
        const result = await readTask(root, source, path.join(work, String(index)), deps.limits, budget, signal);
        if ('problems' in result) problems.push(...result.problems);
        else read[index] = { source, task: result.task };
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, sources.length) }, worker));
    const folders = sources.length + new Set(problems.filter((p) => !sources.some((s) => s.label === p.folder)).map((p) => p.folder)).size;
    // Two folders under one name (a manifest may point at a/fix-git and b/fix-git): refused before anything is stored.
    const byName = new Map<string, TaskSource[]>();
    for (const entry of read) {
      if (!entry) continue;
      const name = entry.source.name ?? entry.task.name;
      byName.set(name, [...(byName.get(name) ?? []), entry.source]);
    }
    for (const [name, clash] of byName) {
      if (clash.length < 2) continue;
      for (const source of clash) {
        problems.push({ folder: source.label, code: 'duplicate_task_name', message: `${clash.length} task folders are named ${name}; names are unique in a version`, path: null });
      }
    }
    if (problems.length > 0) throw new DatasetImportError(sortProblems(problems), folders);

    // Everything was read: store the tasks (equal content is one task) and write the version at once.
    const tasks: DraftTask[] = [];
    let created = 0;
    for (const entry of read) {
      const { source, task } = entry!;
      const stored = await storeTask({ db: deps.db, store: deps.store, uploaderId: deps.createdById ?? null }, `${path.basename(source.dir)}.zip`, task);
      if (stored.status === 'CREATED') created++;
      if (!tasks.some((t) => t.taskId === stored.taskId)) tasks.push({ taskId: stored.taskId!, name: source.name ?? task.name });
    }
    const source = info.isDirectory() ? 'FOLDER' : 'MANIFEST';
    const made = await createOrAddVersion(deps.db, {
      name,
      version,
      description: description ?? manifestDescription,
      source,
      sourceDetail: shown,
      tasks,
      createdById: deps.createdById ?? null,
    });
    return { ...made, source, tasks: tasks.length, created };
  } finally {
    await deps.store.discard(work);
  }
}

/** The real path of `requested` (absolute, or relative to the root) if it stays under the root; InvalidInput naming why not. */
export async function resolveInside(root: string, requested: string): Promise<string> {
  const trimmed = requested.trim();
  if (trimmed === '') invalid('path must name a folder or manifest under DATASET_IMPORT_ROOT');
  const lexical = path.resolve(root, trimmed);
  if (!isInside(root, lexical)) invalid(`${trimmed} is outside DATASET_IMPORT_ROOT (${root}); only paths under it may be imported`);
  const real = await realpath(lexical).catch((error: NodeJS.ErrnoException) =>
    invalid(error.code === 'ENOENT' ? `${trimmed} does not exist under DATASET_IMPORT_ROOT` : `${trimmed} cannot be read: ${error.code ?? error.message}`),
  );
  if (!isInside(root, real)) {
    invalid(`${trimmed} goes through a link to ${real}, outside DATASET_IMPORT_ROOT (${root}); only paths under it may be imported`);
  }
  return real;
}

export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Sub-folders holding a task.toml (or a TB1 task.yaml, which the reader converts); dot-folders (.git) are skipped. */
async function folderTasks(root: string, dir: string): Promise<{ sources: TaskSource[]; problems: ImportProblem[] }> {
  const sources: TaskSource[] = [];
  const problems: ImportProblem[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    const shown = path.relative(root, full);
    if (entry.isSymbolicLink()) {
      problems.push(await linkProblem(root, full, shown, null));
      continue;
    }
    if (!entry.isDirectory()) continue;
    const names = await readdir(full);
    if (names.includes('task.toml') || names.includes('task.yaml')) sources.push({ label: shown, name: null, dir: full });
  }
  return { sources, problems };
}

interface ManifestTask {
  name?: unknown;
  path?: unknown;
  git_url?: unknown;
  git_commit_id?: unknown;
}
interface ManifestDataset {
  name?: unknown;
  version?: unknown;
  description?: unknown;
  tasks?: unknown;
}

/**
 * A Harbor registry.json: a list of `{ name, version, description, tasks: [{ name, git_url?,
 * git_commit_id?, path }] }`. The entry is the only one, or the one named name@version. Task paths
 * are read from this server (relative to the manifest's folder); git_url and git_commit_id say where
 * they came from and are not fetched.
 */
async function manifestTasks(
  root: string,
  file: string,
  name: string,
  version: string,
): Promise<{ sources: TaskSource[]; problems: ImportProblem[]; description: string | null }> {
  const shown = path.relative(root, file);
  const info = await stat(file);
  if (info.size > MAX_MANIFEST_BYTES) invalid(`${shown} is ${info.size} bytes; a manifest may be at most ${MAX_MANIFEST_BYTES}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    invalid(`${shown} is not a folder nor a JSON manifest: ${(error as Error).message}`);
  }
  const entries = (Array.isArray(parsed) ? parsed : [parsed]) as ManifestDataset[];
  if (entries.some((e) => typeof e !== 'object' || e === null || !Array.isArray(e.tasks))) {
    invalid(`${shown} is not a registry.json manifest: expected a list of { name, version, description, tasks: [{ name, path }] }`);
  }
  const entry =
    entries.length === 1
      ? entries[0]!
      : entries.find((e) => String(e.name).toLowerCase() === name.toLowerCase() && String(e.version) === version);
  if (!entry) {
    invalid(
      `${shown} lists ${entries.length} datasets and none is ${label(name, version)}; pick one of ` +
        entries.slice(0, 10).map((e) => label(String(e.name), String(e.version))).join(', '),
    );
  }
  const base = path.dirname(file);
  const sources: TaskSource[] = [];
  const problems: ImportProblem[] = [];
  for (const [i, task] of (entry.tasks as ManifestTask[]).entries()) {
    const taskName = typeof task?.name === 'string' && task.name.trim() ? task.name.trim() : null;
    const shownTask = taskName ?? `tasks[${i}]`;
    if (typeof task?.path !== 'string' || task.path.trim() === '') {
      problems.push({ folder: shownTask, code: 'manifest_invalid', message: `tasks[${i}] has no path`, path: null });
      continue;
    }
    const lexical = path.resolve(base, task.path);
    if (!isInside(root, lexical)) {
      problems.push({ folder: shownTask, code: 'outside_root', message: `${task.path} is outside DATASET_IMPORT_ROOT (${root})`, path: null });
      continue;
    }
    const real = await realpath(lexical).catch(() => null);
    if (!real) {
      problems.push({ folder: shownTask, code: 'not_found', message: `${task.path} does not exist (resolved against the manifest's folder)`, path: null });
      continue;
    }
    if (!isInside(root, real)) {
      problems.push({ folder: shownTask, code: 'outside_root', message: `${task.path} goes through a link to ${real}, outside DATASET_IMPORT_ROOT (${root})`, path: null });
      continue;
    }
    if (!(await stat(real)).isDirectory()) {
      problems.push({ folder: shownTask, code: 'not_found', message: `${task.path} is not a task folder`, path: null });
      continue;
    }
    sources.push({ label: shownTask, name: taskName, dir: real });
  }
  const description = typeof entry.description === 'string' && entry.description.trim() ? entry.description.trim() : null;
  return { sources, problems, description };
}

async function linkProblem(root: string, full: string, shown: string, inside: string | null): Promise<ImportProblem> {
  const target = await readlink(full).catch(() => '?');
  const real = await realpath(full).catch(() => null);
  const outside = real === null || !isInside(root, real);
  return {
    folder: shown,
    code: 'symlink',
    message: outside
      ? `${inside ?? shown} is a link to ${target}, outside DATASET_IMPORT_ROOT; links are never followed`
      : `${inside ?? shown} is a link (to ${target}); a task package holds regular files only, so links are not imported`,
    path: inside,
  };
}

/** Packs one task folder as a zip of `<folder>/…` and reads it with the upload's package reader. */
async function readTask(
  root: string,
  source: TaskSource,
  work: string,
  limits: UploadLimits,
  budget: { remainingBytes: number },
  signal: AbortSignal | undefined,
): Promise<{ task: ExtractedTask } | { problems: ImportProblem[] }> {
  const folderName = path.basename(source.dir);
  const problems: ImportProblem[] = [];
  const files: Array<{ rel: string; executable: boolean }> = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isSymbolicLink()) problems.push(await linkProblem(root, full, source.label, rel));
      else if (entry.isDirectory()) await walk(full, rel);
      else if (entry.isFile()) files.push({ rel, executable: ((await lstat(full)).mode & 0o111) !== 0 });
      else problems.push({ folder: source.label, code: 'symlink', message: `${rel} is a special file (not a regular file or folder)`, path: rel });
      if (files.length > limits.maxEntries) throw new TooManyFiles();
    }
  };
  try {
    await walk(source.dir, '');
  } catch (error) {
    if (!(error instanceof TooManyFiles)) throw error;
    return { problems: [{ folder: source.label, code: 'zip_bomb', message: `more than ${limits.maxEntries} files in one task`, path: null }] };
  }
  if (problems.length > 0) return { problems };

  await mkdir(work, { recursive: true });
  const zipPath = path.join(work, 'task.zip');
  const zip = new yazl.ZipFile();
  // Stored, not deflated: the zip only carries the files to the reader on this disk.
  for (const f of files.sort((a, b) => (a.rel < b.rel ? -1 : 1))) {
    zip.addFile(path.join(source.dir, f.rel), `${folderName}/${f.rel}`, { compress: false, mode: 0o100000 | (f.executable ? 0o755 : 0o644) });
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(zipPath, { flags: 'wx' }), { signal });
  const extractDir = path.join(work, 'x');
  await mkdir(extractDir);
  const archive = await extractArchive(zipPath, { fileName: `${folderName}.zip`, workDir: extractDir, limits, budget, signal });
  const task = archive.tasks[0];
  const errors = [...archive.errors, ...(task?.errors ?? [])];
  if (!task || archive.tasks.length !== 1 || errors.length > 0) {
    return {
      problems: (errors.length > 0 ? errors : [{ code: 'no_task_found', message: 'no task found in the folder', path: null }]).map((p) => ({
        folder: source.label,
        code: p.code,
        // Paths in the reader's messages start with the folder name; they are relative to the task folder here.
        message: p.message,
        path: p.path?.startsWith(`${folderName}/`) ? p.path.slice(folderName.length + 1) : (p.path ?? null),
      })),
    };
  }
  return { task };
}

class TooManyFiles extends Error {}

function sortProblems(problems: ImportProblem[]): ImportProblem[] {
  return [...problems].sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0));
}
