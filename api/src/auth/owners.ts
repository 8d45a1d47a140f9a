// "Its creator or an ADMIN": the owner of a job, run or task looked up for requireOwnerOrAdmin.
// A missing one is NOT_FOUND (the mutations list that error), checked before the role so the answer
// is the same as without auth.
import type { Db } from '../db/client.js';
import { NotFoundError } from '../schema/errors.js';
import { requireOwnerOrAdmin, type Viewer } from './viewer.js';

interface Caller {
  db: Db;
  viewer: Viewer | null;
}

export async function requireJobOwner(ctx: Caller, jobId: string, action: string): Promise<Viewer> {
  const job = await ctx.db.job.findUnique({ where: { id: jobId }, select: { createdById: true } });
  if (!job) throw new NotFoundError('job', jobId);
  return requireOwnerOrAdmin(ctx, job.createdById, action);
}

export async function requireRunOwner(ctx: Caller, runId: string, action: string): Promise<Viewer> {
  const run = await ctx.db.run.findUnique({ where: { id: runId }, select: { job: { select: { createdById: true } } } });
  if (!run) throw new NotFoundError('run', runId);
  return requireOwnerOrAdmin(ctx, run.job.createdById, action);
}

export async function requireTaskOwner(ctx: Caller, taskId: string, action: string): Promise<Viewer> {
  const task = await ctx.db.task.findUnique({ where: { id: taskId }, select: { createdById: true } });
  if (!task) throw new NotFoundError('task', taskId);
  return requireOwnerOrAdmin(ctx, task.createdById, action);
}
