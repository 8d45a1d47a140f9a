// GraphQL for the leaderboard of a dataset version (issue 17 items 2, 3 and 6): thin types over
// service.ts, heatmap.ts and compare.ts, and the live leaderboardUpdated. Reading needs only a
// signed-in caller, like the job statistics (Query and Subscription are signedIn by default).
import { getRefFromModel, queryFromInfo } from '@pothos/plugin-prisma';
import type { GraphQLResolveInfo } from 'graphql';
import { builder } from '../schema/builder.js';
import type { Context } from '../schema/context.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import type { PassAtKValue } from '../stats/math.js';
import { compareRows, type RowComparison } from './compare.js';
import { heatmap, type Heatmap, type HeatmapCell, type HeatmapTask } from './heatmap.js';
import {
  leaderboard,
  requireDatasetVersion,
  type DatasetTaskRef,
  type Leaderboard,
  type LeaderboardOptions,
  type LeaderboardRow,
  type RowKey,
} from './service.js';
import { leaderboardUpdates } from './subscription.js';

const DatasetVersionRef = getRefFromModel('DatasetVersion', builder);
const JobRef = getRefFromModel('Job', builder);
const TaskRef = getRefFromModel('Task', builder);

// What the resolvers hand the types: the service's figures plus the rows the client selected
// under datasetVersion, jobs and task, each read in one query per request (see present()).
type LeaderboardRowOut = LeaderboardRow & { jobs: object[] };
type LeaderboardOut = Omit<Leaderboard, 'rows'> & { datasetVersion: object; rows: LeaderboardRowOut[] };
type HeatmapTaskOut = HeatmapTask & { task: object };
type HeatmapOut = Omit<Heatmap, 'tasks'> & { tasks: HeatmapTaskOut[] };
type TaskOut = DatasetTaskRef & { task: object };
type RowComparisonOut = Omit<RowComparison, 'onlyATasks' | 'onlyBTasks'> & { onlyATasks: TaskOut[]; onlyBTasks: TaskOut[] };

const PassAtKValueRef = builder.objectRef<PassAtKValue>('PassAtKValue').implement({
  description: 'A figure at k attempts per task (pass@k or pass^k).',
  fields: (t) => ({ k: t.exposeInt('k'), value: t.exposeFloat('value') }),
});

const RowKeyRef = builder.objectRef<RowKey>('LeaderboardRowKey').implement({
  description: 'Which trials a leaderboard row (or heatmap column) holds: one agent and model, optionally one agent version.',
  fields: (t) => ({
    key: t.exposeString('key', {
      description:
        'Stable id of the row: agent|model|agentVersion, an empty part for no model or for all agent versions (`%` and `|` in a part are escaped as %25 and %7C).',
    }),
    agent: t.exposeString('agent'),
    model: t.exposeString('model', { nullable: true }),
    agentVersion: t.exposeString('agentVersion', {
      nullable: true,
      description: 'Null when rows are not split by agent version; "unknown" for trials that recorded none.',
    }),
  }),
});

