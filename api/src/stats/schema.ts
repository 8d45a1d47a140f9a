// GraphQL for statistics: thin types over service.ts, flaky.ts and compare.ts. Job gains stats,
// taskStats and errorBreakdown; Query gains the overview counters, model suggestions and compareJobs.
import { getRefFromModel, queryFromInfo } from '@pothos/plugin-prisma';
import { GraphQLError } from 'graphql';
import { builder } from '../schema/builder.js';
import type { Context } from '../schema/context.js';
import { FailureKind } from '../generated/prisma/enums.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import {
  compareJobs,
  MAJORITY,
  MAX_COMPARED_JOBS,
  MIN_COMPARED_JOBS,
  parseJobIds,
  type BaselineDifference,
  type ComparedJob,
  type ComparedTask,
  type JobComparison,
  type TaskResult,
} from './compare.js';
import { isFlaky, neverPassedTasks } from './flaky.js';
import { BOOTSTRAP_RESAMPLES, type PassAtKValue } from './math.js';
import {
  errorBreakdown,
  jobStats,
  MAX_MODELS,
  NO_EXCEPTION,
  overview,
  recentModels,
  type ErrorCount,
  type JobStats,
  type Overview,
  type PhaseDuration,
  type RunStats,
  type TaskStats,
} from './service.js';

const OverviewRef = builder.objectRef<Overview>('Overview').implement({
  description: 'Live counters across all jobs.',
  fields: (t) => ({
    runsQueued: t.exposeInt('runsQueued', { description: 'Runs waiting for a runner (status QUEUED).' }),
    runsRunning: t.exposeInt('runsRunning', { description: 'Runs a runner holds (CLAIMED or RUNNING).' }),
    runsFinishedToday: t.exposeInt('runsFinishedToday', { description: 'Runs that finished since midnight UTC.' }),
    runsPassedToday: t.exposeInt('runsPassedToday', { description: 'Of those, the ones that PASSED.' }),
    jobsActive: t.exposeInt('jobsActive', { description: 'Jobs QUEUED, RUNNING or CANCELLING.' }),
    queueDepth: t.exposeInt('queueDepth', { description: 'QUEUED runs already published to the RUNS stream, waiting for a runner.' }),
  }),
});

builder.queryField('overview', (t) =>
  t.field({ type: OverviewRef, description: 'Live counters for the overview page.', resolve: (_root, _args, ctx) => overview(ctx.db) }),
);

builder.queryField('models', (t) =>
  t.stringList({
    description: 'Models used by earlier jobs, most recently used first, for suggestions.',
    args: {
      search: t.arg.string({ description: 'Text anywhere in the model name, case-insensitive.' }),
      first: t.arg.int({ defaultValue: 20, description: `How many, at most ${MAX_MODELS}.` }),
    },
    resolve: (_root, { search, first }, ctx) => {
      if (first !== null && first !== undefined && first < 0) {
        throw new GraphQLError(`first must be 0 or more, got ${first}`, { extensions: { code: 'BAD_USER_INPUT' } });
      }
      return recentModels(ctx.db, { search, first });
    },
  }),
);

const PassAtKRef = builder.objectRef<PassAtKValue>('PassAtK').implement({
  description: 'Unbiased pass@k: the chance that at least one of k attempts passes, 1 − C(n−c,k)/C(n,k).',
  fields: (t) => ({ k: t.exposeInt('k'), value: t.exposeFloat('value') }),
});

const PhaseDurationRef = builder.objectRef<PhaseDuration>('PhaseDuration').implement({
  description: "Percentiles of one Harbor phase's duration over the scored runs that recorded it.",
  fields: (t) => ({
    phase: t.exposeString('phase', { description: 'environment_setup, agent_setup, agent_execution or verifier.' }),
    p50Ms: t.exposeFloat('p50Ms'),
    p95Ms: t.exposeFloat('p95Ms'),
  }),
});

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;
// The task row holds what the client selected under `task` (see taskStats), not every column.
type TaskStatsWithTask = TaskStats & { task: { id: string }; jobId: string };

/** The Task type tasks/schema.ts declares (prismaObject refs are one per model). */
const TaskRef = getRefFromModel('Task', builder);

