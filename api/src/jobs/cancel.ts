// Cancel (DESIGN.md §2.7). RUNS is never purged: on nats-server 2.9 a subject purge moves the shared
// work-queue consumer past other jobs' orders, stranding them. A cancelled run's order stays queued
// until a runner takes it, finds the run in the cancelled bucket and drops it unstarted. A cancel:
//   1. records the intent in the database: the job CANCELLING (the dispatcher publishes nothing more
//      of it) and marked `cancelsUnrecordedSince` until NATS has the cancellation records;
//   2. writes one record per run it stops into the cancelled bucket;
//   3. cancels the queued runs in the database, asks the runners holding running ones to stop
//      (`cancel.<runId>`) and records CANCELLED those no runner answers for;
//   4. clears the mark.
// With NATS unreachable, step 3's database half still happens and the caller hears that the cancel
// completes later: the reconciler repeats `completeCancel` once NATS is back.
import { openCancellations, PROTOCOL_VERSION, type Cancellation, type CancelReply, cancelReplySchema, decode } from 'runner/protocol';
import { Prisma } from '../generated/prisma/client.js';
import type { RunStatus } from '../generated/prisma/enums.js';
import { DomainError, NotFoundError } from '../schema/errors.js';
import { usd } from './budget.js';
import type { ControlDeps } from './control.js';
import { notifyJob, settleJob, transition, transitionMany } from '../runs/lifecycle.js';

interface LockedRun {
  id: string;
  jobId: string;
  status: RunStatus;
}

const FINAL: RunStatus[] = ['PASSED', 'FAILED', 'ERRORED', 'CANCELLED'];
const USER_CANCEL = 'cancelled by a user';

/** cancelRun on a running run while NATS is unreachable: its runner cannot be told to stop. */
export class UnavailableError extends DomainError {
  readonly code = 'UNAVAILABLE';
}

export interface CancelOutcome {
  /**
   * False when NATS could not be reached: queued runs are cancelled in the database and the job is
   * CANCELLING; the platform tells the runners once NATS is back, and the job then ends CANCELLED.
   */
  complete: boolean;
}

/** Asks the runner holding a run to stop it; null when no runner answers (none holds it). */
export async function requestStop(deps: Pick<ControlDeps, 'nats' | 'topology'>, runId: string): Promise<CancelReply | null> {
  try {
    const reply = await deps.nats.request(deps.topology.cancelRun(runId), JSON.stringify({ runId, reason: 'user' }), { timeout: 2_000 });
    return decode(cancelReplySchema, reply.data, `cancel reply for ${runId}`);
  } catch {
    return null;
  }
}

/** Stop requests in flight at once: a job's runners answer within milliseconds, dead ones time out in parallel. */
const STOP_REQUESTS_IN_FLIGHT = 32;

/** Stops running runs: each runner that answers reports CANCELLED itself; runs nobody answers for are recorded CANCELLED here. */
async function stopRunning(deps: ControlDeps, where: Prisma.RunWhereInput, exceptionMessage: string): Promise<void> {
  const runs = await deps.db.run.findMany({ where: { AND: [where, { status: { in: ['CLAIMED', 'RUNNING'] } }] }, select: { id: true } });
  const stopOne = async ({ id }: { id: string }) => {
    const reply = await requestStop(deps, id);
    if (reply?.ok && reply.state === 'stopping') return;
    const applied = await deps.db.$transaction(async (tx) => {
      const [run] = await tx.$queryRaw<LockedRun[]>`SELECT id, "jobId", status FROM "Run" WHERE id = ${id}::uuid FOR UPDATE`;
      if (!run || FINAL.includes(run.status)) return null;
      await transition(tx, run, 'CANCELLED', { exceptionType: 'CancelledError', exceptionMessage, finishedAt: new Date() });
      return { jobId: run.jobId, runId: run.id, status: 'CANCELLED' as const };
    });
    if (applied) notifyJob(deps.nats, deps.topology, applied);
  };
  for (let i = 0; i < runs.length; i += STOP_REQUESTS_IN_FLIGHT) {
    await Promise.all(runs.slice(i, i + STOP_REQUESTS_IN_FLIGHT).map(stopOne));
  }
}

/** Cancels a job's QUEUED runs (all, or `runId` alone) in one statement; returns how many. */
async function cancelQueued(deps: ControlDeps, jobId: string, exceptionMessage: string, runId?: string): Promise<number> {
  // Run rows are locked before the job row, in the recorder's order, so the two never deadlock.
  const ids = await deps.db.$transaction(async (tx) => {
    const cancelled = await tx.$queryRaw<{ id: string }[]>`
      UPDATE "Run" SET status = 'CANCELLED', "exceptionType" = 'CancelledError', "exceptionMessage" = ${exceptionMessage}, "finishedAt" = now()
       WHERE "jobId" = ${jobId}::uuid AND status = 'QUEUED' ${runId ? Prisma.sql`AND id = ${runId}::uuid` : Prisma.empty}
       RETURNING id`;
    await transitionMany(tx, jobId, 'QUEUED', 'CANCELLED', cancelled.length);
    return cancelled.map((r) => r.id);
  });
  // One notification per run: live views (runUpdated) re-read the runs named.
  for (const id of ids) notifyJob(deps.nats, deps.topology, { jobId, runId: id, status: 'CANCELLED' });
  return ids.length;
}