const LeaderboardRowRef = builder.objectRef<LeaderboardRowOut>('LeaderboardRow').implement({
  description: "One agent × model (× agent version) over the version's tasks, from every job that ran them.",
  fields: (t) => ({
    key: t.exposeString('key', { description: 'agent|model|agentVersion: used by heatmap columns and compareLeaderboardRows.' }),
    rank: t.exposeInt('rank', { nullable: true, description: 'By accuracy among complete rows (ties share a rank); null for an incomplete row.' }),
    agent: t.exposeString('agent'),
    model: t.exposeString('model', { nullable: true }),
    agentVersion: t.exposeString('agentVersion', { nullable: true, description: 'Null when not split by agent version; "unknown" when none was recorded.' }),
    complete: t.exposeBoolean('complete', { description: 'Every task of the version has at least one scored trial.' }),
    tasksCovered: t.exposeInt('tasksCovered', { description: 'Tasks with at least one scored trial.' }),
    taskCount: t.exposeInt('taskCount'),
    trials: t.exposeInt('trials', { description: 'Scored counted trials.' }),
    unfinished: t.exposeInt('unfinished', { description: 'Counted trials still QUEUED, CLAIMED or RUNNING.' }),
    jobs: t.field({ type: [JobRef], description: 'The jobs whose trials the row holds, oldest first.', resolve: (row) => row.jobs as never }),
    accuracy: t.exposeFloat('accuracy', { nullable: true, description: "Mean over covered tasks of each task's mean reward." }),
    standardError: t.exposeFloat('standardError', { nullable: true, description: 'sqrt(Σ var_t / n_t) / T.' }),
    ci95Low: t.exposeFloat('ci95Low', { nullable: true, description: 'accuracy − 1.96 · SE, at least 0.' }),
    ci95High: t.exposeFloat('ci95High', { nullable: true, description: 'accuracy + 1.96 · SE, at most 1.' }),
    passAt1: t.exposeFloat('passAt1', { nullable: true, description: "Mean over covered tasks of the task's pass rate." }),
    minAttemptsPerTask: t.exposeInt('minAttemptsPerTask', { nullable: true, description: 'The fewest scored trials of any covered task.' }),
    passAtK: t.field({
      type: [PassAtKValueRef],
      description: "Mean over covered tasks of the unbiased pass@k, 1 − C(n−c,k)/C(n,k), for k = 1..minAttemptsPerTask.",
      resolve: (row) => row.passAtK,
    }),
    passHatK: t.field({
      type: [PassAtKValueRef],
      description: 'pass^k: mean over covered tasks of C(c,k)/C(n,k), the chance that all k attempts pass; same ks.',
      resolve: (row) => row.passHatK,
    }),
    passed: t.exposeInt('passed', { description: 'Scored trials that passed (successes).' }),
    costUsd: t.exposeFloat('costUsd', { nullable: true, description: "Every counted attempt's recorded cost, scored or not." }),
    costPerTrial: t.exposeFloat('costPerTrial', { nullable: true, description: 'costUsd / trials.' }),
    costPerSuccess: t.exposeFloat('costPerSuccess', { nullable: true, description: 'costUsd / passed; null when nothing passed.' }),
    inputTokens: t.exposeFloat('inputTokens', { nullable: true }),
    outputTokens: t.exposeFloat('outputTokens', { nullable: true }),
    cacheTokens: t.exposeFloat('cacheTokens', { nullable: true }),
    tokensPerTrial: t.exposeFloat('tokensPerTrial', { nullable: true, description: '(inputTokens + outputTokens) / trials.' }),
    tokensPerSuccess: t.exposeFloat('tokensPerSuccess', { nullable: true, description: '(inputTokens + outputTokens) / passed.' }),
    medianTrialSec: t.exposeFloat('medianTrialSec', { nullable: true, description: 'Median startedAt → finishedAt of the scored trials, in seconds.' }),
    infrastructureErrors: t.exposeInt('infrastructureErrors', { description: 'Counted attempts that ERRORED through the infrastructure.' }),
    infrastructureErrorRate: t.exposeFloat('infrastructureErrorRate', {
      nullable: true,
      description: 'infrastructureErrors / counted attempts that ended (passed, failed, errored or cancelled).',
    }),
  }),
});

const LeaderboardRef = builder.objectRef<LeaderboardOut>('Leaderboard').implement({
  description: "Every agent × model that ran a dataset version's tasks, ranked by accuracy.",
  fields: (t) => ({
    datasetVersion: t.field({ type: DatasetVersionRef, resolve: (lb) => lb.datasetVersion as never }),
    taskCount: t.exposeInt('taskCount'),
    rule: t.exposeString('rule', { description: 'The accounting rule in words.' }),
    emptyReason: t.exposeString('emptyReason', { nullable: true, description: 'Why there is no row; null when there are rows.' }),
    includesInfrastructure: t.exposeBoolean('includesInfrastructure'),
    splitByAgentVersion: t.exposeBoolean('splitByAgentVersion'),
    rows: t.field({
      type: [LeaderboardRowRef],
      description: 'Complete rows ranked by accuracy, then incomplete rows (rank null) by tasks covered.',
      resolve: (lb) => lb.rows,
    }),
    computedAt: t.expose('computedAt', { type: 'DateTime' }),
  }),
});

