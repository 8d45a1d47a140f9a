// Retry: new attempts for runs that did not succeed. Cancel lives in cancel.ts.
import type { NatsConnection } from '@nats-io/transport-node';
import type { Topology } from 'runner/protocol';
import type { Db } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import { NotFoundError } from '../schema/errors.js';
import { refuseOverBudget } from './budget.js';
import { notifyJob } from './recorder.js';

export interface ControlDeps {
  db: Db;
  nats: NatsConnection;
  topology: Topology;
}

export const RETRY_SELECTIONS = {
  FAILED: { status: 'FAILED' },
  ERRORED: { status: 'ERRORED' },
  INFRA: { status: 'ERRORED', failureKind: 'INFRASTRUCTURE' },
  CANCELLED: { status: 'CANCELLED' },
  UNSUCCESSFUL: { status: { in: ['FAILED', 'ERRORED', 'CANCELLED'] } },
} satisfies Record<string, Prisma.RunWhereInput>;
export type RetrySelection = keyof typeof RETRY_SELECTIONS;

/** New attempts for the latest attempt of each (task, repeat) that matches; returns how many. */
export async function retryRuns(deps: ControlDeps, jobId: string, which: RetrySelection): Promise<number> {
  const job = await deps.db.job.findUnique({ where: { id: jobId }, select: { id: true } });
  if (!job) throw new NotFoundError('job', jobId);
  const created = await deps.db.$transaction(async (tx) => {
    // Lock the job so two retries cannot create the same attempt twice.
    await tx.$executeRaw`SELECT 1 FROM "Job" WHERE id = ${jobId}::uuid FOR UPDATE`;
    await refuseOverBudget(tx, jobId);
    const latest = await tx.run.findMany({
      where: { jobId },
      distinct: ['taskId', 'repeat'],
      orderBy: [{ taskId: 'asc' }, { repeat: 'asc' }, { attempt: 'desc' }],
      select: { id: true, taskId: true, repeat: true, attempt: true, status: true, failureKind: true },
    });
    const ids = new Set(
      (await tx.run.findMany({ where: { id: { in: latest.map((r) => r.id) }, ...RETRY_SELECTIONS[which] }, select: { id: true } })).map((r) => r.id),
    );
    const retries = latest.filter((r) => ids.has(r.id));
    if (retries.length === 0) return 0;
    await tx.run.createMany({
      data: retries.map((r) => ({ jobId, taskId: r.taskId, repeat: r.repeat, attempt: r.attempt + 1, retryOfId: r.id })),
    });
    await tx.$executeRaw`
      UPDATE "Job" SET "runsTotal" = "runsTotal" + ${retries.length}, "runsQueued" = "runsQueued" + ${retries.length},
                       status = 'RUNNING', "finishedAt" = NULL, "cancelRequestedAt" = NULL,
                       "stopReason" = NULL, "stopMessage" = NULL
       WHERE id = ${jobId}::uuid`;
    return retries.length;
  });
  if (created > 0) notifyJob(deps.nats, deps.topology, { jobId, runId: '', status: 'QUEUED' });
  return created;
}
