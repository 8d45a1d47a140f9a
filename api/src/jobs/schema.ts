// GraphQL for jobs: their type and queries, over the recorded rows. What changes them is mutations.ts;
// a job's runs are the Run type of runs/schema.ts.
import { ENVIRONMENT_TYPES } from 'runner/protocol';
import { JobStatus, JobStopReason } from '../generated/prisma/enums.js';
import { ATTEMPT_ROLE_FILTER, AttemptRoleEnum, RunStatusEnum, runWhere } from '../runs/schema.js';
import type { Prisma } from '../generated/prisma/client.js';
import { batchLoader, perRequest } from '../schema/batch.js';
import { builder } from '../schema/builder.js';
import type { Context } from '../schema/context.js';
import { parseId } from '../schema/ids.js';
import { planned } from '../schema/planned.js';
import { AGENTS } from './agents.js';
import { attemptCounters, retryableCounts, type AttemptCounters, type RetryableCounts } from './attempts.js';

const JobStatusEnum = builder.enumType(JobStatus, { name: 'JobStatus' });
const JobStopReasonEnum = builder.enumType(JobStopReason, {
  name: 'JobStopReason',
  description: 'Why a job stopped early on its own; a cancel by a user shows as cancelRequestedAt instead.',
});

const AgentRef = builder.objectRef<(typeof AGENTS)[number]>('Agent').implement({
  description: "One of Harbor's agents.",
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    needsModel: t.boolean({ resolve: (a) => a.model === 'required' }),
  }),
});

builder.queryField('agents', (t) =>
  t.field({
    type: [AgentRef],
    description: 'Agents a job can run; a custom agent is given as module.path:ClassName.',
    resolve: () => AGENTS,
  }),
);

builder.queryField('environmentTypes', (t) =>
  t.stringList({ description: "Harbor's environment types.", resolve: () => [...ENVIRONMENT_TYPES] }),
);

const RetryableRunsRef = builder.objectRef<RetryableCounts>('RetryableRuns').implement({
  description: "Per RetrySelection, the attempts retryRuns(which) would add now (a job's buttons show these).",
  fields: (t) => ({
    failed: t.exposeInt('FAILED', { description: 'Latest attempts that FAILED: their retries would be extra attempts.' }),
    errored: t.exposeInt('ERRORED'),
    infra: t.exposeInt('INFRA', { description: 'Latest attempts that ERRORED because of the infrastructure: their retries replace them.' }),
    cancelled: t.exposeInt('CANCELLED'),
    unsuccessful: t.exposeInt('UNSUCCESSFUL'),
  }),
});

/** A request's jobs read their counters in one query (a list of fifty jobs too). */
const countersLoader = perRequest((ctx: Context) => batchLoader((ids) => attemptCounters(ctx.db, ids)));
const countersOf = (ctx: Context, jobId: string) => countersLoader(ctx)(jobId);

const JobRef = builder.prismaObject('Job', {
  description: 'An agent + model over a set of tasks, each run `runsPerTask` times.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    agent: t.exposeString('agent'),
    model: t.string({ nullable: true, resolve: (j) => j.model || null }),
    runsPerTask: t.exposeInt('runsPerTask'),
    harborOptions: t.field({ type: 'JSON', resolve: (j) => j.harborOptions }),
    status: t.expose('status', { type: JobStatusEnum }),
    inputTokens: t.float({ resolve: (j) => Number(j.inputTokens) }),
    cacheTokens: t.float({ resolve: (j) => Number(j.cacheTokens) }),
    outputTokens: t.float({ resolve: (j) => Number(j.outputTokens) }),
    costUsd: t.float({ resolve: (j) => Number(j.costUsd), description: "Sum of the recorded runs' cost." }),
    budgetUsd: t.float({
      nullable: true,
      description: 'Cost cap: once costUsd reaches it no further run starts (runs already claimed finish).',
      resolve: (j) => (j.budgetUsd === null ? null : Number(j.budgetUsd)),
    }),
    stopReason: t.expose('stopReason', { type: JobStopReasonEnum, nullable: true, description: 'Set when the job stopped early on its own.' }),
    stopMessage: t.exposeString('stopMessage', {
      nullable: true,
      description: 'The stop in words, e.g. "stopped: recorded cost $5.02 reached the budget of $5.00".',
    }),
    hasProviderKey: t.boolean({ resolve: (j) => j.providerSecretId !== null }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    cancelRequestedAt: t.expose('cancelRequestedAt', { type: 'DateTime', nullable: true }),
    cancelNote: t.string({
      nullable: true,
      select: { cancelsUnrecordedSince: true },
      description:
        'Set while a cancel waits for NATS (it was unreachable): queued runs are already cancelled, and the platform ' +
        'tells the runners and finishes the cancel once NATS is back. Null otherwise.',
      resolve: (j) =>
        j.cancelsUnrecordedSince === null ? null : 'NATS was unreachable: queued runs are cancelled; the rest completes when NATS is back',
    }),
    runs: t.relatedConnection('runs', {
      cursor: 'id',
      defaultSize: 100,
      maxSize: 1_000,
      totalCount: true,
      args: {
        status: t.arg({ type: [RunStatusEnum] }),
        taskId: t.arg.id(),
        attemptRole: t.arg({ type: [AttemptRoleEnum], description: ATTEMPT_ROLE_FILTER }),
      },
      query: (args) => ({
        where: runWhere(args),
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      }),
    }),
  }),
});

