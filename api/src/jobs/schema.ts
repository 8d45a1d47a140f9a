// GraphQL for jobs and runs: their types and queries, over the recorded rows. What changes them is
// mutations.ts.
import { ENVIRONMENT_TYPES } from 'runner/protocol';
import { FailureKind, JobStatus, JobStopReason, RunStatus } from '../generated/prisma/enums.js';
import type { Prisma } from '../generated/prisma/client.js';
import { builder } from '../schema/builder.js';
import { parseId } from '../schema/ids.js';
import { planned } from '../schema/planned.js';
import { AGENTS } from './agents.js';

const JobStatusEnum = builder.enumType(JobStatus, { name: 'JobStatus' });
const RunStatusEnum = builder.enumType(RunStatus, { name: 'RunStatus' });
const FailureKindEnum = builder.enumType(FailureKind, {
  name: 'FailureKind',
  description: 'Who is to blame for an ERRORED run: the agent, or the infrastructure (left out of pass rates by default).',
});
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

const RunRef = builder.prismaObject('Run', {
  description: 'One Harbor trial of one task within a job.',
  fields: (t) => ({
    id: t.exposeID('id'),
    job: t.relation('job'),
    task: t.relation('task'),
    repeat: t.exposeInt('repeat', { description: '1-based repeat of the task within the job.' }),
    attempt: t.exposeInt('attempt', { description: '1 for the first try; retries add 1.' }),
    retryOfId: t.exposeID('retryOfId', { nullable: true }),
    status: t.expose('status', { type: RunStatusEnum }),
    reward: t.exposeFloat('reward', { nullable: true }),
    rewards: t.field({ type: 'JSON', nullable: true, description: 'Raw verifier rewards.', resolve: (r) => r.rewards }),
    exceptionType: t.exposeString('exceptionType', { nullable: true }),
    exceptionMessage: t.exposeString('exceptionMessage', { nullable: true }),
    failureKind: t.expose('failureKind', { type: FailureKindEnum, nullable: true }),
    inputTokens: t.exposeInt('inputTokens', { nullable: true }),
    cacheTokens: t.exposeInt('cacheTokens', { nullable: true }),
    outputTokens: t.exposeInt('outputTokens', { nullable: true }),
    costUsd: t.float({ nullable: true, resolve: (r) => (r.costUsd === null ? null : Number(r.costUsd)) }),
    environmentSetupMs: t.exposeInt('environmentSetupMs', { nullable: true }),
    agentSetupMs: t.exposeInt('agentSetupMs', { nullable: true }),
    agentExecutionMs: t.exposeInt('agentExecutionMs', { nullable: true }),
    verifierMs: t.exposeInt('verifierMs', { nullable: true }),
    runnerId: t.exposeString('runnerId', { nullable: true }),
    deliveryCount: t.exposeInt('deliveryCount', { description: 'Times the order was handed to a runner.' }),
    harborTrialDir: t.exposeString('harborTrialDir', { nullable: true, description: 'Relative to JOBS_DIR.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    dispatchedAt: t.expose('dispatchedAt', { type: 'DateTime', nullable: true }),
    claimedAt: t.expose('claimedAt', { type: 'DateTime', nullable: true }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
});

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
    runsTotal: t.exposeInt('runsTotal'),
    runsQueued: t.exposeInt('runsQueued'),
    runsClaimed: t.exposeInt('runsClaimed'),
    runsRunning: t.exposeInt('runsRunning'),
    runsPassed: t.exposeInt('runsPassed'),
    runsFailed: t.exposeInt('runsFailed'),
    runsErrored: t.exposeInt('runsErrored'),
    runsCancelled: t.exposeInt('runsCancelled'),
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
      args: { status: t.arg({ type: [RunStatusEnum] }), taskId: t.arg.id() },
      query: (args) => ({
        where: runWhere(args),
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      }),
    }),
  }),
});

function runWhere(args: { status?: RunStatus[] | null; taskId?: string | number | null }): Prisma.RunWhereInput {
  return {
    ...(args.status?.length ? { status: { in: args.status } } : {}),
    ...(args.taskId ? { taskId: parseId(args.taskId, 'taskId') } : {}),
  };
}

builder.queryField('jobs', (t) =>
  t.prismaConnection({
    type: 'Job',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 500,
    description: 'Jobs, newest first.',
    args: { status: t.arg({ type: [JobStatusEnum] }), search: t.arg.string({ description: 'Text in the name, agent or model.' }) },
    totalCount: (_p, args, ctx) => ctx.db.job.count({ where: jobWhere(args) }),
    resolve: (query, _root, args, ctx) =>
      ctx.db.job.findMany({ ...planned(query), where: jobWhere(args), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
);

function jobWhere(args: { status?: JobStatus[] | null; search?: string | null }): Prisma.JobWhereInput {
  const search = args.search?.trim();
  return {
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

builder.queryField('run', (t) =>
  t.prismaField({
    type: 'Run',
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => ctx.db.run.findUnique({ ...planned(query), where: { id: parseId(id, 'id') } }),
  }),
);

builder.queryField('runs', (t) =>
  t.prismaConnection({
    type: 'Run',
    cursor: 'id',
    defaultSize: 100,
    maxSize: 1_000,
    description: "A job's runs, oldest first, filtered by status and task.",
    args: {
      jobId: t.arg.id({ required: true }),
      status: t.arg({ type: [RunStatusEnum] }),
      taskId: t.arg.id(),
    },
    totalCount: (_p, args, ctx) => ctx.db.run.count({ where: { jobId: parseId(args.jobId, 'jobId'), ...runWhere(args) } }),
    resolve: (query, _root, args, ctx) =>
      ctx.db.run.findMany({
        ...planned(query),
        where: { jobId: parseId(args.jobId, 'jobId'), ...runWhere(args) },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      }),
  }),
);

export { JobRef, JobStatusEnum, RunRef };
