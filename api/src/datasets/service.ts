// Datasets: named benchmarks whose task lists are versions (terminal-bench@2.0). A version never
// changes once made; new tasks make a new version, and jobs point at the version they ran, so a
// result always names the exact task list it was measured on. No GraphQL here.
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { DatasetSource } from '../generated/prisma/enums.js';
import { DomainError, InvalidInputError, NotFoundError } from '../schema/errors.js';
import { taskWhere, type TaskFilter } from '../tasks/library.js';
import { descriptionProblem, label, nameProblem, versionProblem } from './names.js';

/** Tasks one version may hold: 100× Terminal-Bench 2's 89, and a job over it still fits MAX_RUNS_PER_JOB at 10 runs per task. */
export const MAX_DATASET_TASKS = 10_000;

export class DatasetExistsError extends DomainError {
  readonly code = 'DATASET_EXISTS';
  constructor(
    /** As spelled by the existing dataset (not `name`: that is Error's own). */
    readonly datasetName: string,
    readonly datasetId: string,
  ) {
    super(`a dataset named ${datasetName} exists already (names are compared ignoring case); add a version to it with createDatasetVersion, or pick another name`);
  }
}

export class DatasetVersionExistsError extends DomainError {
  readonly code = 'DATASET_VERSION_EXISTS';
  constructor(
    readonly label: string,
    readonly datasetVersionId: string,
  ) {
    super(`${label} exists already; versions never change once made, so give the new task list another version`);
  }
}

/** One task of a version being made: the stored task and its name in the dataset. */
export interface DraftTask {
  taskId: string;
  name: string;
}

export interface VersionDraft {
  version: string;
  description?: string | null;
  source: DatasetSource;
  sourceDetail?: string | null;
  tasks: DraftTask[];
  createdById?: string | null;
}

export interface MadeVersion {
  datasetId: string;
  datasetVersionId: string;
  /** True when the dataset was made with this version, false when the version was added to it. */
  newDataset: boolean;
}

function invalid(field: string, message: string): never {
  throw new InvalidInputError(message, field);
}

/** Trimmed name, version and description, or InvalidInputError naming the field. */
export function checkNaming(input: { name?: string; version: string; description?: string | null }, prefix = 'input'): {
  name: string;
  version: string;
  description: string | null;
} {
  const name = input.name?.trim() ?? '';
  const version = input.version.trim();
  const description = input.description?.trim() || null;
  if (input.name !== undefined) {
    const problem = nameProblem(name);
    if (problem) invalid(`${prefix}.name`, problem);
  }
  const vProblem = versionProblem(version);
  if (vProblem) invalid(`${prefix}.version`, vProblem);
  const dProblem = descriptionProblem(description);
  if (dProblem) invalid(`${prefix}.description`, dProblem);
  return { name, version, description };
}

/** The dataset with this name, ignoring case (there is a unique index on lower(name)). */
export async function datasetNamed(db: Db, name: string): Promise<{ id: string; name: string } | null> {
  return db.dataset.findFirst({ where: { name: { equals: name, mode: 'insensitive' } }, select: { id: true, name: true } });
}

/** Makes a dataset with its first version; DATASET_EXISTS when the name is taken. */
export async function createDataset(db: Db, input: VersionDraft & { name: string }): Promise<MadeVersion> {
  const { name, version, description } = checkNaming(input);
  checkTasks(input.tasks);
  const existing = await datasetNamed(db, name);
  if (existing) throw new DatasetExistsError(existing.name, existing.id);
  try {
    return await db.$transaction(async (tx) => {
      const dataset = await tx.dataset.create({
        data: { name, description, createdById: input.createdById ?? null },
        select: { id: true },
      });
      const made = await writeVersion(tx, dataset.id, { ...input, version, description });
      return { datasetId: dataset.id, datasetVersionId: made, newDataset: true };
    });
  } catch (error) {
    // Another request took the name between the look-up and the insert.
    if (isUniqueViolation(error)) {
      const winner = await datasetNamed(db, name);
      if (winner) throw new DatasetExistsError(winner.name, winner.id);
    }
    throw error;
  }
}

/**
 * Adds a version to a dataset. DATASET_VERSION_EXISTS when the version is taken; InvalidInput when the
 * task list is the latest version's (a version is a change of tasks, not a new label for the same list).
 */
