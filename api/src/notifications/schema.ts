// GraphQL for webhooks: thin types over service.ts. Lists are connections; the delivery log is a
// webhook's deliveries, newest first, each with its attempts.
import { requireRole } from '../auth/viewer.js';
import type { Prisma } from '../generated/prisma/client.js';
import { WebhookDeliveryStatus, WebhookEvent, WebhookFormat } from '../generated/prisma/enums.js';
import { builder } from '../schema/builder.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import { planned } from '../schema/planned.js';
import { createWebhook, deleteWebhook, manageableWebhook, MAX_DESCRIPTION, redeliver, testWebhook, updateWebhook, type WebhookDeps } from './service.js';
import type { AttemptLogEntry } from './worker.js';

const WebhookEventEnum = builder.enumType(WebhookEvent, {
  name: 'WebhookEvent',
  description:
    'JOB_FINISHED: a job ended on its own (every run done, or stopped by its budget). BUDGET_REACHED: its budget stopped it. ' +
    'JOB_STUCK: queued runs no live runner can take, for WEBHOOK_STUCK_AFTER_MINUTES. JOB_CANCELLED: a cancel settled. ' +
    'RUNNER_LOST: a runner holding its runs went silent. PING: testWebhook only.',
});
const WebhookFormatEnum = builder.enumType(WebhookFormat, {
  name: 'WebhookFormat',
  description: 'JSON: our body (docs/api.md "Webhooks"). SLACK: `{ text, blocks }` for Slack-compatible incoming webhooks.',
});
const WebhookDeliveryStatusEnum = builder.enumType(WebhookDeliveryStatus, {
  name: 'WebhookDeliveryStatus',
  description: 'PENDING: an attempt is due or under way. DELIVERED: answered 2xx. FAILED: out of attempts, or refused for good.',
});

const deps = (ctx: WebhookDeps): WebhookDeps => ({
  db: ctx.db,
  viewer: ctx.viewer,
  clientIp: ctx.clientIp,
  secretsKey: ctx.secretsKey,
  webhookAllowPrivate: ctx.webhookAllowPrivate,
});

const DELIVERIES_NEWEST_FIRST = [{ createdAt: 'desc' }, { id: 'desc' }] satisfies Prisma.WebhookDeliveryOrderByWithRelationInput[];

builder.prismaObject('Webhook', {
  description: "Where events are POSTed: for all of its owner's jobs, or for one job.",
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.exposeString('url'),
    description: t.exposeString('description', { nullable: true }),
    events: t.expose('events', { type: [WebhookEventEnum] }),
    format: t.expose('format', { type: WebhookFormatEnum }),
    enabled: t.exposeBoolean('enabled'),
    secretHint: t.exposeString('secretHint', { description: 'The last four characters of the signing secret, to tell secrets apart (createWebhook shows the whole secret once).' }),
    owner: t.relation('user'),
    job: t.relation('job', { nullable: true, description: "The job it is for; null: every job of its owner's." }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    lastDelivery: t.prismaField({
      type: 'WebhookDelivery',
      nullable: true,
      select: { id: true },
      resolve: (query, webhook, _args, ctx) =>
        ctx.db.webhookDelivery.findFirst({ ...planned(query), where: { webhookId: webhook.id }, orderBy: DELIVERIES_NEWEST_FIRST }),
    }),
  }),
});

const AttemptRef = builder.objectRef<AttemptLogEntry>('WebhookAttempt').implement({
  description: 'One POST of a delivery.',
  fields: (t) => ({
    attempt: t.exposeInt('attempt', { description: '1 for the first.' }),
    at: t.field({ type: 'DateTime', resolve: (a) => new Date(a.at) }),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: "The receiver's HTTP status; null when none came (refused, timed out)." }),
    error: t.exposeString('error', { nullable: true }),
    durationMs: t.exposeInt('durationMs'),
  }),
});

