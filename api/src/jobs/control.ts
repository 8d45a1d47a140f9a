// Cancel and retry. Cancel: queued orders are purged from RUNS by subject and their runs recorded
// CANCELLED at once; running ones are asked to stop through `cancel.<runId>` and end CANCELLED when
// their runner reports. A run whose runner does not answer is recorded CANCELLED here; if its order
// is redelivered later, the recorder tells that runner to stop.
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { cancelReplySchema, decode, type CancelReply, type Topology } from 'runner/protocol';
import type { Db } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { RunStatus } from '../generated/prisma/enums.js';
import { NotFoundError } from '../schema/errors.js';
import { addAttempts, type RetrySelection } from './attempts.js';
import { refuseOverBudget } from './budget.js';
import { notifyJob, transition } from './recorder.js';

export interface ControlDeps {
  db: Db;
  nats: NatsConnection;
  topology: Topology;
}

interface LockedRun {
  id: string;
  jobId: string;
  status: RunStatus;
}

const FINAL: RunStatus[] = ['PASSED', 'FAILED', 'ERRORED', 'CANCELLED'];

export interface CancelOptions {
  /** What the cancelled runs record as their exception message. */
  exceptionMessage: string;
  /** Cancel only runs still QUEUED when locked: one a runner claimed meanwhile runs on (budget stops). */
  onlyQueued?: boolean;
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

export async function cancelRuns(
  deps: ControlDeps,
  where: Prisma.RunWhereInput,
  options: CancelOptions = { exceptionMessage: 'cancelled by a user' },
): Promise<number> {
  const runs = await deps.db.run.findMany({ where: { AND: [where, { status: { notIn: FINAL } }] }, select: { id: true, status: true } });
  let cancelled = 0;
  const cancelOne = async (candidate: { id: string; status: RunStatus }) => {
    const reply = candidate.status === 'QUEUED' ? null : await requestStop(deps, candidate.id);
    // The runner holding it will report CANCELLED itself once Harbor has cleaned up.
    if (reply?.ok && reply.state === 'stopping') return;
    const applied = await deps.db.$transaction(async (tx) => {
      const [run] = await tx.$queryRaw<LockedRun[]>`SELECT id, "jobId", status FROM "Run" WHERE id = ${candidate.id}::uuid FOR UPDATE`;
      if (!run || FINAL.includes(run.status) || (options.onlyQueued && run.status !== 'QUEUED')) return null;
      await transition(tx, run, 'CANCELLED', { exceptionType: 'CancelledError', exceptionMessage: options.exceptionMessage, finishedAt: new Date() });
      return { jobId: run.jobId, runId: run.id, status: 'CANCELLED' as const };
    });
    if (applied) {
      cancelled++;
      notifyJob(deps.nats, deps.topology, applied);
    }
  };
  for (let i = 0; i < runs.length; i += STOP_REQUESTS_IN_FLIGHT) {
    await Promise.all(runs.slice(i, i + STOP_REQUESTS_IN_FLIGHT).map(cancelOne));
  }
  return cancelled;
}

export async function cancelJob(deps: ControlDeps, jobId: string): Promise<void> {
  const job = await deps.db.job.findUnique({ where: { id: jobId }, select: { id: true, status: true } });
  if (!job) throw new NotFoundError('job', jobId);
  if (job.status === 'COMPLETED' || job.status === 'CANCELLED') return;
  // Stop the dispatcher first (it skips cancelled jobs), then empty the queue, then the runs.
  await deps.db.job.update({ where: { id: jobId }, data: { cancelRequestedAt: new Date(), status: 'CANCELLING' } });
  const jsm = await jetstreamManager(deps.nats);
  await jsm.streams.purge(deps.topology.streams.runs.name, { filter: deps.topology.runOrdersOfJob(jobId) });
  await cancelRuns(deps, { jobId });
  notifyJob(deps.nats, deps.topology, { jobId, runId: '', status: 'CANCELLED' });
}

export async function cancelRun(deps: ControlDeps, runId: string): Promise<void> {
  const run = await deps.db.run.findUnique({ where: { id: runId }, select: { id: true, jobId: true, status: true } });
  if (!run) throw new NotFoundError('run', runId);
  if (run.status === 'QUEUED') {
    const jsm = await jetstreamManager(deps.nats);
    await jsm.streams.purge(deps.topology.streams.runs.name, { filter: deps.topology.runOrder(run.jobId, run.id) });
  }
  await cancelRuns(deps, { id: runId });
}

/**
 * New attempts for the latest attempt of each (task, repeat) that matches; returns how many. By
 * default only infrastructure errors, which the new attempts replace; a retry of a scored attempt
 * is an extra attempt that never counts (attempts.ts).
 */
export async function retryRuns(deps: ControlDeps, jobId: string, which: RetrySelection = 'INFRA'): Promise<number> {
  const job = await deps.db.job.findUnique({ where: { id: jobId }, select: { id: true } });
  if (!job) throw new NotFoundError('job', jobId);
  const created = await deps.db.$transaction(async (tx) => {
    // Lock the job so two retries cannot create the same attempt twice.
    await tx.$executeRaw`SELECT 1 FROM "Job" WHERE id = ${jobId}::uuid FOR UPDATE`;
    await refuseOverBudget(tx, jobId);
    const added = await addAttempts(tx, jobId, which);
    if (added === 0) return 0;
    await tx.$executeRaw`
      UPDATE "Job" SET "runsTotal" = "runsTotal" + ${added}, "runsQueued" = "runsQueued" + ${added},
                       status = 'RUNNING', "finishedAt" = NULL, "cancelRequestedAt" = NULL,
                       "stopReason" = NULL, "stopMessage" = NULL
       WHERE id = ${jobId}::uuid`;
    return added;
  });
  if (created > 0) notifyJob(deps.nats, deps.topology, { jobId, runId: '', status: 'QUEUED' });
  return created;
}