const HeatmapFlagEnum = builder.enumType('HeatmapFlag', {
  values: {
    NEVER_SOLVED: { description: 'Some column ran the task and no trial of any column passed.' },
    ALWAYS_SOLVED: { description: 'Every column ran the task and every trial passed: it tells the rows apart not at all.' },
    FLAKY: { description: 'Some cell is flaky: the same agent and model both passed and failed it.' },
  },
});

const HeatmapCellRef = builder.objectRef<HeatmapCell>('HeatmapCell').implement({
  description: "One column's trials of one task.",
  fields: (t) => ({
    key: t.exposeString('key', { description: 'The column (leaderboard row key).' }),
    n: t.exposeInt('n', { description: 'Scored trials; 0 when the column never ran the task.' }),
    passed: t.exposeInt('passed'),
    passRate: t.exposeFloat('passRate', { nullable: true }),
    meanReward: t.exposeFloat('meanReward', { nullable: true }),
    flaky: t.exposeBoolean('flaky', { description: '0 < passed < n.' }),
  }),
});

const HeatmapTaskRef = builder.objectRef<HeatmapTaskOut>('HeatmapTask').implement({
  description: 'One task of the version across the columns.',
  fields: (t) => ({
    task: t.field({ type: TaskRef, resolve: (h) => h.task as never }),
    name: t.exposeString('name', { description: "The task's name in the dataset." }),
    meanPassRate: t.exposeFloat('meanPassRate', { nullable: true, description: 'Mean of the pass rates of the columns that ran it (difficulty: low is hard).' }),
    disagreement: t.exposeFloat('disagreement', {
      nullable: true,
      description:
        '2 × the standard deviation of the pass rates of the columns that ran it: 0 when they agree, 1 when half always pass and half always fail. Null below two columns.',
    }),
    flags: t.field({ type: [HeatmapFlagEnum], resolve: (h) => h.flags }),
    cells: t.field({ type: [HeatmapCellRef], description: 'One per column, in column order.', resolve: (h) => h.cells }),
  }),
});

const HeatmapRef = builder.objectRef<HeatmapOut>('Heatmap').implement({
  description: "Tasks × leaderboard rows: each cell a column's pass rate on a task.",
  fields: (t) => ({
    columns: t.field({ type: [RowKeyRef], description: "In the leaderboard's order.", resolve: (h) => h.columns }),
    tasks: t.field({ type: [HeatmapTaskRef], description: 'The version\'s tasks by name.', resolve: (h) => h.tasks }),
  }),
});

const DatasetTaskOutRef = builder.objectRef<TaskOut>('LeaderboardTask').implement({
  description: 'A task of the dataset version.',
  fields: (t) => ({
    task: t.field({ type: TaskRef, resolve: (x) => x.task as never }),
    name: t.exposeString('name', { description: "The task's name in the dataset." }),
  }),
});

const RowComparisonRef = builder.objectRef<RowComparisonOut>('RowComparison').implement({
  description: 'Two leaderboard rows on their common tasks (at least one scored trial in both).',
  fields: (t) => ({
    a: t.field({ type: RowKeyRef, resolve: (c) => c.a }),
    b: t.field({ type: RowKeyRef, resolve: (c) => c.b }),
    includesInfrastructure: t.exposeBoolean('includesInfrastructure'),
    commonTasks: t.exposeInt('commonTasks'),
    meanA: t.exposeFloat('meanA', { nullable: true, description: "Mean over the common tasks of a's mean reward per task." }),
    meanB: t.exposeFloat('meanB', { nullable: true }),
    difference: t.exposeFloat('difference', { nullable: true, description: 'meanB − meanA: positive when b does better.' }),
    differenceLow: t.exposeFloat('differenceLow', {
      nullable: true,
      description: 'Lower end of the 95% paired bootstrap interval (common tasks resampled, fixed seed), as compareJobs.',
    }),
    differenceHigh: t.exposeFloat('differenceHigh', { nullable: true }),
    onlyA: t.exposeInt('onlyA', { description: 'Common tasks a solves by majority (pass rate > 0.5) and b does not.' }),
    onlyB: t.exposeInt('onlyB', { description: 'Common tasks b solves by majority and a does not.' }),
    mcnemarP: t.exposeFloat('mcnemarP', { nullable: true, description: 'Exact two-sided McNemar p on onlyA vs onlyB; null without common tasks.' }),
    onlyATasks: t.field({ type: [DatasetTaskOutRef], resolve: (c) => c.onlyATasks }),
    onlyBTasks: t.field({ type: [DatasetTaskOutRef], resolve: (c) => c.onlyBTasks }),
  }),
});

