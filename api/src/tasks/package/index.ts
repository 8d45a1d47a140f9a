// The task-package reader: validates an uploaded zip of Terminal-Bench 2 tasks and extracts each
// task into a working folder (tb2-task-format.md §1, §1.1, §3). Pure: no database, no GraphQL.
//
// Order: read the whole central directory (entry checks, root detection), then stream only the
// entries inside task folders, task.toml and instruction.md first, then the rest in zip order.
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Entry, ZipFile } from 'yauzl';
import { ancestors, openZip, readEntries, scanEntries, ZipDamaged, type ZipItem } from './entries.js';
import { CapExceeded, extractEntry, safeJoin, type ArchiveMeter, type StreamedFile } from './extract.js';
import { detectLayout, relativeTo, rootOf } from './layout.js';
import { defaultPackageLimits, MAX_TEXT_FILE_BYTES, type PackageLimits, type UploadBudget } from './limits.js';
import { messages, problem, type Problem } from './problems.js';
import { composeHostAccess } from './compose.js';
import { checkTaskToml, type TomlCheck } from './task-config.js';
import { checkInstruction, checkRequiredFiles, compareUtf8, contentHash, taskName, type TaskTree } from './task-checks.js';
import { summariseSteps } from './step-summary.js';
import { convertStage, zipOriginal, type ConversionNote } from './tb1-stage.js';
import type { ExtractedArchive, ExtractedTask, ExtractOptions } from './types.js';

export { defaultPackageLimits, type PackageLimits, type UploadBudget } from './limits.js';
export type { Problem, RejectionCode, WarningCode } from './problems.js';
export type { TaskConfig } from './task-config.js';
export type { TaskStepSummary } from './step-summary.js';
export type { NetworkPolicy } from './task-steps.js';
export type { ConversionNote } from './tb1-stage.js';

/** The original files of a converted task, zipped beside its folder: <package>/.original.zip (task names never start with a dot). */
export const ORIGINAL_ZIP = '.original.zip';
export type { ExtractedArchive, ExtractedTask, ExtractOptions, TaskFile } from './types.js';

/** One task root while the archive is processed. */
interface TaskState {
  root: string;
  /** Where files are streamed; renamed to `<name>` once the task is accepted. */
  stage: string;
  items: Map<string, ZipItem>;
  tree: TaskTree;
  explicitFolders: string[];
  errors: Problem[];
  meter: { bytes: number };
  /** A size cap was passed: the rest of the task is not read. */
  capped: { kind: 'file' | 'task'; path: string; bytes: number; limit: number } | null;
  streamed: Map<string, StreamedFile>;
  /** Exec bit of each file, as it will be stored. */
  executable: Map<string, boolean>;
  /** A Terminal-Bench 1 task: converted to TB2 after streaming. */
  tb1: boolean;
  /** Set once a TB1 task was converted: `stage`, `tree` and `streamed` then describe the TB2 files. */
  conversion: { originalStage: string; originalFiles: string[]; originalExecutable: Map<string, boolean>; notes: ConversionNote[] } | null;
}

/** Read first: everything else about a task depends on them. */
const ESSENTIAL = new Set(['task.toml', 'instruction.md', 'task.yaml']);
const OUTSIDE_LISTED = 5;

/** Never throws for bad input; only for an abort (with its reason) or I/O failures of workDir. */
export async function extractArchive(zipPath: string, opts: ExtractOptions): Promise<ExtractedArchive> {
  opts.signal?.throwIfAborted();
  const limits = opts.limits ?? defaultPackageLimits;
  const archive: ExtractedArchive = { fileName: opts.fileName, errors: [], warnings: [], tasks: [], uncompressedBytes: 0 };
  const damaged = (error: ZipDamaged) => {
    archive.errors.push(problem('zip_invalid', messages.zipInvalid(error.message)));
    return archive;
  };

  let zip: ZipFile;
  try {
    zip = await openZip(zipPath);
  } catch (error) {
    if (error instanceof ZipDamaged) return damaged(error);
    throw error;
  }
  try {
    if (zip.entryCount > limits.maxEntries) {
      archive.errors.push(problem('zip_bomb', messages.tooManyEntries(zip.entryCount, limits.maxEntries)));
      return archive;
    }
    let entries: Entry[];
    try {
      entries = await readEntries(zip, opts.signal);
    } catch (error) {
      if (error instanceof ZipDamaged) return damaged(error);
      throw error;
    }
    await unpack(zip, entries, archive, { ...opts, workDir: path.resolve(opts.workDir), limits });
    return archive;
  } finally {
    zip.close();
  }
}

