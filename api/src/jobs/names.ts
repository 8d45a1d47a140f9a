// A job's name, notes and tags: the owner's words for it. Names are unique regardless of case (the
// index Job_lower_name_key, migration 20261206123000), so a name alone finds a job in a list, a link
// or a notebook; "Sonnet run" and "sonnet run" would be told apart by nobody reading a chart.
//
// The database keeps the rule on every insert (a trigger gives a taken name the next free " (n)", the
// same rule the migration applied to the duplicates it found), so createJob without a name gets
// "agent · model", "agent · model (2)", …; an explicit name that is taken is refused here instead,
// since a person who typed it wants that name or to hear it is taken, not a silently different one.
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { DomainError, InvalidInputError, NotFoundError } from '../schema/errors.js';

/** As long as a name stays readable in a list row, a chart legend and a CSV file name. */
export const MAX_JOB_NAME = 200;
/** Notes are free text, a few paragraphs to a page: what was tried, why it was stopped. */
export const MAX_JOB_NOTES = 10_000;
/** Tags sort jobs into a few groups ("baseline", "ablation", "tb2"); more than 20 is a description. */
export const MAX_JOB_TAGS = 20;
/** Short enough to show as a chip. */
export const MAX_TAG_LENGTH = 40;

export class JobNameExistsError extends DomainError {
  readonly code = 'JOB_NAME_EXISTS';
  constructor(
    readonly jobName: string,
    /** The job that holds the name; null when a concurrent launch or rename took it first. */
    readonly jobId: string | null,
  ) {
    super(`a job named "${jobName}" already exists (names are unique regardless of case): choose another name`);
  }
}

/** The name as stored: trimmed; refused when empty or too long. */
export function checkJobName(name: string, field: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw new InvalidInputError('name must not be empty', field);
  if (trimmed.length > MAX_JOB_NAME) throw new InvalidInputError(`name must be at most ${MAX_JOB_NAME} characters, got ${trimmed.length}`, field);
  return trimmed;
}

/** Tags as stored: trimmed, lower-case (a filter should not care how they were typed), each once, in the order given. */
export function checkJobTags(tags: readonly string[], field: string): string[] {
  const out: string[] = [];
  for (const raw of tags) {
    const tag = raw.trim().toLowerCase();
    if (tag.length === 0) continue;
    if (tag.length > MAX_TAG_LENGTH) throw new InvalidInputError(`tag "${tag.slice(0, 20)}…" is longer than ${MAX_TAG_LENGTH} characters`, field);
    if (/[\s,]/.test(tag)) throw new InvalidInputError(`tag "${tag}" has a space or comma: tags are single words (use - or _)`, field);
    if (!out.includes(tag)) out.push(tag);
  }
  if (out.length > MAX_JOB_TAGS) throw new InvalidInputError(`a job has at most ${MAX_JOB_TAGS} tags, got ${out.length}`, field);
  return out;
}

export function checkJobNotes(notes: string, field: string): string | null {
  if (notes.length > MAX_JOB_NOTES) throw new InvalidInputError(`notes must be at most ${MAX_JOB_NOTES.toLocaleString('en')} characters, got ${notes.length}`, field);
  return notes.trim() === '' ? null : notes;
}

type Tx = Prisma.TransactionClient | Db;

/**
 * Refuses a name another job holds (regardless of case). Callers hold nameLock, so two launches or
 * renames to one name cannot both pass; the unique index is the backstop either way.
 */
export async function refuseTakenName(tx: Tx, name: string, self: string | null): Promise<void> {
  const [holder] = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM "Job" WHERE lower(name) = lower(${name}) AND id IS DISTINCT FROM ${self}::uuid LIMIT 1`;
  if (holder) throw new JobNameExistsError(name, holder.id);
}

/** Serialises the transactions that claim one name (until commit), so the check above holds. */
export async function nameLock(tx: Prisma.TransactionClient, name: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('job-name:' || lower(${name})))`;
}

/** True for the unique index on lower(name): a concurrent writer took the name first. */
export function isNameTaken(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return JSON.stringify(error.meta ?? {}).includes('name');
  return /Job_lower_name_key/.test(String((error as Error)?.message ?? ''));
}

export interface JobEdit {
  name?: string | null;
  /** '' or null clears them. */
  notes?: string | null;
  /** [] clears them. */
  tags?: readonly string[] | null;
}

export interface JobEdited {
  id: string;
  /** The fields that changed, for the audit trail. */
  changed: ('name' | 'notes' | 'tags')[];
  previousName: string;
}

/** Renames a job and sets its notes and tags; unset fields stay as they are. */
export async function updateJob(db: Db, id: string, edit: JobEdit): Promise<JobEdited> {
  const name = edit.name === undefined || edit.name === null ? undefined : checkJobName(edit.name, 'input.name');
  const notes = edit.notes === undefined ? undefined : checkJobNotes(edit.notes ?? '', 'input.notes');
  const tags = edit.tags === undefined || edit.tags === null ? undefined : checkJobTags(edit.tags, 'input.tags');
  try {
    return await db.$transaction(async (tx) => {
      const job = await tx.job.findUnique({ where: { id }, select: { name: true, notes: true, tags: true } });
      if (!job) throw new NotFoundError('job', id);
      const changed: JobEdited['changed'] = [];
      if (name !== undefined && name !== job.name) {
        await nameLock(tx, name);
        await refuseTakenName(tx, name, id);
        changed.push('name');
      }
      if (notes !== undefined && notes !== job.notes) changed.push('notes');
      if (tags !== undefined && tags.join('\n') !== job.tags.join('\n')) changed.push('tags');
      if (changed.length) {
        await tx.job.update({
          where: { id },
          data: { ...(changed.includes('name') ? { name } : {}), ...(changed.includes('notes') ? { notes } : {}), ...(changed.includes('tags') ? { tags } : {}) },
        });
      }
      return { id, changed, previousName: job.name };
    });
  } catch (error) {
    if (name !== undefined && isNameTaken(error)) throw new JobNameExistsError(name, null);
    throw error;
  }
}