builder.prismaObject('WebhookDelivery', {
  description: 'One event for one webhook, and its attempts (the delivery log; the newest deliveries per webhook are kept).',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Sent as X-THR-Delivery; the same on every attempt, so receivers can drop repeats.' }),
    webhook: t.relation('webhook'),
    event: t.expose('event', { type: WebhookEventEnum }),
    status: t.expose('status', { type: WebhookDeliveryStatusEnum }),
    attempts: t.exposeInt('attempts'),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the next attempt is due; null once DELIVERED or FAILED.',
      select: { status: true, nextAttemptAt: true },
      resolve: (d) => (d.status === 'PENDING' ? d.nextAttemptAt : null),
    }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    payload: t.expose('payload', { type: 'JSON', description: 'The event data the body is rendered from.' }),
    log: t.field({
      type: [AttemptRef],
      description: 'Every attempt, oldest first.',
      select: { log: true },
      resolve: (d) => (Array.isArray(d.log) ? (d.log as unknown as AttemptLogEntry[]) : []),
    }),
    redeliveryOf: t.exposeID('redeliveryOfId', { nullable: true, description: 'The delivery this one re-sends.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.queryField('webhooks', (t) =>
  t.prismaConnection({
    type: 'Webhook',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 200,
    description: "The caller's webhooks (an ADMIN: anyone's with userId, everyone's with all), newest first; jobId: that job's only.",
    args: {
      jobId: t.arg.id(),
      userId: t.arg.id({ description: 'ADMIN only.' }),
      all: t.arg.boolean({ description: "ADMIN only: every user's." }),
    },
    totalCount: async (_p, args, ctx) => ctx.db.webhook.count({ where: webhookWhere(ctx, args) }),
    resolve: (query, _root, args, ctx) =>
      ctx.db.webhook.findMany({ ...planned(query), where: webhookWhere(ctx, args), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
);

function webhookWhere(
  ctx: WebhookDeps,
  args: { jobId?: string | number | null; userId?: string | number | null; all?: boolean | null },
): Prisma.WebhookWhereInput {
  const viewer = requireRole(ctx, ['ADMIN', 'MEMBER'], 'list webhooks');
  const admin = viewer.role === 'ADMIN';
  const userId = args.userId != null ? parseId(args.userId, 'userId') : null;
  if ((userId && userId !== viewer.userId) || args.all) requireRole(ctx, ['ADMIN'], "list other users' webhooks");
  return {
    ...(args.all && admin ? {} : { userId: userId ?? viewer.userId }),
    ...(args.jobId != null ? { jobId: parseId(args.jobId, 'jobId') } : {}),
  };
}

builder.queryField('webhookDeliveries', (t) =>
  t.prismaConnection({
    type: 'WebhookDelivery',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 200,
    description: "A webhook's delivery log, newest first.",
    errors: { types: [NotFoundError, InvalidInputError] },
    args: { webhookId: t.arg.id({ required: true }), status: t.arg({ type: [WebhookDeliveryStatusEnum] }) },
    totalCount: (_p, args, ctx) => ctx.db.webhookDelivery.count({ where: deliveryWhere(parseId(args.webhookId, 'webhookId'), args.status) }),
    resolve: async (query, _root, args, ctx) => {
      const webhookId = parseId(args.webhookId, 'webhookId');
      await manageableWebhook(ctx, webhookId, "read this webhook's deliveries");
      return ctx.db.webhookDelivery.findMany({ ...planned(query), where: deliveryWhere(webhookId, args.status), orderBy: DELIVERIES_NEWEST_FIRST });
    },
  }),
);

function deliveryWhere(webhookId: string, status: WebhookDeliveryStatus[] | null | undefined): Prisma.WebhookDeliveryWhereInput {
  return { webhookId, ...(status?.length ? { status: { in: status } } : {}) };
}

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  fields: (t) => ({
    url: t.string({ required: true, description: 'http:// or https://; private addresses only where WEBHOOK_ALLOW_PRIVATE is true (the default).' }),
    events: t.field({ type: [WebhookEventEnum], required: true }),
    format: t.field({ type: WebhookFormatEnum, description: 'Default JSON.' }),
    description: t.string({ description: `What it is for; at most ${MAX_DESCRIPTION} characters.` }),
    jobId: t.id({ description: "Only this job's events; absent: every job of the owner's." }),
    userId: t.id({ description: 'The owner; ADMIN only for someone else. Default: the caller.' }),
    enabled: t.boolean({ description: 'Default true.' }),
  }),
});

const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  description: 'Fields left out stay as they are.',
  fields: (t) => ({
    url: t.string(),
    events: t.field({ type: [WebhookEventEnum] }),
    format: t.field({ type: WebhookFormatEnum }),
    description: t.string({ description: 'An empty string clears it.' }),
    enabled: t.boolean(),
  }),
});

interface CreatedWebhook {
  id: string;
  secret: string;
}

const CreatedWebhookRef = builder.objectRef<CreatedWebhook>('MutationCreateWebhookSuccess').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', {
      description: 'The signing secret (whsec_…): shown this once. Receivers check X-THR-Signature with it.',
    }),
    webhook: t.prismaField({
      type: 'Webhook',
      resolve: (query, created, _args, ctx) => ctx.db.webhook.findUniqueOrThrow({ ...planned(query), where: { id: created.id } }),
    }),
  }),
});