async function unpack(
  zip: ZipFile,
  entries: Entry[],
  archive: ExtractedArchive,
  opts: ExtractOptions & { limits: PackageLimits },
): Promise<void> {
  const { limits, signal, workDir } = opts;
  const scan = scanEntries(entries);
  if (scan.backslashes) archive.warnings.push(problem('backslash_separators', messages.backslashes()));
  if (scan.unsupported) archive.errors.push(scan.unsupported);
  const layout = detectLayout(scan.items);
  archive.errors.push(...layout.errors);
  if (layout.outside.length > 0) {
    archive.warnings.push(problem('outside_task', messages.outsideTask(layout.outside.slice(0, OUTSIDE_LISTED), layout.outside.length)));
  }

  const { roots } = layout;
  const tasks: TaskState[] = roots.map((root, i) => ({
    root,
    stage: path.join(workDir, String(i), '.staging'),
    items: new Map(),
    tree: { files: new Set(), folders: new Set() },
    explicitFolders: [],
    errors: [],
    meter: { bytes: 0 },
    capped: null,
    streamed: new Map(),
    executable: new Map(),
    tb1: layout.tb1.has(root),
    conversion: null,
  }));
  // An entry-level problem inside a task folder rejects that task only; elsewhere, the archive.
  for (const { problem: p, paths } of scan.findings) {
    const owners = new Set(paths.map((p) => rootOf(roots, p)).filter((i) => i >= 0));
    if (owners.size === 0) archive.errors.push(p);
    for (const i of owners) tasks[i]!.errors.push(p);
  }
  for (const item of scan.items) {
    const i = rootOf(roots, item.path);
    const rel = relativeTo(item.path, roots[i] ?? '');
    if (i < 0 || rel === '') continue;
    const task = tasks[i]!;
    if (item.isDir) {
      task.tree.folders.add(rel);
      task.explicitFolders.push(rel);
    } else {
      if (!task.items.has(rel)) task.items.set(rel, item);
      task.executable.set(rel, item.executable);
      task.tree.files.add(rel);
    }
    for (const folder of ancestors(rel)) task.tree.folders.add(folder);
  }

  archive.uncompressedBytes = await stream(zip, tasks, archive, limits, opts.budget, signal);
  signal?.throwIfAborted();
  for (const [i, task] of tasks.entries()) {
    if (task.tb1 && archive.errors.length === 0) await convert(task, path.join(workDir, String(i), '.converted'));
  }

  const results = await Promise.all(tasks.map((task) => validate(task, opts.fileName)));
  const byName = new Map<string, string[]>();
  for (const [i, result] of results.entries()) byName.set(result.name, [...(byName.get(result.name) ?? []), roots[i]!]);
  for (const [name, sameName] of byName) {
    if (sameName.length > 1) archive.errors.push(problem('duplicate_task_name', messages.duplicateName(name, sameName)));
  }

  for (const [i, result] of results.entries()) {
    const { name, rootPath, errors, warnings } = result;
    archive.tasks.push(
      archive.errors.length === 0 && errors.length === 0
        ? await accept(tasks[i]!, result, path.join(workDir, String(i)))
        : { name, rootPath, errors, warnings },
    );
  }
}

