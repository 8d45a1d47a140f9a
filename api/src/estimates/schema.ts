// GraphQL for the cost estimate of a launch: a thin type over service.ts.
import { builder } from '../schema/builder.js';
import { InvalidInputError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import { TaskFilterInput } from '../tasks/schema.js';
import { estimateJob, type JobEstimate } from './service.js';

const JobEstimateRef = builder.objectRef<JobEstimate>('JobEstimate').implement({
  description:
    'What a launch would cost and how much trial time it would take, from the runs this platform already recorded for the same agent and ' +
    'model: each task from its own earlier runs when it has some, the others from the mean run of all tasks. Cancelled runs are left out.',
  fields: (t) => ({
    agent: t.exposeString('agent'),
    model: t.exposeString('model', { nullable: true }),
    tasks: t.exposeInt('tasks', { description: 'Tasks the selection covers.' }),
    runs: t.exposeInt('runs', { description: 'Trials the launch would start: tasks × runsPerTask.' }),
    costUsd: t.exposeFloat('costUsd', { nullable: true, description: 'Estimated cost in US dollars; null when no earlier run of this agent and model recorded a cost.' }),
    costPerRunUsd: t.exposeFloat('costPerRunUsd', { nullable: true, description: 'costUsd ÷ runs.' }),
    costBasisRuns: t.exposeInt('costBasisRuns', { description: 'Earlier finished runs of this agent and model that recorded a cost: what the estimate rests on.' }),
    tasksWithOwnCost: t.exposeInt('tasksWithOwnCost', { description: 'Selected tasks estimated from their own earlier runs; the rest from the mean run.' }),
    trialSeconds: t.exposeFloat('trialSeconds', {
      nullable: true,
      description: 'Summed trial time (each trial from start to finish); divide by the runner slots for wall time. Null without timed earlier runs.',
    }),
    timeBasisRuns: t.exposeInt('timeBasisRuns', { description: 'Earlier finished runs of this agent and model with a start and a finish.' }),
  }),
});

const JobEstimateInput = builder.inputType('JobEstimateInput', {
  description: "The parts of CreateJobInput an estimate depends on; createJob's rules apply to them.",
  fields: (t) => ({
    taskIds: t.idList({ description: 'The tasks to run; or give taskFilter.' }),
    taskFilter: t.field({ type: TaskFilterInput, description: 'Every task matching this library filter.' }),
    agent: t.string({ required: true }),
    model: t.string(),
    runsPerTask: t.int({ required: true, defaultValue: 1, description: '1 to 100.' }),
  }),
});

builder.queryField('jobEstimate', (t) =>
  t.field({
    type: JobEstimateRef,
    description: 'Estimates the cost and trial time of a launch before it is made (the New job page shows it beside the budget).',
    errors: { types: [InvalidInputError] },
    args: { input: t.arg({ type: JobEstimateInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      estimateJob(ctx.db, { ...input, taskIds: input.taskIds?.map((id, i) => parseId(id, `input.taskIds.${i}`)) }),
  }),
);
