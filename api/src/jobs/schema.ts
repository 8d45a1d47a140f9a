// GraphQL for jobs and runs: thin types over launch.ts, control.ts and the recorded rows.
import { ENVIRONMENT_TYPES } from 'runner/protocol';
import { FailureKind, JobStatus, JobStopReason, RunStatus } from '../generated/prisma/enums.js';
import type { Prisma } from '../generated/prisma/client.js';
import { builder } from '../schema/builder.js';
import { ErrorInterface, InvalidInputError, NotFoundError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import { planned } from '../schema/planned.js';
import { TaskFilterInput } from '../tasks/schema.js';
import { AGENTS } from './agents.js';
import { BudgetReachedError, setJobBudget } from './budget.js';
import { cancelJob, cancelRun, RETRY_SELECTIONS, retryRuns, type RetrySelection } from './control.js';
import { createJob } from './launch.js';
import { deleteJob, JobActiveError, type DeletedJob } from './delete.js';
import { notifyJob } from './recorder.js';

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

builder.objectType(BudgetReachedError, {
  name: 'BudgetReachedError',
  interfaces: [ErrorInterface],
  description: "The job's recorded cost has reached its budget: raise it with setJobBudget first.",
  isTypeOf: (value) => value instanceof BudgetReachedError,
  fields: (t) => ({
    costUsd: t.exposeFloat('costUsd', { description: 'Recorded cost of the job.' }),
    budgetUsd: t.exposeFloat('budgetUsd'),
  }),
});

const RetrySelectionEnum = builder.enumType('RetrySelection', {
  values: {
    FAILED: { description: 'Runs the verifier scored below the pass threshold.' },
    ERRORED: { description: 'Runs that ended with an exception and no reward.' },
    INFRA: { description: 'ERRORED runs blamed on the infrastructure.' },
    CANCELLED: { description: 'Runs stopped by a user or never started because the budget was reached.' },
    UNSUCCESSFUL: { description: 'FAILED, ERRORED and CANCELLED runs.' },
  } satisfies Record<RetrySelection, { description: string }>,
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

const HarborOptionsInput = builder.inputType('HarborOptionsInput', {
  description: 'How Harbor runs each trial (harbor-contract §2). Unset fields take Harbor defaults.',
  fields: (t) => ({
    environmentType: t.string({ description: 'docker (default), daytona, e2b, modal, …; see `environmentTypes`.' }),
    timeoutMultiplier: t.float({ description: 'Scales every timeout of the task (default 1).' }),
    agentTimeoutMultiplier: t.float(),
    verifierTimeoutMultiplier: t.float(),
    agentSetupTimeoutMultiplier: t.float(),
    environmentBuildTimeoutMultiplier: t.float(),
    maxRetries: t.int({ description: "Harbor's own retries inside a trial (default 0)." }),
    agentKwargs: t.field({ type: 'JSON', description: 'Agent kwargs, e.g. {"temperature": 0.7, "max_turns": 200}.' }),
    forceBuild: t.boolean({ description: "Build the task's Dockerfile instead of pulling docker_image." }),
  }),
});

const ProviderKeyInput = builder.inputType('ProviderKeyInput', {
  description: 'A provider API key for this job: stored encrypted, never returned, given to Harbor only.',
  fields: (t) => ({
    value: t.string({ required: true }),
    envVar: t.string({ description: "Variable Harbor reads it from; derived from the model's provider when unset." }),
  }),
});

const CreateJobInput = builder.inputType('CreateJobInput', {
  fields: (t) => ({
    name: t.string(),
    taskIds: t.idList({ description: 'The tasks to run; or give taskFilter.' }),
    taskFilter: t.field({ type: TaskFilterInput, description: 'Run every task matching this library filter.' }),
    agent: t.string({ required: true, description: 'terminus-2, oracle, claude-code, … or module.path:ClassName.' }),
    model: t.string({ description: 'e.g. openrouter/anthropic/claude-sonnet-4; empty for oracle and nop.' }),
    runsPerTask: t.int({ required: true, defaultValue: 1, description: '1 to 100.' }),
    harbor: t.field({ type: HarborOptionsInput }),
    providerKey: t.field({ type: ProviderKeyInput }),
    budgetUsd: t.float({ description: 'Optional cost cap in US dollars (> 0): once the recorded cost reaches it, no further run starts.' }),
  }),
});

builder.mutationField('createJob', (t) =>
  t.prismaField({
    type: 'Job',
    description: 'Launches a job: writes it and all its runs at once; the dispatcher queues them for runners.',
    errors: { types: [InvalidInputError] },
    args: { input: t.arg({ type: CreateJobInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const created = await createJob(
        { db: ctx.db, secretsKey: ctx.secretsKey },
        {
          ...input,
          taskIds: input.taskIds?.map((id, i) => parseId(id, `input.taskIds.${i}`)),
          harbor: stripNulls(input.harbor),
        },
      );
      ctx.kickDispatcher();
      notifyJob(ctx.nats, ctx.topology, { jobId: created.id, runId: '', status: 'QUEUED' });
      return ctx.db.job.findUniqueOrThrow({ ...planned(query), where: { id: created.id } });
    },
  }),
);

/** GraphQL sends unset input fields as absent or null; Harbor defaults apply to both. */
function stripNulls<T extends object>(value: T | null | undefined): Partial<T> | null {
  if (!value) return null;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) as Partial<T>;
}

builder.mutationField('cancelJob', (t) =>
  t.prismaField({
    type: 'Job',
    description: 'Stops a job: queued runs never start, running ones are stopped and end CANCELLED.',
    errors: { types: [NotFoundError, InvalidInputError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const jobId = parseId(id, 'id');
      await cancelJob(ctx, jobId);
      return ctx.db.job.findUniqueOrThrow({ ...planned(query), where: { id: jobId } });
    },
  }),
);

builder.mutationField('cancelRun', (t) =>
  t.prismaField({
    type: 'Run',
    errors: { types: [NotFoundError, InvalidInputError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const runId = parseId(id, 'id');
      await cancelRun(ctx, runId);
      return ctx.db.run.findUniqueOrThrow({ ...planned(query), where: { id: runId } });
    },
  }),
);

builder.mutationField('retryRuns', (t) =>
  t.prismaField({
    type: 'Job',
    description: 'New attempts for the latest attempt of every run that matches `which`; refused while the job is at its budget.',
    errors: { types: [NotFoundError, InvalidInputError, BudgetReachedError] },
    args: { jobId: t.arg.id({ required: true }), which: t.arg({ type: RetrySelectionEnum, required: true }) },
    resolve: async (query, _root, { jobId, which }, ctx) => {
      const id = parseId(jobId, 'jobId');
      if (!(which in RETRY_SELECTIONS)) throw new InvalidInputError(`which must be one of ${Object.keys(RETRY_SELECTIONS).join(', ')}`, 'which');
      await retryRuns(ctx, id, which);
      ctx.kickDispatcher();
      return ctx.db.job.findUniqueOrThrow({ ...planned(query), where: { id } });
    },
  }),
);

builder.mutationField('setJobBudget', (t) =>
  t.prismaField({
    type: 'Job',
    description:
      'Sets, raises or lowers (null: removes) a job\'s budget. A budget already reached stops the job at once; ' +
      'after raising one, retryRuns(which: CANCELLED) starts the runs the budget stopped.',
    errors: { types: [NotFoundError, InvalidInputError] },
    args: { id: t.arg.id({ required: true }), budgetUsd: t.arg.float({ description: 'US dollars, > 0; null removes the budget.' }) },
    resolve: async (query, _root, { id, budgetUsd }, ctx) => {
      const jobId = parseId(id, 'id');
      await setJobBudget(ctx, jobId, budgetUsd ?? null);
      return ctx.db.job.findUniqueOrThrow({ ...planned(query), where: { id: jobId } });
    },
  }),
);

builder.objectType(JobActiveError, {
  name: 'JobActiveError',
  interfaces: [ErrorInterface],
  description: 'The job is still queued, running or cancelling: cancel it and wait until it has stopped.',
  isTypeOf: (value) => value instanceof JobActiveError,
  fields: (t) => ({ status: t.field({ type: JobStatusEnum, resolve: (e) => e.status }) }),
});

const DeletedJobRef = builder.objectRef<DeletedJob>('DeletedJob').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    runsDeleted: t.exposeInt('runsDeleted'),
    directoriesRemoved: t.exposeInt('directoriesRemoved', { description: "Harbor job directories (one per delivery of each run) removed from JOBS_DIR." }),
    filesNote: t.exposeString('filesNote', { nullable: true, description: 'What could not be removed from JOBS_DIR; null when everything was.' }),
  }),
});

builder.mutationField('deleteJob', (t) =>
  t.field({
    type: DeletedJobRef,
    description:
      "Deletes a job that has stopped (completed or cancelled): its runs, their test results, its own provider key and its trial files. " +
      'Refused with JobActiveError while it is queued, running or cancelling. Afterwards the tasks it ran can be deleted.',
    errors: { types: [NotFoundError, JobActiveError, InvalidInputError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const deleted = await deleteJob({ db: ctx.db, jobsDir: ctx.jobsDir }, parseId(id, 'id'));
      // List views re-read; the job itself now resolves to null.
      ctx.nats.publish(ctx.topology.jobUpdate(deleted.id), JSON.stringify({ jobId: deleted.id, runId: '', status: 'DELETED' }));
      return deleted;
    },
  }),
);

export { JobRef, RunRef };
