// Enqueuing webhook deliveries: rows written in the caller's transaction, next to the state change
// they report (the transactional outbox), so a crash can neither lose an event that happened nor
// send one that rolled back. The worker (worker.ts) sends them later, from any replica.
//
// Who is told: the enabled webhooks subscribed to the event that are the job's own, or its owner's
// (userId, no jobId). RUNNER_LOST also reaches every ADMIN's own webhooks: runners serve everyone.
import type { Prisma } from '../generated/prisma/client.js';
import type { WebhookEvent } from '../generated/prisma/enums.js';
import { jobSummary, type EventData, type RunnerSummary } from './payload.js';

type Tx = Prisma.TransactionClient;

/**
 * Enqueues `event` about a job for every webhook that wants it. `dedupeKey` names the occurrence:
 * a second enqueue with the same key (another replica saw it too) adds nothing. Returns how many
 * deliveries were added.
 */
export async function enqueueJobEvent(
  tx: Tx,
  event: Exclude<WebhookEvent, 'PING' | 'RUNNER_LOST'>,
  jobId: string,
  options: { dedupeKey?: string; message?: string | null } = {},
): Promise<number> {
  // The cheap question first: most jobs have no webhook at all.
  const job = await tx.job.findUnique({ where: { id: jobId }, select: { createdById: true } });
  if (!job) return 0;
  const webhooks = await tx.webhook.findMany({
    where: {
      enabled: true,
      events: { has: event },
      OR: [{ jobId }, ...(job.createdById ? [{ jobId: null, userId: job.createdById }] : [])],
    },
    select: { id: true },
  });
  if (webhooks.length === 0) return 0;
  const summary = await jobSummary(tx, jobId);
  if (!summary) return 0;
  const { ownerId: _owner, ...jobData } = summary;
  const data: EventData = { event, time: new Date().toISOString(), message: options.message ?? null, job: jobData, runner: null };
  return add(tx, webhooks.map((w) => w.id), event, options.dedupeKey ?? `${event}:${jobId}`, data);
}

/** Enqueues RUNNER_LOST for the webhooks of the jobs whose runs the runner held, and ADMINs' own. */
export async function enqueueRunnerLost(tx: Tx, runner: RunnerSummary): Promise<number> {
  const runs = runner.runIds.length
    ? await tx.run.findMany({ where: { id: { in: runner.runIds } }, select: { jobId: true, job: { select: { createdById: true } } } })
    : [];
  const jobIds = [...new Set(runs.map((r) => r.jobId))];
  const owners = [...new Set(runs.map((r) => r.job.createdById).filter((id): id is string => id !== null))];
  const webhooks = await tx.webhook.findMany({
    where: {
      enabled: true,
      events: { has: 'RUNNER_LOST' },
      OR: [{ jobId: { in: jobIds } }, { jobId: null, userId: { in: owners } }, { jobId: null, user: { role: 'ADMIN' } }],
    },
    select: { id: true },
  });
  if (webhooks.length === 0) return 0;
  const data: EventData = {
    event: 'RUNNER_LOST',
    time: new Date().toISOString(),
    message: `runner ${runner.id} stopped sending heartbeats at ${runner.lastHeartbeatAt}`,
    job: null,
    runner,
  };
  return add(tx, webhooks.map((w) => w.id), 'RUNNER_LOST', `RUNNER_LOST:${runner.id}:${runner.lastHeartbeatAt}`, data);
}

async function add(tx: Tx, webhookIds: string[], event: WebhookEvent, dedupeKey: string, data: EventData): Promise<number> {
  const { count } = await tx.webhookDelivery.createMany({
    data: webhookIds.map((webhookId) => ({ webhookId, event, dedupeKey, payload: data as unknown as Prisma.InputJsonObject })),
    skipDuplicates: true,
  });
  return count;
}
