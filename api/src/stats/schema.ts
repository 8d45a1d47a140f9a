// GraphQL for statistics: thin types over service.ts. Job gains stats, taskStats and errorBreakdown;
// Query gains the overview counters and model suggestions.
import { getRefFromModel, queryFromInfo } from '@pothos/plugin-prisma';
import { GraphQLError } from 'graphql';
import { builder } from '../schema/builder.js';
import type { Context } from '../schema/context.js';
import { FailureKind } from '../generated/prisma/enums.js';
import type { PassAtKValue } from './math.js';
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
type TaskStatsWithTask = TaskStats & { task: { id: string } };

/** The Task type tasks/schema.ts declares (prismaObject refs are one per model). */
const TaskRef = getRefFromModel('Task', builder);

// RunStats and TaskStats share every statistic; TaskStats adds the task.
const statsFields = (t: PothosSchemaTypes.ObjectFieldBuilder<Types, RunStats>) => ({
  runs: t.exposeInt('runs', { description: 'Latest attempts of each (task, repeat); retries supersede what they retried.' }),
  passed: t.exposeInt('passed'),
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
  inputTokens: t.exposeFloat('inputTokens', { description: 'Over every latest attempt, scored or not.' }),
  outputTokens: t.exposeFloat('outputTokens'),
  cacheTokens: t.exposeFloat('cacheTokens'),
  costUsd: t.exposeFloat('costUsd', { description: 'Over every latest attempt, scored or not.' }),
  costPerPass: t.exposeFloat('costPerPass', { nullable: true, description: 'costUsd / passed; null when nothing passed.' }),
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
  }),
});

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
    description: 'Outcomes of the whole job, over the latest attempt of each (task, repeat).',
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
      return tasks.map((s) => ({ ...s, task: byId.get(s.taskId)! }));
    },
  }),
  errorBreakdown: t.field({
    type: [ErrorCountRef],
    description: 'Exceptions of the latest attempts by type and blame, most frequent first.',
    resolve: (job, _args, ctx) => errorBreakdown(ctx.db, job.id),
  }),
}));