export async function addVersion(db: Db, datasetId: string, draft: VersionDraft): Promise<MadeVersion> {
  const { version, description } = checkNaming(draft);
  checkTasks(draft.tasks);
  const dataset = await db.dataset.findUnique({ where: { id: datasetId }, select: { id: true, name: true } });
  if (!dataset) throw new NotFoundError('dataset', datasetId);
  const taken = await db.datasetVersion.findUnique({ where: { datasetId_version: { datasetId, version } }, select: { id: true } });
  if (taken) throw new DatasetVersionExistsError(label(dataset.name, version), taken.id);

  const latest = await db.datasetVersion.findFirst({
    where: { datasetId },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    select: { version: true, tasks: { select: { taskId: true } } },
  });
  if (latest && sameTasks(latest.tasks.map((t) => t.taskId), draft.tasks.map((t) => t.taskId))) {
    invalid(
      'input',
      `the task list is identical to the latest version, ${label(dataset.name, latest.version)} (${latest.tasks.length} tasks); ` +
        'a new version needs tasks added or removed',
    );
  }
  try {
    const made = await db.$transaction((tx) => writeVersion(tx, datasetId, { ...draft, version, description }));
    return { datasetId, datasetVersionId: made, newDataset: false };
  } catch (error) {
    if (isUniqueViolation(error)) {
      const winner = await db.datasetVersion.findUnique({ where: { datasetId_version: { datasetId, version } }, select: { id: true } });
      if (winner) throw new DatasetVersionExistsError(label(dataset.name, version), winner.id);
    }
    throw error;
  }
}

/** For imports and uploads: a new dataset, or a new version of the one with this name. */
export async function createOrAddVersion(db: Db, input: VersionDraft & { name: string }): Promise<MadeVersion> {
  const { name } = checkNaming(input);
  const existing = await datasetNamed(db, name);
  if (!existing) {
    try {
      return await createDataset(db, input);
    } catch (error) {
      // Made by someone else meanwhile: add to it instead.
      if (!(error instanceof DatasetExistsError)) throw error;
      return addVersion(db, error.datasetId, input);
    }
  }
  return addVersion(db, existing.id, input);
}

/**
 * Refuses a name or version that exists before any work is done (an upload or an import stores
 * tasks first); the write itself checks again.
 */
export async function checkVersionFree(db: Db, name: string, version: string): Promise<void> {
  const existing = await datasetNamed(db, name);
  if (!existing) return;
  const taken = await db.datasetVersion.findUnique({ where: { datasetId_version: { datasetId: existing.id, version } }, select: { id: true } });
  if (taken) throw new DatasetVersionExistsError(label(existing.name, version), taken.id);
}

async function writeVersion(tx: Prisma.TransactionClient, datasetId: string, draft: VersionDraft): Promise<string> {
  const version = await tx.datasetVersion.create({
    data: {
      datasetId,
      version: draft.version,
      description: draft.description ?? null,
      source: draft.source,
      sourceDetail: draft.sourceDetail ?? null,
      taskCount: draft.tasks.length,
      createdById: draft.createdById ?? null,
    },
    select: { id: true },
  });
  await tx.datasetTask.createMany({ data: draft.tasks.map((t) => ({ datasetVersionId: version.id, taskId: t.taskId, name: t.name })) });
  return version.id;
}

function checkTasks(tasks: DraftTask[]): void {
  if (tasks.length === 0) invalid('input', 'a dataset version needs at least one task');
  if (tasks.length > MAX_DATASET_TASKS) invalid('input', `a dataset version holds at most ${MAX_DATASET_TASKS} tasks, got ${tasks.length}`);
  const ids = new Set<string>();
  const byName = new Map<string, number>();
  for (const t of tasks) {
    if (ids.has(t.taskId)) invalid('input', `task ${t.taskId} is listed twice`);
    ids.add(t.taskId);
    byName.set(t.name, (byName.get(t.name) ?? 0) + 1);
  }
  const clashes = [...byName].filter(([, n]) => n > 1).map(([name]) => name);
  if (clashes.length > 0) {
    invalid(
      'input',
      `task names must be unique in a version (runs and leaderboards are read by name); more than one task is named ${clashes.slice(0, 5).join(', ')}` +
        (clashes.length > 5 ? ` and ${clashes.length - 5} more` : ''),
    );
  }
}