/** Streams the entries of every task folder; returns the decompressed bytes streamed. */
async function stream(
  zip: ZipFile,
  tasks: TaskState[],
  archive: ExtractedArchive,
  limits: PackageLimits,
  budget: UploadBudget | undefined,
  signal: AbortSignal | undefined,
): Promise<number> {
  const fatal = (p: Problem) => p.code === 'zip_invalid' || p.code === 'zip_bomb';
  let halted = archive.errors.some(fatal);
  // A rejected archive stores nothing; read only what the per-task checks need.
  const essentialsOnly = archive.errors.length > 0;
  const jobs = tasks.flatMap((task) =>
    [...task.items].filter(([, item]) => !item.blocked).map(([rel, item]) => ({ task, rel, item, essential: ESSENTIAL.has(rel) })),
  );
  jobs.sort(
    (a, b) => Number(b.essential) - Number(a.essential) || a.item.entry.relativeOffsetOfLocalHeader - b.item.entry.relativeOffsetOfLocalHeader,
  );

  const meter: ArchiveMeter = { limits, budget, bytes: 0 };
  const made = new Set<string>();
  for (const { task, rel, item, essential } of jobs) {
    if (halted) break;
    if (task.capped || (essentialsOnly && !essential)) continue;
    signal?.throwIfAborted();
    const dest = safeJoin(task.stage, rel);
    if (!made.has(path.dirname(dest))) {
      await mkdir(path.dirname(dest), { recursive: true });
      made.add(path.dirname(dest));
    }
    try {
      task.streamed.set(rel, await extractEntry(zip, item, dest, meter, task.meter, signal));
    } catch (error) {
      if (error instanceof ZipDamaged) {
        archive.errors.push(problem('zip_invalid', messages.zipInvalid(error.message)));
        halted = true;
      } else if (!(error instanceof CapExceeded)) {
        throw error;
      } else if (error.kind === 'file' || error.kind === 'task') {
        task.capped =
          error.kind === 'file'
            ? { kind: 'file', path: item.path, bytes: error.entryBytes, limit: limits.maxFileBytes }
            : { kind: 'task', path: item.path, bytes: task.meter.bytes, limit: limits.maxTaskBytes };
      } else {
        const message =
          error.kind === 'budget'
            ? messages.budgetExhausted()
            : error.kind === 'archive'
              ? messages.archiveTooLarge(limits.maxArchiveBytes)
              : messages.ratio(item.name, error.entryBytes, item.entry.compressedSize, limits.maxRatio);
        archive.errors.push(problem('zip_bomb', message, error.kind === 'ratio' ? item.path : null));
        halted = true;
      }
    }
  }
  return meter.bytes;
}

/** Converts a fully streamed TB1 task in place (its state then describes the TB2 files), or records why not. */
async function convert(task: TaskState, out: string): Promise<void> {
  const complete = !task.capped && task.errors.length === 0 && [...task.items].every(([rel, item]) => item.blocked || task.streamed.has(rel));
  if (!complete) return;
  const zipPath = (rel: string) => (task.root === '' ? rel : `${task.root}/${rel}`);
  const converted = await convertStage(task.stage, task.streamed, task.executable, out, zipPath);
  if ('errors' in converted) {
    task.errors.push(...converted.errors);
    return;
  }
  task.conversion = {
    originalStage: task.stage,
    originalFiles: [...task.streamed.keys()],
    originalExecutable: task.executable,
    notes: converted.notes,
  };
  Object.assign(task, { stage: converted.stage, tree: converted.tree, streamed: converted.streamed, executable: converted.executable, explicitFolders: [] });
}

interface Validated extends ExtractedTask {
  toml: TomlCheck | null;
  stepInstructions: Map<string, string>;
}

