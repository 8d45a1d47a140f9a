// Webhooks as people manage them: create (the secret is shown once, stored sealed with SECRETS_KEY
// like provider keys), update, delete, a test ping, and re-sending a delivery. MEMBERs manage their
// own; ADMINs anyone's. A webhook for one job needs the right to act on that job.
import { seal } from 'runner/secrets';
import { recordAudit } from '../audit/record.js';
import { ForbiddenError, requireOwnerOrAdmin, requireRole, type Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { WebhookEvent, WebhookFormat } from '../generated/prisma/enums.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { jobSummary, type EventData } from './payload.js';
import { newWebhookSecret } from './signing.js';
import { urlProblem } from './urls.js';
import { newWebhookId, secretContext } from './worker.js';

export interface WebhookDeps {
  db: Db;
  viewer: Viewer | null;
  clientIp: string | null;
  secretsKey: Buffer | null;
  webhookAllowPrivate: boolean;
}

export const SUBSCRIBABLE: readonly WebhookEvent[] = ['JOB_FINISHED', 'BUDGET_REACHED', 'JOB_STUCK', 'JOB_CANCELLED', 'RUNNER_LOST'];
export const MAX_DESCRIPTION = 200;
/** Webhooks one user may own: enough for every job of a busy week, few enough to send to. */
export const MAX_WEBHOOKS_PER_USER = 100;

export interface WebhookInput {
  url?: string | null;
  events?: WebhookEvent[] | null;
  format?: WebhookFormat | null;
  description?: string | null;
  enabled?: boolean | null;
}

async function checkUrl(deps: WebhookDeps, url: string): Promise<string> {
  const trimmed = url.trim();
  const problem = await urlProblem(trimmed, deps.webhookAllowPrivate);
  if (problem) throw new InvalidInputError(`url ${problem}`, 'input.url');
  return trimmed;
}

function checkEvents(events: WebhookEvent[]): WebhookEvent[] {
  const unique = [...new Set(events)];
  if (unique.length === 0) throw new InvalidInputError(`events must name at least one of ${SUBSCRIBABLE.join(', ')}`, 'input.events');
  const bad = unique.find((e) => !SUBSCRIBABLE.includes(e));
  if (bad) throw new InvalidInputError(`events cannot include ${bad} (testWebhook sends pings); use ${SUBSCRIBABLE.join(', ')}`, 'input.events');
  return unique;
}

function checkDescription(text: string | null | undefined): string | null {
  const description = text?.trim() || null;
  if (description && description.length > MAX_DESCRIPTION) throw new InvalidInputError(`description must be at most ${MAX_DESCRIPTION} characters`, 'input.description');
  return description;
}

/** The webhook, if the caller may manage it (its owner or an ADMIN). */
export async function manageableWebhook(deps: Pick<WebhookDeps, 'db' | 'viewer'>, id: string, action: string) {
  requireRole(deps, ['ADMIN', 'MEMBER'], action);
  const webhook = await deps.db.webhook.findUnique({ where: { id } });
  if (!webhook) throw new NotFoundError('webhook', id);
  requireOwnerOrAdmin(deps, webhook.userId, action);
  return webhook;
}

export async function createWebhook(
  deps: WebhookDeps,
  input: WebhookInput & { url: string; events: WebhookEvent[]; jobId?: string | null; userId?: string | null },
): Promise<{ id: string; secret: string }> {
  const viewer = requireRole(deps, ['ADMIN', 'MEMBER'], 'create webhooks');
  if (!deps.secretsKey) {
    throw new InvalidInputError('this server cannot keep webhook secrets: set SECRETS_KEY (32 bytes, base64) on the API', 'input');
  }
  const userId = input.userId ?? viewer.userId;
  if (userId !== viewer.userId && viewer.role !== 'ADMIN') throw new ForbiddenError('only an ADMIN may create a webhook for another user');
  if (input.jobId) {
    const job = await deps.db.job.findUnique({ where: { id: input.jobId }, select: { createdById: true } });
    if (!job) throw new NotFoundError('job', input.jobId);
    // A job's webhook belongs to whoever adds it (the job's creator or an ADMIN), who can see and remove it.
    requireOwnerOrAdmin(deps, job.createdById, 'add a webhook to this job');
  }
  if (!(await deps.db.user.findUnique({ where: { id: userId }, select: { id: true } }))) throw new NotFoundError('user', userId);
  const url = await checkUrl(deps, input.url);
  const events = checkEvents(input.events);
  const description = checkDescription(input.description);
  if ((await deps.db.webhook.count({ where: { userId } })) >= MAX_WEBHOOKS_PER_USER) {
    throw new InvalidInputError(`a user may have at most ${MAX_WEBHOOKS_PER_USER} webhooks; delete some first`, 'input');
  }
  const id = newWebhookId();
  const secret = newWebhookSecret();
  await deps.db.webhook.create({
    data: {
      id,
      userId,
      jobId: input.jobId ?? null,
      url,
      events,
      format: input.format ?? 'JSON',
      description,
      enabled: input.enabled ?? true,
      secretCiphertext: seal(deps.secretsKey, secret, secretContext(id)),
      secretHint: secret.slice(-4),
    },
  });
  await audit(deps, 'WEBHOOK_CREATED', id, { url: redactUrl(url), events, jobId: input.jobId ?? null, userId });
  return { id, secret };
}

export async function updateWebhook(deps: WebhookDeps, id: string, input: WebhookInput): Promise<void> {
  await manageableWebhook(deps, id, 'change this webhook');
  const data: Prisma.WebhookUpdateInput = { updatedAt: new Date() };
  if (input.url != null) data.url = await checkUrl(deps, input.url);
  if (input.events != null) data.events = checkEvents(input.events);
  if (input.format != null) data.format = input.format;
  if (input.description !== undefined) data.description = checkDescription(input.description);
  if (input.enabled != null) data.enabled = input.enabled;
  await deps.db.webhook.update({ where: { id }, data });
  await audit(deps, 'WEBHOOK_UPDATED', id, {
    ...(input.url != null ? { url: redactUrl(String(data.url)) } : {}),
    ...(input.events != null ? { events: data.events as WebhookEvent[] } : {}),
    ...(input.enabled != null ? { enabled: input.enabled } : {}),
  });
}

export async function deleteWebhook(deps: WebhookDeps, id: string): Promise<void> {
  const webhook = await manageableWebhook(deps, id, 'delete this webhook');
  await deps.db.webhook.delete({ where: { id } });
  await audit(deps, 'WEBHOOK_DELETED', id, { url: redactUrl(webhook.url) });
}

/** Enqueues a PING (with a job's summary on a job's webhook); the worker sends it within a poll. */
export async function testWebhook(deps: WebhookDeps, id: string): Promise<string> {
  const webhook = await manageableWebhook(deps, id, 'test this webhook');
  const summary = webhook.jobId ? await jobSummary(deps.db, webhook.jobId) : null;
  const job = summary ? (({ ownerId: _o, ...rest }) => rest)(summary) : null;
  const data: EventData = { event: 'PING', time: new Date().toISOString(), message: 'a test delivery from testWebhook', job, runner: null };
  const delivery = await deps.db.webhookDelivery.create({
    data: { webhookId: id, event: 'PING', dedupeKey: `PING:${newWebhookId()}`, payload: data as unknown as Prisma.InputJsonObject },
    select: { id: true },
  });
  await audit(deps, 'WEBHOOK_TESTED', id, { deliveryId: delivery.id });
  return delivery.id;
}

/** Sends a delivery's event again as a new delivery (fresh attempts, same data); the old one stays in the log. */
export async function redeliver(deps: WebhookDeps, deliveryId: string): Promise<string> {
  const old = await deps.db.webhookDelivery.findUnique({ where: { id: deliveryId } });
  if (!old) throw new NotFoundError('webhook delivery', deliveryId);
  await manageableWebhook(deps, old.webhookId, 'redeliver to this webhook');
  const delivery = await deps.db.webhookDelivery.create({
    data: {
      webhookId: old.webhookId,
      event: old.event,
      dedupeKey: `REDELIVERY:${newWebhookId()}`,
      payload: old.payload as Prisma.InputJsonObject,
      redeliveryOfId: old.id,
    },
    select: { id: true },
  });
  await audit(deps, 'WEBHOOK_REDELIVERED', old.webhookId, { deliveryId: delivery.id, of: old.id });
  return delivery.id;
}

function audit(deps: WebhookDeps, action: string, webhookId: string, detail: Prisma.InputJsonObject): Promise<void> {
  return recordAudit(deps.db, { actor: deps.viewer, action, targetType: 'webhook', targetId: webhookId, ip: deps.clientIp, detail });
}

/** The URL without its path and query, which often carry a token (Slack's hooks do): for the audit trail. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid)';
  }
}
