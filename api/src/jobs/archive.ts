// Bulk archive, unarchive and delete of stopped jobs, for tidying the jobs list after a campaign.
// Each call is all or nothing: every job is checked first (it exists, it has stopped, the caller is
// its creator or an ADMIN) and one refusal names every job at fault, so a person fixes the selection
// once instead of learning about it job by job after half of it changed.
import { ForbiddenError, requireRole, type Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import type { JobStatus } from '../generated/prisma/enums.js';
import { DomainError, InvalidInputError, NotFoundError } from '../schema/errors.js';
import { deleteJob, type DeleteJobDeps, type DeletedJob } from './delete.js';

/** As many as the jobs list shows at most on one page (Query.jobs maxSize). */
export const MAX_BULK_JOBS = 500;

const ACTIVE: JobStatus[] = ['QUEUED', 'RUNNING', 'CANCELLING'];

/** Some of the jobs are still queued, running or cancelling: nothing changed. */
export class JobsActiveError extends DomainError {
  readonly code = 'JOBS_ACTIVE';
  constructor(readonly jobs: { id: string; name: string; status: JobStatus }[]) {
    super(
      `${jobs.length === 1 ? 'this job has' : `${jobs.length} jobs have`} not stopped: ${listNames(jobs)}; ` +
        'cancel them and wait until they have stopped (nothing was changed)',
    );
  }
}

function listNames(jobs: { name: string }[]): string {
  const shown = jobs.slice(0, 5).map((j) => `"${j.name}"`);
  return jobs.length > 5 ? `${shown.join(', ')} and ${jobs.length - 5} more` : shown.join(', ');
}

interface Checked {
  id: string;
  name: string;
}

/** The jobs, once each, after every check; throws naming every job at fault. */
async function checkJobs(db: Db, viewer: Viewer, ids: readonly string[], action: string): Promise<Checked[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) throw new InvalidInputError('name at least one job', 'ids');
  if (unique.length > MAX_BULK_JOBS) throw new InvalidInputError(`at most ${MAX_BULK_JOBS} jobs at once, got ${unique.length}`, 'ids');
  const jobs = await db.job.findMany({ where: { id: { in: unique } }, select: { id: true, name: true, status: true, createdById: true } });
  const found = new Set(jobs.map((j) => j.id));
  const missing = unique.find((id) => !found.has(id));
  if (missing) throw new NotFoundError('job', missing);
  if (viewer.role !== 'ADMIN') {
    const others = jobs.filter((j) => j.createdById !== viewer.userId);
    if (others.length) throw new ForbiddenError(`only its creator or an ADMIN may ${action}: ${listNames(others)} (nothing was changed)`);
  }
  const active = jobs.filter((j) => ACTIVE.includes(j.status));
  if (active.length) throw new JobsActiveError(active);
  // In the order given, for the answer.
  const byId = new Map(jobs.map((j) => [j.id, j]));
  return unique.map((id) => ({ id, name: byId.get(id)!.name }));
}

interface Caller {
  db: Db;
  viewer: Viewer | null;
}

/** Sets or clears archivedAt on stopped jobs; a job already in that state keeps its date. Returns the ids in the order given. */
export async function setArchived(ctx: Caller, ids: readonly string[], archived: boolean): Promise<Checked[]> {
  const action = archived ? 'archive jobs' : 'unarchive jobs';
  const viewer = requireRole(ctx, ['ADMIN', 'MEMBER'], action);
  const jobs = await checkJobs(ctx.db, viewer, ids, action);
  const jobIds = jobs.map((j) => j.id);
  // A retry or regrade between the check and here would make a job active again; the status
  // condition keeps such a job as it was rather than archiving it mid-run.
  await ctx.db.job.updateMany({
    where: { id: { in: jobIds }, status: { notIn: ACTIVE }, archivedAt: archived ? null : { not: null } },
    data: { archivedAt: archived ? new Date() : null },
  });
  return jobs;
}

/** Deletes stopped jobs one by one with deleteJob (rows, then their files). */
export async function deleteJobs(ctx: Caller & DeleteJobDeps, ids: readonly string[]): Promise<DeletedJob[]> {
  const viewer = requireRole(ctx, ['ADMIN', 'MEMBER'], 'delete jobs');
  const jobs = await checkJobs(ctx.db, viewer, ids, 'delete jobs');
  const deleted: DeletedJob[] = [];
  // One at a time: each removes its trial directories from shared storage with a few removals in flight already.
  for (const job of jobs) deleted.push(await deleteJob(ctx, job.id));
  return deleted;
}
