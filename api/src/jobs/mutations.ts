// GraphQL mutations of jobs and runs: thin resolvers over launch.ts, control.ts, budget.ts and
// delete.ts, with the inputs and error types only they use.
import { auditRequest } from '../audit/context.js';
import { QuotaExceededError } from '../quotas/service.js';
import { requireJobOwner, requireRunOwner } from '../auth/owners.js';
import { requireViewer } from '../auth/viewer.js';
import { builder } from '../schema/builder.js';
import { ErrorInterface, InvalidInputError, NotFoundError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import { planned } from '../schema/planned.js';
import { TaskFilterInput } from '../tasks/schema.js';
import { BudgetReachedError } from './budget.js';
import { setJobBudget } from './budget-stop.js';
import { RETRY_SELECTIONS, type RetrySelection } from './attempts.js';
import { cancelJob, cancelRun, UnavailableError } from './cancel.js';
import { retryRuns } from './control.js';
import { deleteJob, JobActiveError, type DeletedJob } from './delete.js';
import { createJob, MAX_IDEMPOTENCY_KEY } from './launch.js';
import { JobNameExistsError } from './names.js';
import { notifyJob } from '../runs/lifecycle.js';
import { JobStatusEnum } from './schema.js';

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
  description:
    'Which latest attempts retryRuns retries. A retry of an infrastructure error or a cancelled attempt replaces it; ' +
    'a retry of a scored attempt (FAILED, or ERRORED by the agent) is an EXTRA attempt that never changes pass rates.',
  values: {
    FAILED: { description: 'Runs the verifier scored below the pass threshold: the retries are extra attempts.' },
    ERRORED: { description: 'Runs that ended with an exception and no reward: agent errors get extra attempts, infrastructure errors are replaced.' },
    INFRA: { description: 'ERRORED runs blamed on the infrastructure: the retries replace them.' },
    CANCELLED: { description: 'Runs stopped by a user or never started because the budget was reached: the retries replace them.' },
    UNSUCCESSFUL: { description: 'FAILED, ERRORED and CANCELLED runs.' },
  } satisfies Record<RetrySelection, { description: string }>,
});

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
    name: t.string({ description: 'Unique regardless of case: a taken name is refused with JobNameExistsError. Unset: "agent · model", with " (2)", " (3)" … when taken.' }),
    taskIds: t.idList({ description: 'The tasks to run; or give taskFilter.' }),
    taskFilter: t.field({ type: TaskFilterInput, description: 'Run every task matching this library filter.' }),
    datasetVersionId: t.id({
      description: 'Run on this dataset version: all its tasks, or with taskIds or taskFilter that subset of them (a task it does not hold is refused).',
    }),
    agent: t.string({ required: true, description: 'terminus-2, oracle, claude-code, … or module.path:ClassName.' }),
    model: t.string({ description: 'e.g. openrouter/anthropic/claude-sonnet-4; empty for oracle and nop.' }),
    runsPerTask: t.int({ required: true, defaultValue: 1, description: '1 to 100.' }),
    harbor: t.field({ type: HarborOptionsInput }),
    providerKey: t.field({ type: ProviderKeyInput }),
    budgetUsd: t.float({ description: 'Optional cost cap in US dollars (> 0): once the recorded cost reaches it, no further run starts.' }),
    allowHostAccess: t.boolean({
      description:
        "Run tasks whose docker-compose file reaches the runner host (their warnings with code host_access). ADMIN only; " +
        'without it createJob refuses such tasks, naming them and the reasons.',
    }),
    idempotencyKey: t.string({
      description:
        `Your key for this launch, 1 to ${MAX_IDEMPOTENCY_KEY} characters: createJob with a key used in the last 24 hours returns the job ` +
        'it launched instead of launching another, so a request retried after a timeout launches once.',
    }),
  }),
});