/** Rows the client selected under `path` (below a result union's `data` too), read in one query. */
async function selectedRows(ctx: Context, info: GraphQLResolveInfo, path: string[], model: 'job' | 'task' | 'datasetVersion', ids: string[]) {
  if (ids.length === 0) return new Map<string, { id: string }>();
  const query = await queryFromInfo({ context: ctx, info, path, select: { id: true }, awaitSelections: true });
  const delegate = ctx.db[model] as unknown as { findMany(args: object): Promise<{ id: string }[]> };
  const rows = await delegate.findMany({ ...query, where: { id: { in: ids } } });
  return new Map(rows.map((row) => [row.id, row]));
}

/** The version as the client selected it; NotFoundError when there is none. */
async function selectedVersion(ctx: Context, info: GraphQLResolveInfo, versionId: string): Promise<object> {
  const version = (await selectedRows(ctx, info, ['datasetVersion'], 'datasetVersion', [versionId])).get(versionId);
  if (!version) throw new NotFoundError('dataset version', versionId);
  return version;
}

/** The leaderboard with the version (read here unless given) and every row's jobs as the client selected them. */
export async function present(ctx: Context, info: GraphQLResolveInfo, lb: Leaderboard, version?: object): Promise<LeaderboardOut> {
  const jobIds = [...new Set(lb.rows.flatMap((r) => r.jobIds))];
  const [datasetVersion, jobs] = await Promise.all([
    version ?? selectedVersion(ctx, info, lb.datasetVersionId),
    selectedRows(ctx, info, ['rows', 'jobs'], 'job', jobIds),
  ]);
  return {
    ...lb,
    datasetVersion,
    rows: lb.rows.map((row) => ({ ...row, jobs: row.jobIds.map((id) => jobs.get(id)).filter((j) => j !== undefined) })),
  };
}

const INCLUDE_INFRASTRUCTURE = 'Count infrastructure errors as failed trials (default: leave them out).';

/** Arguments every leaderboard view takes. */
const viewArgs = builder.args((t) => ({
  datasetVersionId: t.id({ required: true }),
  agent: t.string({ description: 'Only jobs of this agent (exact name).' }),
  model: t.string({ description: 'Only jobs of this model (exact model string).' }),
  includeInfrastructure: t.boolean({ defaultValue: false, description: INCLUDE_INFRASTRUCTURE }),
}));

function optionsOf(args: { agent?: string | null; model?: string | null; includeInfrastructure?: boolean | null; splitByAgentVersion?: boolean | null }): LeaderboardOptions {
  return {
    agent: args.agent || null,
    model: args.model || null,
    includeInfrastructure: args.includeInfrastructure ?? false,
    splitByAgentVersion: args.splitByAgentVersion ?? undefined,
  };
}