// RunStats and TaskStats share every statistic; TaskStats adds the task.
const statsFields = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, RunStats>) => ({
  runs: t.exposeInt('runs', {
    description: 'One per (task, repeat): its counted attempt, the first fair try (see AttemptRole). Extra attempts never count here.',
  }),
  passed: t.exposeInt('passed', { description: 'PASSED runs whose reward the verifier wrote: a run with a reward flag is unverified instead.' }),
  unverified: t.exposeInt('unverified', {
    description:
      'Scored runs whose reward the agent may have written (Run.rewardFlag): they stay in `scored` but never count as passes, ' +
      'and add nothing to meanReward.',
  }),
  failed: t.exposeInt('failed'),
  errored: t.exposeInt('errored'),
  erroredAgent: t.exposeInt('erroredAgent', { description: 'ERRORED runs not blamed on the infrastructure.' }),
  erroredInfrastructure: t.exposeInt('erroredInfrastructure'),
  cancelled: t.exposeInt('cancelled'),
  unfinished: t.exposeInt('unfinished', { description: 'QUEUED, CLAIMED or RUNNING.' }),
  scored: t.exposeInt('scored', {
    description: 'Runs that count towards the pass rate: passed + failed + errored, minus infrastructure errors unless included.',
  }),
  includesInfrastructure: t.exposeBoolean('includesInfrastructure', { description: 'Whether infrastructure errors count as failures here.' }),
  passRate: t.exposeFloat('passRate', { nullable: true, description: 'passed / scored; null when nothing was scored.' }),
  passRateLow: t.exposeFloat('passRateLow', { nullable: true, description: 'Lower end of the 95% Wilson interval.' }),
  passRateHigh: t.exposeFloat('passRateHigh', { nullable: true, description: 'Upper end of the 95% Wilson interval.' }),
  meanReward: t.exposeFloat('meanReward', { nullable: true, description: 'Over scored runs; an ERRORED run counts 0.' }),
  meanRewardByKey: t.field({
    type: 'JSON',
    nullable: true,
    description: '{ key: mean } when the rewards have several keys (a missing key counts 0), else null.',
    resolve: (s) => s.meanRewardByKey,
  }),
  durationP50Ms: t.exposeFloat('durationP50Ms', { nullable: true, description: 'startedAt → finishedAt of scored runs.' }),
  durationP95Ms: t.exposeFloat('durationP95Ms', { nullable: true }),
  phaseDurations: t.field({
    type: [PhaseDurationRef],
    description: 'The phases some scored run recorded, in the order Harbor runs them.',
    resolve: (s) => s.phaseDurations,
  }),
  inputTokens: t.exposeFloat('inputTokens', { description: 'Over every counted attempt, scored or not.' }),
  outputTokens: t.exposeFloat('outputTokens'),
  cacheTokens: t.exposeFloat('cacheTokens'),
  costUsd: t.exposeFloat('costUsd', { description: "Over every counted attempt, scored or not (Job.costUsd is every attempt's)." }),
  costPerPass: t.exposeFloat('costPerPass', { nullable: true, description: 'costUsd / passed; null when nothing passed.' }),
  extraAttempts: t.exposeInt('extraAttempts', {
    description: "Retries of scored attempts (AttemptRole EXTRA). They never change the figures above; they only add the best-of figures.",
  }),
  bestOf: t.exposeInt('bestOf', {
    description: 'The N of "best of N": the most fair tries (the counted one and extra ones) one scored repeat had; 1 without extra attempts, 0 when nothing was scored.',
  }),
  bestOfPassed: t.exposeInt('bestOfPassed', { description: 'Scored repeats that passed in some attempt, the counted one or an extra one.' }),
  bestOfPassRate: t.exposeFloat('bestOfPassRate', {
    nullable: true,
    description: 'bestOfPassed / scored: the pass rate if every attempt were allowed to count. Not comparable with passRate across jobs retried differently.',
  }),
  tokensPerPass: t.float({
    nullable: true,
    description: '(inputTokens + outputTokens) / passed: what one success costs in tokens; null when nothing passed.',
    resolve: (s) => (s.passed > 0 ? (s.inputTokens + s.outputTokens) / s.passed : null),
  }),
});