builder.mutationField('createWebhook', (t) =>
  t.field({
    type: CreatedWebhookRef,
    description: 'Adds a webhook for the caller (or, for an ADMIN, anyone) or for one job. Needs SECRETS_KEY on the server.',
    errors: { types: [InvalidInputError, NotFoundError], directResult: true },
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      createWebhook(deps(ctx), {
        url: input.url,
        events: input.events,
        format: input.format,
        description: input.description,
        enabled: input.enabled,
        jobId: input.jobId == null ? null : parseId(input.jobId, 'input.jobId'),
        userId: input.userId == null ? null : parseId(input.userId, 'input.userId'),
      }),
  }),
);

builder.mutationField('updateWebhook', (t) =>
  t.prismaField({
    type: 'Webhook',
    errors: { types: [InvalidInputError, NotFoundError] },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateWebhookInput, required: true }) },
    resolve: async (query, _root, { id, input }, ctx) => {
      const webhookId = parseId(id, 'id');
      await updateWebhook(deps(ctx), webhookId, input);
      return ctx.db.webhook.findUniqueOrThrow({ ...planned(query), where: { id: webhookId } });
    },
  }),
);

builder.mutationField('deleteWebhook', (t) =>
  t.id({
    description: 'Deletes a webhook and its delivery log; pending deliveries are not sent. Returns its id.',
    errors: { types: [InvalidInputError, NotFoundError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const webhookId = parseId(id, 'id');
      await deleteWebhook(deps(ctx), webhookId);
      return webhookId;
    },
  }),
);

builder.mutationField('testWebhook', (t) =>
  t.prismaField({
    type: 'WebhookDelivery',
    description: 'Sends a PING (signed like any event) within a second or so; read the returned delivery again to see how it went.',
    errors: { types: [InvalidInputError, NotFoundError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const deliveryId = await testWebhook(deps(ctx), parseId(id, 'id'));
      return ctx.db.webhookDelivery.findUniqueOrThrow({ ...planned(query), where: { id: deliveryId } });
    },
  }),
);

builder.mutationField('redeliver', (t) =>
  t.prismaField({
    type: 'WebhookDelivery',
    description: "Sends a delivery's event again, as a new delivery with fresh attempts.",
    errors: { types: [InvalidInputError, NotFoundError] },
    args: { deliveryId: t.arg.id({ required: true }) },
    resolve: async (query, _root, { deliveryId }, ctx) => {
      const id = await redeliver(deps(ctx), parseId(deliveryId, 'deliveryId'));
      return ctx.db.webhookDelivery.findUniqueOrThrow({ ...planned(query), where: { id } });
    },
  }),
);

builder.prismaObjectField('Job', 'webhooks', (t) =>
  t.relatedConnection('webhooks', {
    cursor: 'id',
    defaultSize: 20,
    maxSize: 100,
    totalCount: true,
    description: "This job's own webhooks the caller may see (an ADMIN: all of them).",
    query: (_args, ctx) => ({
      where: ctx.viewer?.role === 'ADMIN' ? {} : { userId: ctx.viewer?.userId ?? '00000000-0000-0000-0000-000000000000' },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    }),
  }),
);