/** Every per-task check whose input is available; never reads a file that was not fully streamed. */
async function validate(task: TaskState, fileName: string): Promise<Validated> {
  const zipPath = (rel: string) => (task.root === '' ? rel : `${task.root}/${rel}`);
  const errors = [...task.errors];
  const warnings: Problem[] = [];
  const read = (rel: string) => readFile(safeJoin(task.stage, rel));
  if (task.tb1 && !task.conversion) {
    // Not converted (a rejected archive, a cap, or the reasons in task.errors): TB2 checks would only add noise.
    const { name } = taskName(task.root, fileName, null, zipPath('task.yaml'));
    if (task.capped) errors.push(problem('task_too_large', messages.taskTooLarge(name, task.capped.bytes, task.capped.limit), task.root || null));
    return { name, rootPath: task.root, errors, warnings, toml: null, stepInstructions: new Map() };
  }

  let toml: TomlCheck | null = null;
  const tomlFile = task.streamed.get('task.toml');
  if (tomlFile && tomlFile.size > MAX_TEXT_FILE_BYTES) {
    errors.push(problem('task_toml_invalid', messages.textTooLarge('task.toml', MAX_TEXT_FILE_BYTES), zipPath('task.toml')));
  } else if (tomlFile) {
    toml = checkTaskToml(await read('task.toml'), zipPath('task.toml'));
    errors.push(...toml.errors);
    warnings.push(...toml.warnings);
  }

  const { name, error: nameError } = taskName(task.root, fileName, toml, zipPath('task.toml'));
  if (nameError) errors.push(nameError);
  if (task.capped) {
    const { kind, path: p, bytes, limit } = task.capped;
    errors.push(
      kind === 'file'
        ? problem('file_too_large', messages.fileTooLarge(p, bytes, limit), p)
        : problem('task_too_large', messages.taskTooLarge(name, bytes, limit), task.root || null),
    );
  }

  const required = checkRequiredFiles(task.tree, toml, zipPath);
  errors.push(...required.errors);
  warnings.push(...required.warnings);

  for (const rel of ['environment/docker-compose.yaml', 'environment/docker-compose.yml']) {
    const compose = task.streamed.get(rel);
    if (!compose) continue;
    const reasons =
      compose.size > MAX_TEXT_FILE_BYTES
        ? [`the compose file is larger than ${MAX_TEXT_FILE_BYTES} bytes, so it cannot be checked`]
        : composeHostAccess((await read(rel)).toString('utf8'));
    for (const reason of reasons) warnings.push(problem('host_access', messages.hostAccess(reason), zipPath(rel)));
  }

  /** An instruction.md's text, or undefined when it is absent, too large or invalid (then reported). */
  const readInstruction = async (rel: string, label?: string): Promise<string | undefined> => {
    const file = task.streamed.get(rel);
    if (file && file.size > MAX_TEXT_FILE_BYTES) {
      errors.push(problem('instruction_invalid', messages.textTooLarge(rel, MAX_TEXT_FILE_BYTES), zipPath(rel)));
    } else if (file) {
      const checked = checkInstruction(await read(rel), zipPath(rel), label);
      if (checked.error) errors.push(checked.error);
      else return checked.text!;
    }
    return undefined;
  };
  const steps = toml?.config?.steps ?? null;
  let instruction = await readInstruction('instruction.md');
  // A multi-step task's agent reads only the steps' instructions; Harbor ignores the task's own.
  if (steps && instruction === undefined && !task.tree.files.has('instruction.md')) instruction = '';
  const stepInstructions = new Map<string, string>();
  for (const step of steps ?? []) {
    const rel = `steps/${step.name}/instruction.md`;
    const text = await readInstruction(rel, zipPath(rel));
    if (text !== undefined) stepInstructions.set(step.name, text);
  }
  return { name, rootPath: task.root, errors, warnings, toml, stepInstructions, ...(instruction === undefined ? {} : { instruction }) };
}

/** Moves an accepted task to `<packageDir>/<name>` and describes it. */
async function accept(task: TaskState, result: Validated, packageDir: string): Promise<ExtractedTask> {
  const config = result.toml?.config;
  const unread = task.conversion ? [] : [...task.items].filter(([rel]) => !task.streamed.has(rel));
  if (!config || result.instruction === undefined || unread.length > 0) {
    throw new Error(`task ${result.name}: accepted without being fully read`);
  }
  const dir = safeJoin(packageDir, result.name);
  await rename(task.stage, dir);
  const { conversion } = task;
  if (conversion) {
    // Kept beside the task folder, so it moves into the store with it.
    await zipOriginal(conversion.originalStage, conversion.originalFiles, conversion.originalExecutable, path.join(packageDir, ORIGINAL_ZIP));
    await rm(conversion.originalStage, { recursive: true, force: true });
  }
  for (const folder of task.explicitFolders) await mkdir(safeJoin(dir, folder), { recursive: true });
  if (config.dockerImage !== null && !task.tree.folders.has('environment')) await mkdir(safeJoin(dir, 'environment'));

  const streamed = [...task.streamed].map(([rel, file]) => ({ path: rel, ...file }));
  const files = streamed
    .map(({ path: p, size }) => ({ path: p, size, executable: task.executable.get(p) ?? false }))
    .sort((a, b) => compareUtf8(a.path, b.path));
  return {
    name: result.name,
    rootPath: result.rootPath,
    errors: [],
    warnings: result.warnings,
    dir,
    contentHash: contentHash(result.name, streamed),
    files,
    sizeBytes: files.reduce((sum, f) => sum + f.size, 0),
    config,
    instruction: result.instruction,
    steps: config.steps
      ? summariseSteps(config.steps, config.separateVerifier, config.os === 'windows', files.map((f) => f.path), result.stepInstructions)
      : null,
    ...(conversion ? { conversion: { from: 'TB1' as const, notes: conversion.notes } } : {}),
  };
}