export function sameTasks(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((id) => set.has(id));
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

// ── Where a version's tasks come from ────────────────────────────────────────────────────────────

/** Stored tasks by id, under their own names; InvalidInput naming the ids that are unknown. */
export async function tasksById(db: Db, ids: string[], field: string): Promise<DraftTask[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) invalid(field, `${field.split('.').pop()} must name at least one task`);
  const found = await db.task.findMany({ where: { id: { in: unique } }, select: { id: true, name: true } });
  if (found.length !== unique.length) {
    const known = new Set(found.map((t) => t.id));
    const missing = unique.filter((id) => !known.has(id));
    invalid(field, `no task with id ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  }
  return found.map((t) => ({ taskId: t.id, name: t.name })).sort((x, y) => x.name.localeCompare(y.name));
}

/** Every task a library filter matches now (the same filter createJob takes). */
export async function tasksByFilter(db: Db, filter: TaskFilter, field: string): Promise<DraftTask[]> {
  const found = await db.task.findMany({ where: taskWhere(filter), select: { id: true, name: true }, orderBy: [{ name: 'asc' }, { id: 'asc' }] });
  if (found.length === 0) invalid(field, 'no task matches taskFilter');
  return found.map((t) => ({ taskId: t.id, name: t.name }));
}

export async function tasksOfVersion(db: Db, datasetVersionId: string): Promise<DraftTask[]> {
  const rows = await db.datasetTask.findMany({ where: { datasetVersionId }, select: { taskId: true, name: true }, orderBy: { name: 'asc' } });
  return rows;
}

/** An earlier version's tasks, plus and minus some (by task id). */
export async function editedVersionTasks(
  db: Db,
  datasetId: string,
  edit: { fromVersionId: string; addTaskIds?: string[] | null; removeTaskIds?: string[] | null },
): Promise<{ tasks: DraftTask[]; from: string }> {
  const from = await db.datasetVersion.findUnique({ where: { id: edit.fromVersionId }, select: { datasetId: true, version: true } });
  if (!from) throw new NotFoundError('dataset version', edit.fromVersionId);
  if (from.datasetId !== datasetId) invalid('input.fromVersionId', 'fromVersionId must be a version of the same dataset');
  let tasks = await tasksOfVersion(db, edit.fromVersionId);
  const remove = new Set(edit.removeTaskIds ?? []);
  const notIn = [...remove].filter((id) => !tasks.some((t) => t.taskId === id));
  if (notIn.length > 0) invalid('input.removeTaskIds', `version ${from.version} does not hold task ${notIn.slice(0, 5).join(', ')}`);
  tasks = tasks.filter((t) => !remove.has(t.taskId));
  const add = (edit.addTaskIds ?? []).filter((id) => !tasks.some((t) => t.taskId === id));
  if (add.length > 0) tasks = [...tasks, ...(await tasksById(db, add, 'input.addTaskIds'))];
  return { tasks, from: from.version };
}

/**
 * The tasks of a launch on a dataset version: all of them, or the subset taskIds or taskFilter names.
 * A task the version does not hold is refused, so a job "on terminal-bench@2.0" only ever ran its tasks.
 */
export async function launchTasks(
  db: Db,
  datasetVersionId: string,
  subset: { taskIds?: string[] | null; taskFilter?: TaskFilter | null },
): Promise<string[]> {
  const version = await db.datasetVersion.findUnique({
    where: { id: datasetVersionId },
    select: { version: true, dataset: { select: { name: true } } },
  });
  if (!version) invalid('input.datasetVersionId', `no dataset version with id ${datasetVersionId}`);
  const held = await tasksOfVersion(db, datasetVersionId);
  const heldIds = new Set(held.map((t) => t.taskId));
  const name = label(version.dataset.name, version.version);
  if (subset.taskIds && subset.taskFilter) invalid('input.taskIds', 'give either taskIds or taskFilter, not both');
  if (subset.taskIds) {
    const unique = [...new Set(subset.taskIds)];
    if (unique.length === 0) invalid('input.taskIds', 'taskIds must name at least one task');
    const outside = unique.filter((id) => !heldIds.has(id));
    if (outside.length > 0) {
      invalid('input.taskIds', `${name} does not hold task ${outside.slice(0, 5).join(', ')}${outside.length > 5 ? ` and ${outside.length - 5} more` : ''}`);
    }
    return unique;
  }
  if (subset.taskFilter) {
    const found = await db.task.findMany({
      where: { AND: [taskWhere(subset.taskFilter), { id: { in: [...heldIds] } }] },
      select: { id: true },
      orderBy: [{ name: 'asc' }, { id: 'asc' }],
    });
    if (found.length === 0) invalid('input.taskFilter', `no task of ${name} matches taskFilter`);
    return found.map((t) => t.id);
  }
  return held.map((t) => t.taskId);
}