builder.mutationField('createJob', (t) =>
  t.prismaField({
    type: 'Job',
    description:
      'Launches a job: writes it and all its runs at once; the dispatcher queues them for runners. ' +
      'With an idempotencyKey used in the last 24 hours, returns that launch\'s job instead.',
    errors: { types: [InvalidInputError, QuotaExceededError, JobNameExistsError] },
    args: { input: t.arg({ type: CreateJobInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const created = await createJob(
        { db: ctx.db, secretsKey: ctx.secretsKey, role: ctx.viewer?.role ?? null, launchSettings: ctx.launchSettings },
        {
          ...input,
          taskIds: input.taskIds?.map((id, i) => parseId(id, `input.taskIds.${i}`)),
          datasetVersionId: input.datasetVersionId ? parseId(input.datasetVersionId, 'input.datasetVersionId') : null,
          harbor: stripNulls(input.harbor),
          createdById: requireViewer(ctx).userId,
        },
      );
      if (!created.existing) {
        await auditRequest(ctx, 'JOB_CREATED', { type: 'job', id: created.id }, { runs: created.runsTotal, agent: input.agent, model: input.model ?? null });
        ctx.kickDispatcher();
        notifyJob(ctx.nats, ctx.topology, { jobId: created.id, runId: '', status: 'QUEUED' });
      }
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
    description:
      'Stops a job: queued runs never start, running ones are stopped and end CANCELLED. While NATS is unreachable the ' +
      'queued runs are cancelled at once and the job stays CANCELLING (see Job.cancelNote) until NATS is back; calling it ' +
      'again on a CANCELLING job is harmless.',
    errors: { types: [NotFoundError, InvalidInputError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const jobId = parseId(id, 'id');
      await requireJobOwner(ctx, jobId, 'cancel this job');
      const outcome = await cancelJob(ctx, jobId);
      await auditRequest(ctx, 'JOB_CANCELLED', { type: 'job', id: jobId }, { complete: outcome.complete });
      return ctx.db.job.findUniqueOrThrow({ ...planned(query), where: { id: jobId } });
    },
  }),
);

builder.mutationField('cancelRun', (t) =>
  t.prismaField({
    type: 'Run',
    description:
      'Stops one run: a queued one never starts, a running one is stopped and ends CANCELLED. UnavailableError when ' +
      'NATS is unreachable and the run is running (its runner cannot be told).',
    errors: { types: [NotFoundError, InvalidInputError, UnavailableError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const runId = parseId(id, 'id');
      await requireRunOwner(ctx, runId, "cancel this job's runs");
      const outcome = await cancelRun(ctx, runId);
      await auditRequest(ctx, 'RUN_CANCELLED', { type: 'run', id: runId }, { complete: outcome.complete });
      return ctx.db.run.findUniqueOrThrow({ ...planned(query), where: { id: runId } });
    },
  }),
);

builder.mutationField('retryRuns', (t) =>
  t.prismaField({
    type: 'Job',
    description:
      'New attempts for the latest attempt of every (task, repeat) that matches `which` (default: infrastructure errors); ' +
      'refused while the job is at its budget. Retries of scored attempts are extra attempts: they never raise pass rates.',
    errors: { types: [NotFoundError, InvalidInputError, BudgetReachedError, QuotaExceededError] },
    args: {
      jobId: t.arg.id({ required: true }),
      which: t.arg({ type: RetrySelectionEnum, required: true, defaultValue: 'INFRA' }),
    },
    resolve: async (query, _root, { jobId, which }, ctx) => {
      const id = parseId(jobId, 'jobId');
      await requireJobOwner(ctx, id, 'retry runs of this job');
      if (!(which in RETRY_SELECTIONS)) throw new InvalidInputError(`which must be one of ${Object.keys(RETRY_SELECTIONS).join(', ')}`, 'which');
      const added = await retryRuns(ctx, id, which);
      await auditRequest(ctx, 'RUNS_RETRIED', { type: 'job', id }, { which, runs: added });
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
      await requireJobOwner(ctx, jobId, "set this job's budget");
      await setJobBudget(ctx, jobId, budgetUsd ?? null);
      await auditRequest(ctx, 'BUDGET_SET', { type: 'job', id: jobId }, { budgetUsd: budgetUsd ?? null });
      return ctx.db.job.findUniqueOrThrow({ ...planned(query), where: { id: jobId } });
    },
  }),
);

builder.objectType(UnavailableError, {
  name: 'UnavailableError',
  interfaces: [ErrorInterface],
  description: 'A service the platform needs (NATS) is unreachable; nothing changed. Try again once it is back.',
  isTypeOf: (value) => value instanceof UnavailableError,
});

builder.objectType(JobActiveError, {
  name: 'JobActiveError',
  interfaces: [ErrorInterface],
  description: 'The job is still queued, running or cancelling: cancel it and wait until it has stopped.',
  isTypeOf: (value) => value instanceof JobActiveError,
  fields: (t) => ({ status: t.field({ type: JobStatusEnum, resolve: (e) => e.status }) }),
});

export const DeletedJobRef = builder.objectRef<DeletedJob>('DeletedJob').implement({
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
      const jobId = parseId(id, 'id');
      await requireJobOwner(ctx, jobId, 'delete this job');
      const deleted = await deleteJob({ db: ctx.db, jobsDir: ctx.jobsDir }, jobId);
      await auditRequest(ctx, 'JOB_DELETED', { type: 'job', id: deleted.id }, { name: deleted.name, runsDeleted: deleted.runsDeleted });
      // List views re-read; the job itself now resolves to null.
      ctx.nats.publish(ctx.topology.jobUpdate(deleted.id), JSON.stringify({ jobId: deleted.id, runId: '', status: 'DELETED' }));
      return deleted;
    },
  }),
);
