// A run's life in the database: moving a run between states keeps its job's counters and status in
// step, in the caller's transaction; after the commit, every API replica is told (`notifyJob`). The
// recorder, cancels, budget stops and the reconciler all change runs through here.
import type { NatsConnection } from '@nats-io/transport-node';
import type { Topology } from 'runner/protocol';
import { Prisma } from '../generated/prisma/client.js';
import type { RunStatus } from '../generated/prisma/enums.js';
import { enqueueJobEvent } from '../notifications/outbox.js';

type Tx = Prisma.TransactionClient;

const COUNTER: Record<RunStatus, string> = {
  QUEUED: 'runsQueued',
  CLAIMED: 'runsClaimed',
  RUNNING: 'runsRunning',
  PASSED: 'runsPassed',
  FAILED: 'runsFailed',
  ERRORED: 'runsErrored',
  CANCELLED: 'runsCancelled',
};

export interface Applied {
  jobId: string;
  runId: string;
  status: RunStatus;
}

/** Moves a run to `to` and the job's counters with it; the run row must be locked by the caller. */
export async function transition(
  tx: Tx,
  run: { id: string; jobId: string; status: RunStatus },
  to: RunStatus,
  data: Prisma.RunUpdateInput,
): Promise<void> {
  await tx.run.update({ where: { id: run.id }, data: { ...data, status: to } });
  if (run.status === to) return;
  const from = Prisma.raw(`"${COUNTER[run.status]}"`);
  const into = Prisma.raw(`"${COUNTER[to]}"`);
  await tx.$executeRaw`UPDATE "Job" SET ${from} = ${from} - 1, ${into} = ${into} + 1 WHERE id = ${run.jobId}::uuid`;
  await settleJob(tx, run.jobId, to);
}

/** Moves `count` runs of a job, already updated in bulk by the caller, from one status to another. */
export async function transitionMany(tx: Tx, jobId: string, from: RunStatus, to: RunStatus, count: number): Promise<void> {
  if (count === 0 || from === to) return;
  const out = Prisma.raw(`"${COUNTER[from]}"`);
  const into = Prisma.raw(`"${COUNTER[to]}"`);
  await tx.$executeRaw`UPDATE "Job" SET ${out} = ${out} - ${count}, ${into} = ${into} + ${count} WHERE id = ${jobId}::uuid`;
  await settleJob(tx, jobId, to);
}

/**
 * Job status follows its runs: RUNNING once one starts, COMPLETED or CANCELLED once none is left
 * (CANCELLED when a user cancelled it or its budget stopped it).
 */
export async function settleJob(tx: Tx, jobId: string, runStatus: RunStatus): Promise<void> {
  if (runStatus === 'CLAIMED' || runStatus === 'RUNNING') {
    await tx.$executeRaw`UPDATE "Job" SET status = 'RUNNING', "startedAt" = COALESCE("startedAt", now())
                          WHERE id = ${jobId}::uuid AND status = 'QUEUED'`;
    return;
  }
  const settled = await tx.$queryRaw<{ cancelled: boolean; finishedAt: Date }[]>`
    UPDATE "Job"
       SET status = (CASE WHEN "cancelRequestedAt" IS NULL AND "stopReason" IS NULL THEN 'COMPLETED' ELSE 'CANCELLED' END)::"JobStatus",
           "finishedAt" = now(),
           "startedAt" = COALESCE("startedAt", now())
     WHERE id = ${jobId}::uuid
       AND "runsQueued" = 0 AND "runsClaimed" = 0 AND "runsRunning" = 0
       AND status IN ('QUEUED', 'RUNNING', 'CANCELLING')
    RETURNING ("cancelRequestedAt" IS NOT NULL) AS cancelled, "finishedAt"`;
  // Issue 18: webhooks hear of the end in this transaction (outbox). A person's cancel is
  // JOB_CANCELLED; a job that ran out, or that its budget stopped, finished. Keyed by the end's
  // time: a job retried after it ended is told again when it ends again.
  const end = settled[0];
  if (end) {
    const event = end.cancelled ? 'JOB_CANCELLED' : 'JOB_FINISHED';
    await enqueueJobEvent(tx, event, jobId, { dedupeKey: `${event}:${jobId}:${end.finishedAt.toISOString()}` });
  }
}

/** Tells every API replica that a job changed; subscribers re-read what they show. */
export function notifyJob(nats: NatsConnection, topology: Topology, applied: Applied): void {
  nats.publish(topology.jobUpdate(applied.jobId), JSON.stringify({ jobId: applied.jobId, runId: applied.runId, status: applied.status }));
}
