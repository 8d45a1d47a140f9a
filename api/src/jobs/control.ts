// Retry: new attempts for runs that did not succeed. Cancel lives in cancel.ts.
import type { NatsConnection } from '@nats-io/transport-node';
import type { Topology } from 'runner/protocol';
import type { Db } from '../db/client.js';
import { NotFoundError } from '../schema/errors.js';
import { addAttempts, type RetrySelection } from './attempts.js';
import { refuseOverBudget } from './budget.js';
import { refuseOverQuota } from '../quotas/service.js';
import { notifyJob } from '../runs/lifecycle.js';

export interface ControlDeps {
  db: Db;
  nats: NatsConnection;
  topology: Topology;
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
    const [locked] = await tx.$queryRaw<{ createdById: string | null }[]>`SELECT "createdById" FROM "Job" WHERE id = ${jobId}::uuid FOR UPDATE`;
    await refuseOverBudget(tx, jobId);
    const added = await addAttempts(tx, jobId, which);
    if (added === 0) return 0;
    // The new runs land on the job's creator's account, whoever asks for them (an ADMIN, say).
    await refuseOverQuota(tx, locked?.createdById ?? null, added);
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