const RunStatsRef = builder.objectRef<RunStats>('RunStats').implement({
  description: 'Outcomes of a set of runs. Pass rates leave infrastructure errors out unless asked to include them.',
  fields: (t) => ({
    ...statsFields(t),
    passAtK: t.field({
      type: [PassAtKRef],
      description: "Mean over tasks of each task's pass@k, for k = 1 .. the smallest scored runs of any task.",
      resolve: (s) => s.passAtK,
    }),
  }),
});

const TaskStatsRef = builder.objectRef<TaskStatsWithTask>('TaskStats').implement({
  description: "One task's outcomes within a job.",
  fields: (t) => ({
    ...statsFields(t),
    task: t.field({ type: TaskRef, resolve: (s) => s.task }),
    passAtK: t.field({ type: [PassAtKRef], description: 'pass@k for k = 1 .. scored runs of the task.', resolve: (s) => s.passAtK }),
    flaky: t.boolean({
      description: "The task's scored outcomes in this job include both a pass and a non-pass: the same agent and model disagree with themselves.",
      resolve: (s) => isFlaky(s),
    }),
    neverPassed: t.boolean({
      description:
        'No run of this task PASSED in any job, and at least one was scored: a candidate for a broken package rather than a hard task. ' +
        'Counts every attempt of every job; infrastructure errors count as scored only when included.',
      resolve: async (s, _args, ctx) => (await neverPassedOf(ctx, s.jobId, s.includesInfrastructure)).has(s.taskId),
    }),
  }),
});

/** One query per job and switch for every row's `neverPassed`, only when some row asks for it. */
const neverPassedMemo = new WeakMap<Context, Map<string, Promise<Set<string>>>>();
function neverPassedOf(ctx: Context, jobId: string, includeInfrastructure: boolean): Promise<Set<string>> {
  const cache = neverPassedMemo.get(ctx) ?? new Map<string, Promise<Set<string>>>();
  neverPassedMemo.set(ctx, cache);
  const key = `${jobId}:${includeInfrastructure}`;
  let tasks = cache.get(key);
  if (!tasks) {
    tasks = neverPassedTasks(ctx.db, jobId, includeInfrastructure);
    cache.set(key, tasks);
  }
  return tasks;
}

const ErrorCountRef = builder.objectRef<ErrorCount>('ErrorCount').implement({
  description: "Runs of a job that ended with one exception type, blamed on one side.",
  fields: (t) => ({
    exceptionType: t.exposeString('exceptionType', { description: `Harbor's exception type; ${NO_EXCEPTION} when it recorded none.` }),
    failureKind: t.field({
      type: FailureKind,
      nullable: true,
      description: 'Null for runs that kept a reward despite the exception.',
      resolve: (e) => e.failureKind,
    }),
    count: t.exposeInt('count'),
    sampleMessage: t.exposeString('sampleMessage', { nullable: true }),
    sampleRunId: t.exposeID('sampleRunId', { description: 'The most recently finished run of the group.' }),
  }),
});

/** A request that asks for both `stats` and `taskStats` with the same switch runs the queries once. */
const memo = new WeakMap<Context, Map<string, Promise<JobStats>>>();
function statsOf(ctx: Context, jobId: string, includeInfrastructure: boolean): Promise<JobStats> {
  const cache = memo.get(ctx) ?? new Map<string, Promise<JobStats>>();
  memo.set(ctx, cache);
  const key = `${jobId}:${includeInfrastructure}`;
  let stats = cache.get(key);
  if (!stats) {
    stats = jobStats(ctx.db, jobId, { includeInfrastructure });
    cache.set(key, stats);
  }
  return stats;
}

const INCLUDE_INFRASTRUCTURE = 'Count infrastructure errors as failed attempts in the pass rate (default: leave them out).';