// The counters people read: one attempt per (task, repeat), and the other attempts apart
// (attempts.ts). The job row's own counters count every attempt; the recorder settles jobs by them.
builder.prismaObjectFields('Job', (t) => {
  const counter = (name: keyof AttemptCounters, description: string) =>
    t.int({ description, select: { id: true }, resolve: async (job, _args, ctx) => (await countersOf(ctx, job.id))?.[name] ?? 0 });
  return {
    runsTotal: counter('runsTotal', 'Runs: one per (task, repeat), its counted attempt (runsPerTask × tasks, however often retried).'),
    runsQueued: counter('runsQueued', 'Counted attempts waiting for a runner.'),
    runsClaimed: counter('runsClaimed', 'Counted attempts a runner took and is starting.'),
    runsRunning: counter('runsRunning', 'Counted attempts running.'),
    runsPassed: counter('runsPassed', 'Counted attempts that passed.'),
    runsFailed: counter('runsFailed', 'Counted attempts that failed.'),
    runsErrored: counter('runsErrored', 'Counted attempts that errored.'),
    runsCancelled: counter('runsCancelled', 'Counted attempts that were cancelled.'),
    attemptsTotal: counter('attemptsTotal', 'Every attempt: the counted ones, plus replaced and extra attempts.'),
    replacedAttempts: counter('replacedAttempts', 'Infrastructure errors and cancellations that a retry replaced.'),
    extraAttempts: counter('extraAttempts', 'Retries of scored attempts: shown (best of N), never counted.'),
    retryable: t.field({
      type: RetryableRunsRef,
      description: 'How many new attempts retryRuns would add now for each `which`: latest attempts per (task, repeat) that match.',
      select: { id: true },
      resolve: (job, _args, ctx) => retryableCounts(ctx.db, job.id),
    }),
  };
});

builder.queryField('jobs', (t) =>
  t.prismaConnection({
    type: 'Job',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 500,
    description: 'Jobs, newest first. Archived jobs are left out unless `archived` says otherwise.',
    args: {
      status: t.arg({ type: [JobStatusEnum] }),
      search: t.arg.string({ description: 'Text in the name, agent or model.' }),
      // Issue 17 item 7: the list's filters.
      agent: t.arg.string({ description: 'Exactly this agent.' }),
      model: t.arg.string({ description: 'Exactly this model.' }),
      datasetId: t.arg.id({ description: 'Jobs launched on any version of this dataset.' }),
      tag: t.arg.string({ description: 'Jobs with this tag (tags are lower-case).' }),
      createdById: t.arg.id({ description: 'Jobs this user launched.' }),
      mine: t.arg.boolean({ description: 'Jobs the caller launched.' }),
      archived: t.arg.boolean({ defaultValue: false, description: 'false (default): jobs not archived; true: archived ones only; null: both.' }),
    },
    totalCount: (_p, args, ctx) => ctx.db.job.count({ where: jobWhere(args, ctx) }),
    resolve: (query, _root, args, ctx) =>
      ctx.db.job.findMany({ ...planned(query), where: jobWhere(args, ctx), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
);

interface JobFilter {
  status?: JobStatus[] | null;
  search?: string | null;
  agent?: string | null;
  model?: string | null;
  datasetId?: string | null;
  tag?: string | null;
  createdById?: string | null;
  mine?: boolean | null;
  archived?: boolean | null;
}

function jobWhere(args: JobFilter, ctx: Context): Prisma.JobWhereInput {
  const search = args.search?.trim();
  // "mine" without a caller matches nothing rather than everything.
  const creator = args.mine ? (ctx.viewer?.userId ?? '00000000-0000-0000-0000-000000000000') : args.createdById ? parseId(args.createdById, 'createdById') : null;
  return {
    ...(args.agent ? { agent: args.agent.trim() } : {}),
    ...(args.model ? { model: args.model.trim() } : {}),
    ...(args.datasetId ? { datasetVersion: { datasetId: parseId(args.datasetId, 'datasetId') } } : {}),
    ...(args.tag?.trim() ? { tags: { has: args.tag.trim().toLowerCase() } } : {}),
    ...(creator ? { createdById: creator } : {}),
    ...(args.archived === true ? { archivedAt: { not: null } } : args.archived === false ? { archivedAt: null } : {}),
    ...(args.status?.length ? { status: { in: args.status } } : {}),
    ...(search
      ? {
          OR: [
            { name: { contains: search, mode: 'insensitive' } },
            { agent: { contains: search, mode: 'insensitive' } },
            { model: { contains: search, mode: 'insensitive' } },
          ],
        }
      : {}),
  };
}

builder.queryField('job', (t) =>
  t.prismaField({
    type: 'Job',
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => ctx.db.job.findUnique({ ...planned(query), where: { id: parseId(id, 'id') } }),
  }),
);

export { JobRef, JobStatusEnum };