builder.queryField('leaderboard', (t) =>
  t.field({
    type: LeaderboardRef,
    description:
      "Every agent × model (× agent version) that ran this dataset version's tasks, in any job, ranked by accuracy with its standard error. " +
      'Runs of tasks outside the version are ignored. See `rule`.',
    errors: { types: [InvalidInputError, NotFoundError] },
    args: {
      ...viewArgs,
      splitByAgentVersion: t.arg.boolean({ defaultValue: true, description: 'One row per agent version too (Run.agentVersion; none recorded: "unknown").' }),
    },
    resolve: async (_root, args, ctx, info) => {
      const versionId = parseId(args.datasetVersionId, 'datasetVersionId');
      // The version and the board are read together: a version that does not exist has no runs either.
      const [version, board] = await Promise.all([selectedVersion(ctx, info, versionId), leaderboard(ctx.db, versionId, optionsOf(args))]);
      return present(ctx, info, board, version);
    },
  }),
);

builder.queryField('datasetHeatmap', (t) =>
  t.field({
    type: HeatmapRef,
    description: "The version's tasks × the leaderboard's agent × model columns: pass rate and trials per cell, difficulty, disagreement and flags per task.",
    errors: { types: [InvalidInputError, NotFoundError] },
    args: {
      ...viewArgs,
      splitByAgentVersion: t.arg.boolean({ defaultValue: false, description: 'One column per agent version too (default: agent × model).' }),
    },
    resolve: async (_root, args, ctx, info) => {
      const versionId = await requireDatasetVersion(ctx.db, args.datasetVersionId);
      const map = await heatmap(ctx.db, versionId, { ...optionsOf(args), splitByAgentVersion: args.splitByAgentVersion ?? false });
      const tasks = await selectedRows(ctx, info, ['tasks', 'task'], 'task', map.tasks.map((x) => x.taskId));
      return { ...map, tasks: map.tasks.map((x) => ({ ...x, task: tasks.get(x.taskId)! })) };
    },
  }),
);

builder.queryField('compareLeaderboardRows', (t) =>
  t.field({
    type: RowComparisonRef,
    description:
      'Two rows of the leaderboard (their keys) paired on their common tasks: mean reward of each, the difference with a 95% paired bootstrap interval, ' +
      'and an exact McNemar test on the tasks only one of them solves by majority.',
    errors: { types: [InvalidInputError, NotFoundError] },
    args: {
      datasetVersionId: t.arg.id({ required: true }),
      a: t.arg.string({ required: true, description: 'Row key (LeaderboardRow.key).' }),
      b: t.arg.string({ required: true, description: 'Row key; the difference is b − a.' }),
      includeInfrastructure: t.arg.boolean({ defaultValue: false, description: INCLUDE_INFRASTRUCTURE }),
    },
    resolve: async (_root, args, ctx, info) => {
      const versionId = await requireDatasetVersion(ctx.db, args.datasetVersionId);
      const comparison = await compareRows(ctx.db, versionId, args.a, args.b, { includeInfrastructure: args.includeInfrastructure ?? false });
      const ids = [...comparison.onlyATasks, ...comparison.onlyBTasks].map((x) => x.taskId);
      const [tasksA, tasksB] = await Promise.all([
        selectedRows(ctx, info, ['onlyATasks', 'task'], 'task', ids),
        selectedRows(ctx, info, ['onlyBTasks', 'task'], 'task', ids),
      ]);
      return {
        ...comparison,
        onlyATasks: comparison.onlyATasks.map((x) => ({ ...x, task: tasksA.get(x.taskId)! })),
        onlyBTasks: comparison.onlyBTasks.map((x) => ({ ...x, task: tasksB.get(x.taskId)! })),
      };
    },
  }),
);

builder.subscriptionField('leaderboardUpdated', (t) =>
  t.field({
    type: LeaderboardRef,
    description:
      'The leaderboard now, then again as runs of the version\'s tasks change (start, finish), at most one push per 2 s. Same arguments as `leaderboard`.',
    args: {
      ...viewArgs,
      splitByAgentVersion: t.arg.boolean({ defaultValue: true, description: 'As in `leaderboard`.' }),
    },
    subscribe: async (_root, args, ctx) => {
      const versionId = await requireDatasetVersion(ctx.db, args.datasetVersionId);
      return leaderboardUpdates(ctx, versionId, optionsOf(args));
    },
    resolve: (lb, _args, ctx, info) => present(ctx, info, lb),
  }),
);
