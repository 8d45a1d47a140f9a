// The task library: filtering, ordering and deletion. No GraphQL here.
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Difficulty } from '../generated/prisma/enums.js';
import { DomainError, NotFoundError } from '../schema/errors.js';
import type { TaskStore } from './store.js';

export interface TaskFilter {
  /** Case-insensitive substring of the name, description or category. */
  search?: string | null;
  category?: string | null;
  difficulty?: Difficulty | null;
  /** Tasks carrying every one of these tags. */
  tags?: string[] | null;
}

export function taskWhere(filter: TaskFilter): Prisma.TaskWhereInput {
  const where: Prisma.TaskWhereInput[] = [];
  const search = filter.search?.trim();
  if (search) {
    where.push({
      OR: [
        { name: { contains: search, mode: 'insensitive' } },
        { description: { contains: search, mode: 'insensitive' } },
        { category: { contains: search, mode: 'insensitive' } },
      ],
    });
  }
  if (filter.category) where.push({ category: filter.category });
  if (filter.difficulty) where.push({ difficulty: filter.difficulty });
  if (filter.tags && filter.tags.length > 0) where.push({ tags: { hasEvery: filter.tags } });
  return { AND: where };
}

/** Orders offered to clients; each ends on the id so pages are stable. */
export const TASK_ORDERS = {
  CREATED_AT_DESC: [{ createdAt: 'desc' }, { id: 'desc' }],
  CREATED_AT_ASC: [{ createdAt: 'asc' }, { id: 'asc' }],
  NAME_ASC: [{ name: 'asc' }, { id: 'asc' }],
  NAME_DESC: [{ name: 'desc' }, { id: 'desc' }],
  SIZE_DESC: [{ sizeBytes: 'desc' }, { id: 'desc' }],
} satisfies Record<string, Prisma.TaskOrderByWithRelationInput[]>;
export type TaskOrder = keyof typeof TASK_ORDERS;

export class TaskInUseError extends DomainError {
  readonly code = 'TASK_IN_USE';
  constructor(
    readonly taskId: string,
    readonly runCount: number,
  ) {
    super(
      `task ${taskId} is used by ${runCount} run${runCount === 1 ? '' : 's'}; delete the jobs that ran it first, ` +
        'so their results keep the package they were measured on',
    );
  }
}

export class TaskInDatasetError extends DomainError {
  readonly code = 'TASK_IN_DATASET';
  constructor(
    readonly taskId: string,
    /** Labels of the versions holding it, e.g. "terminal-bench@2.0". */
    readonly datasets: string[],
  ) {
    super(
      `task ${taskId} is part of ${datasets.length === 1 ? 'dataset' : 'datasets'} ${datasets.join(', ')}; ` +
        'a dataset version never changes, so its tasks stay while it exists',
    );
  }
}

/** Labels ("terminal-bench@2.0") of the dataset versions holding a task. */
async function datasetsHolding(db: Db, taskId: string): Promise<string[]> {
  const rows = await db.datasetTask.findMany({
    where: { taskId },
    select: { datasetVersion: { select: { version: true, dataset: { select: { name: true } } } } },
  });
  return rows.map((r) => `${r.datasetVersion.dataset.name}@${r.datasetVersion.version}`).sort();
}

/**
 * Deletes a task no run and no dataset version refers to: the row first (the foreign keys guard
 * races), then its files.
 */
export async function deleteTask(deps: { db: Db; store: TaskStore }, id: string): Promise<{ id: string; name: string }> {
  const task = await deps.db.task.findUnique({ where: { id }, select: { id: true, name: true, contentHash: true } });
  if (!task) throw new NotFoundError('task', id);
  const runCount = await deps.db.run.count({ where: { taskId: id } });
  if (runCount > 0) throw new TaskInUseError(id, runCount);
  const datasets = await datasetsHolding(deps.db, id);
  if (datasets.length > 0) throw new TaskInDatasetError(id, datasets);
  try {
    await deps.db.task.delete({ where: { id } });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003') {
      const held = await datasetsHolding(deps.db, id);
      if (held.length > 0) throw new TaskInDatasetError(id, held);
      throw new TaskInUseError(id, await deps.db.run.count({ where: { taskId: id } }));
    }
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025') {
      throw new NotFoundError('task', id);
    }
    throw error;
  }
  await deps.store.remove(task.contentHash);
  return { id: task.id, name: task.name };
}