builder.prismaObjectFields('Job', (t) => ({
  stats: t.field({
    type: RunStatsRef,
    description: 'Outcomes of the whole job, over the counted attempt of each (task, repeat).',
    args: { includeInfrastructure: t.arg.boolean({ defaultValue: false, description: INCLUDE_INFRASTRUCTURE }) },
    resolve: async (job, { includeInfrastructure }, ctx) => (await statsOf(ctx, job.id, includeInfrastructure ?? false)).job,
  }),
  taskStats: t.field({
    type: [TaskStatsRef],
    description: 'Outcomes per task of the job, ordered by task name.',
    args: { includeInfrastructure: t.arg.boolean({ defaultValue: false, description: INCLUDE_INFRASTRUCTURE }) },
    resolve: async (job, { includeInfrastructure }, ctx, info) => {
      const { tasks } = await statsOf(ctx, job.id, includeInfrastructure ?? false);
      // One query for every row's task, planned from what the client selected under `task`.
      const rows = await ctx.db.task.findMany({
        ...(await queryFromInfo({ context: ctx, info, path: ['task'], select: { id: true }, awaitSelections: true })),
        where: { id: { in: tasks.map((s) => s.taskId) } },
      });
      const byId = new Map(rows.map((row) => [row.id, row]));
      return tasks.map((s) => ({ ...s, task: byId.get(s.taskId)!, jobId: job.id }));
    },
  }),
  errorBreakdown: t.field({
    type: [ErrorCountRef],
    description: 'Exceptions of the counted attempts by type and blame, most frequent first.',
    resolve: (job, _args, ctx) => errorBreakdown(ctx.db, job.id),
  }),
}));

// Comparison rows hold what the client selected under `job` and `task` (see compareJobs).
type ComparedJobWithJob = ComparedJob & { job: { id: string } };
type ComparedTaskWithTask = ComparedTask & { task: { id: string } };
type JobComparisonWithRows = Omit<JobComparison, 'jobs' | 'tasks'> & { jobs: ComparedJobWithJob[]; tasks: ComparedTaskWithTask[] };

const JobRef = getRefFromModel('Job', builder);

const BaselineDifferenceRef = builder.objectRef<BaselineDifference>('BaselineDifference').implement({
  description:
    'A job against the baseline (the first job compared) on their common tasks: tasks with at least one scored run in both.',
  fields: (t) => ({
    commonTasks: t.exposeInt('commonTasks'),
    passRateDifference: t.exposeFloat('passRateDifference', {
      nullable: true,
      description: "Mean over the common tasks of (this job's pass rate − the baseline's); positive when this job does better. Null without common tasks.",
    }),
    passRateDifferenceLow: t.exposeFloat('passRateDifferenceLow', {
      nullable: true,
      description:
        `Lower end of the 95% interval of passRateDifference, from a paired bootstrap over tasks: the common tasks are drawn with replacement ${BOOTSTRAP_RESAMPLES} times ` +
        '(each draw keeps a task\'s two pass rates together), and the 2.5% and 97.5% quantiles of the resampled means are the interval. The seed is fixed, so the same runs always give the same interval.',
    }),
    passRateDifferenceHigh: t.exposeFloat('passRateDifferenceHigh', { nullable: true, description: 'Upper end of that interval (97.5% quantile).' }),
    onlyBaselinePasses: t.exposeInt('onlyBaselinePasses', {
      description: `McNemar's b: common tasks the baseline passes and this job does not. A task passes for a job when its pass rate is above ${MAJORITY}; exactly ${MAJORITY} is not a pass.`,
    }),
    onlyThisPasses: t.exposeInt('onlyThisPasses', { description: "McNemar's c: common tasks this job passes and the baseline does not (same majority rule)." }),
    mcnemarP: t.exposeFloat('mcnemarP', {
      nullable: true,
      description:
        'Exact two-sided McNemar p-value on the per-task majority outcomes: 2 · P(X ≤ min(b, c)) for X ~ Binomial(b + c, ½), at most 1; 1 when b = c = 0. Null without common tasks.',
    }),
  }),
});

const ComparedJobRef = builder.objectRef<ComparedJobWithJob>('ComparedJob').implement({
  description: "One job's outcomes over the counted attempt of each (task, repeat), and its difference from the baseline.",
  fields: (t) => ({
    job: t.field({ type: JobRef, resolve: (c) => c.job }),
    runs: t.exposeInt('runs'),
    scored: t.exposeInt('scored', { description: 'Runs that count towards the pass rate.' }),
    passed: t.exposeInt('passed'),
    passRate: t.exposeFloat('passRate', { nullable: true, description: 'passed / scored over all its tasks; null when nothing was scored.' }),
    passRateLow: t.exposeFloat('passRateLow', { nullable: true, description: 'Lower end of the 95% Wilson interval.' }),
    passRateHigh: t.exposeFloat('passRateHigh', { nullable: true, description: 'Upper end of the 95% Wilson interval.' }),
    costUsd: t.exposeFloat('costUsd', { description: 'Over every counted attempt, scored or not.' }),
    costPerPass: t.exposeFloat('costPerPass', { nullable: true, description: 'costUsd / passed; null when nothing passed.' }),
    vsBaseline: t.field({
      type: BaselineDifferenceRef,
      nullable: true,
      description: 'This job against the first job compared; null for the first job itself.',
      resolve: (c) => c.vsBaseline,
    }),
  }),
});