/** Writes the cancellation records of runs; false when NATS could not take them. */
async function recordCancellations(deps: ControlDeps, jobId: string, runIds: string[], reason: Cancellation['reason']): Promise<boolean> {
  try {
    const cancellations = await openCancellations(deps.nats, deps.topology);
    const at = new Date().toISOString();
    await cancellations.record(runIds.map((runId) => ({ v: PROTOCOL_VERSION, runId, jobId, reason, at })));
    return true;
  } catch {
    return false;
  }
}

/**
 * Steps 2–4 for a job whose cancel (by a user, by its budget, or of single runs) is marked:
 * idempotent, so the reconciler repeats it until it returns true. `since` is the mark this call
 * clears, unless a later cancel set a new one meanwhile.
 */
export async function completeCancel(deps: ControlDeps, jobId: string, since: Date | null): Promise<boolean> {
  const job = await deps.db.job.findUnique({ where: { id: jobId }, select: { cancelRequestedAt: true, stopReason: true, budgetUsd: true } });
  if (!job) return true;
  const byUser = job.cancelRequestedAt !== null;
  const byBudget = !byUser && job.stopReason !== null;
  // A user's cancel stops every unfinished run; a budget stop only those not started yet (runs
  // already claimed run to the end). Runs cancelled earlier are recorded again: one of them (a
  // cancelRun while NATS was away) may be the reason for the mark.
  const statuses: RunStatus[] = byUser ? ['QUEUED', 'CLAIMED', 'RUNNING', 'CANCELLED'] : byBudget ? ['QUEUED', 'CANCELLED'] : ['CANCELLED'];
  const runs = await deps.db.run.findMany({ where: { jobId, status: { in: statuses } }, select: { id: true } });
  const recorded = await recordCancellations(deps, jobId, runs.map((r) => r.id), byBudget ? 'budget' : 'user');
  const message = byUser ? USER_CANCEL : `not started: the job's budget of $${usd(Number(job.budgetUsd))} was reached`;
  if (byUser || byBudget) await cancelQueued(deps, jobId, message);
  if (!recorded) return false;
  if (byUser) await stopRunning(deps, { jobId }, message);
  // A job with nothing left to stop ends now, even when no run changed in this call.
  if (byUser || byBudget) await deps.db.$transaction((tx) => settleJob(tx, jobId, 'CANCELLED'));
  return clearMark(deps, jobId, since);
}

async function clearMark(deps: ControlDeps, jobId: string, since: Date | null): Promise<true> {
  if (since) await deps.db.job.updateMany({ where: { id: jobId, cancelsUnrecordedSince: since }, data: { cancelsUnrecordedSince: null } });
  return true;
}

/** Marks a job's cancel (its intent, in the database alone); returns the mark, or null when the job has already ended. */
async function markCancel(deps: ControlDeps, jobId: string, byUser: boolean): Promise<Date | null> {
  const [marked] = await deps.db.$queryRaw<{ since: Date }[]>`
    UPDATE "Job" SET "cancelsUnrecordedSince" = clock_timestamp(),
                     status = 'CANCELLING',
                     "cancelRequestedAt" = ${byUser ? Prisma.sql`COALESCE("cancelRequestedAt", now())` : Prisma.sql`"cancelRequestedAt"`}
     WHERE id = ${jobId}::uuid AND status IN ('QUEUED', 'RUNNING', 'CANCELLING')
     RETURNING "cancelsUnrecordedSince" AS since`;
  return marked?.since ?? null;
}

export async function cancelJob(deps: ControlDeps, jobId: string): Promise<CancelOutcome> {
  const job = await deps.db.job.findUnique({ where: { id: jobId }, select: { id: true } });
  if (!job) throw new NotFoundError('job', jobId);
  const since = await markCancel(deps, jobId, true);
  if (!since) return { complete: true };
  const complete = await completeCancel(deps, jobId, since);
  notifyJob(deps.nats, deps.topology, { jobId, runId: '', status: 'CANCELLED' });
  return { complete };
}

export async function cancelRun(deps: ControlDeps, runId: string): Promise<CancelOutcome> {
  const run = await deps.db.run.findUnique({ where: { id: runId }, select: { id: true, jobId: true, status: true } });
  if (!run) throw new NotFoundError('run', runId);
  if (FINAL.includes(run.status)) return { complete: true };
  if (!(await recordCancellations(deps, run.jobId, [run.id], 'user'))) {
    if (run.status !== 'QUEUED') {
      throw new UnavailableError('NATS is unreachable, so the runner running this run cannot be told to stop; try again once NATS is back');
    }
    // The reconciler writes the record once NATS is back; until then the run is cancelled here.
    await deps.db.$executeRaw`UPDATE "Job" SET "cancelsUnrecordedSince" = clock_timestamp() WHERE id = ${run.jobId}::uuid`;
    await cancelQueued(deps, run.jobId, USER_CANCEL, run.id);
    return { complete: false };
  }
  await cancelQueued(deps, run.jobId, USER_CANCEL, run.id);
  await stopRunning(deps, { id: run.id }, USER_CANCEL);
  return { complete: true };
}