const TaskResultRef = builder.objectRef<TaskResult>('TaskResultInJob').implement({
  description: "One task's outcomes within one of the compared jobs.",
  fields: (t) => ({
    runs: t.exposeInt('runs'),
    scored: t.exposeInt('scored'),
    passed: t.exposeInt('passed'),
    passRate: t.exposeFloat('passRate', { nullable: true, description: 'Null when none of its runs was scored.' }),
    differenceVsBaseline: t.exposeFloat('differenceVsBaseline', {
      nullable: true,
      description: "This pass rate − the baseline's for the task; null for the baseline itself or when either pass rate is null.",
    }),
  }),
});

const ComparedTaskRef = builder.objectRef<ComparedTaskWithTask>('ComparedTask').implement({
  description: 'One task across the compared jobs.',
  fields: (t) => ({
    task: t.field({ type: TaskRef, resolve: (c) => c.task }),
    results: t.field({
      type: [TaskResultRef],
      nullable: { list: false, items: true },
      description: 'One entry per compared job, in the order of `jobs`; null where that job did not run the task.',
      resolve: (c) => c.results,
    }),
  }),
});

const JobComparisonRef = builder.objectRef<JobComparisonWithRows>('JobComparison').implement({
  description: 'Jobs side by side, typically the same tasks under different agents or models. The first job is the baseline.',
  fields: (t) => ({
    includesInfrastructure: t.exposeBoolean('includesInfrastructure', { description: 'Whether infrastructure errors count as failures here.' }),
    jobs: t.field({ type: [ComparedJobRef], description: 'In the order given; the first is the baseline.', resolve: (c) => c.jobs }),
    tasks: t.field({ type: [ComparedTaskRef], description: 'Every task any of the jobs ran, by name.', resolve: (c) => c.tasks }),
  }),
});

builder.queryField('compareJobs', (t) =>
  t.field({
    type: JobComparisonRef,
    description:
      `Compares ${MIN_COMPARED_JOBS} to ${MAX_COMPARED_JOBS} jobs: each job's pass rate and cost per pass, per-task pass rates side by side, ` +
      'and each job against the first on their common tasks (mean pass-rate difference with a paired bootstrap interval, exact McNemar test).',
    errors: { types: [InvalidInputError, NotFoundError] },
    args: {
      ids: t.arg.idList({ required: true, description: `${MIN_COMPARED_JOBS} to ${MAX_COMPARED_JOBS} distinct job ids; the first is the baseline.` }),
      includeInfrastructure: t.arg.boolean({ defaultValue: false, description: INCLUDE_INFRASTRUCTURE }),
    },
    resolve: async (_root, { ids, includeInfrastructure }, ctx, info) => {
      const jobIds = await parseJobIds(ctx.db, ids);
      const comparison = await compareJobs(ctx.db, jobIds, { includeInfrastructure: includeInfrastructure ?? false });
      // One query for the jobs and one for the tasks, each planned from what the client selected.
      const selected = (path: string[]) =>
        queryFromInfo({ context: ctx, info, path, select: { id: true }, awaitSelections: true });
      const [jobs, tasks] = await Promise.all([
        (async () => ctx.db.job.findMany({ ...(await selected(['jobs', 'job'])), where: { id: { in: jobIds } } }))(),
        (async () => ctx.db.task.findMany({ ...(await selected(['tasks', 'task'])), where: { id: { in: comparison.tasks.map((c) => c.taskId) } } }))(),
      ]);
      const jobById = new Map(jobs.map((row) => [row.id, row]));
      const taskById = new Map(tasks.map((row) => [row.id, row]));
      return {
        ...comparison,
        jobs: comparison.jobs.map((c) => ({ ...c, job: jobById.get(c.jobId)! })),
        tasks: comparison.tasks.map((c) => ({ ...c, task: taskById.get(c.taskId)! })),
      };
    },
  }),
);
