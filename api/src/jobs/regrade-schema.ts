// GraphQL of regrades and reward integrity (issue 16 items 11-12): the regradeRuns mutation, and the
// Run fields that link a regrade and its source both ways and carry the runner's reward flag.
import { getRefFromModel } from '@pothos/plugin-prisma';
import { RewardFlag } from '../generated/prisma/enums.js';
import { auditRequest } from '../audit/context.js';
import { requireJobOwner } from '../auth/owners.js';
import { QuotaExceededError } from '../quotas/service.js';
import { builder } from '../schema/builder.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import { planned } from '../schema/planned.js';
import { REGRADE_SELECTIONS, regradeRuns, type RegradeSelection } from './regrade.js';

export const RewardFlagEnum = builder.enumType(RewardFlag, {
  name: 'RewardFlag',
  description:
    "Why a run's reward may have been written by the agent, not the verifier (in Harbor's default shared-verifier mode the agent " +
    'can write /logs/verifier/reward.json, which Harbor reads before reward.txt). Such runs count as unverified, never as passes.',
  values: {
    WRITTEN_BEFORE_VERIFIER: { description: "A reward file was last written before the verifier phase started (beyond 2 s of clock slack)." },
    FILES_DISAGREE: { description: 'reward.json and reward.txt both exist and give different rewards; Harbor used reward.json.' },
  },
});

const RegradeSelectionEnum = builder.enumType('RegradeSelection', {
  description: "Which finished runs regradeRuns regrades, by each run's current verdict (its latest scored regrade, else its own).",
  values: {
    FAILED: { description: 'Runs whose verdict is FAILED: the usual case after a broken test was fixed.' },
    ERRORED: { description: 'Runs that ERRORED (e.g. the verifier crashed) but left a trial with the agent output.' },
    ALL_FINISHED: { description: 'Every PASSED, FAILED and ERRORED run.' },
  } satisfies Record<RegradeSelection, { description: string }>,
});

/** The Run and Task types runs/schema.ts and tasks/schema.ts declare (prismaObject refs are one per model). */
const RunRef = getRefFromModel('Run', builder);
const TaskRef = getRefFromModel('Task', builder);

builder.prismaObjectFields('Run', (t) => ({
  regradeOf: t.field({
    type: RunRef,
    nullable: true,
    description: 'For a regrade: the run whose recorded agent output it graded again (the original verdict).',
    select: { regradeOfId: true },
    resolve: (run, _args, ctx) => (run.regradeOfId ? ctx.db.run.findUnique({ where: { id: run.regradeOfId } }) : null),
  }),
  regrades: t.field({
    type: [RunRef],
    description: 'Regrades of this run, oldest first; the latest one with a score is its current verdict.',
    select: { id: true },
    resolve: (run, _args, ctx) => ctx.db.run.findMany({ where: { regradeOfId: run.id }, orderBy: { attempt: 'asc' } }),
  }),
  regradeTask: t.field({
    type: TaskRef,
    nullable: true,
    description: "For a regrade: the task upload whose (current) tests graded it; its name is the run's task's.",
    select: { regradeTaskId: true },
    resolve: (run, _args, ctx) => (run.regradeTaskId ? ctx.db.task.findUnique({ where: { id: run.regradeTaskId } }) : null),
  }),
  rewardFlag: t.expose('rewardFlag', { type: RewardFlagEnum, nullable: true, description: 'Set when the reward may have been written by the agent.' }),
  rewardFlagDetail: t.exposeString('rewardFlagDetail', { nullable: true, description: 'What the runner found: the file, its time or the two rewards.' }),
}));

builder.mutationField('regradeRuns', (t) =>
  t.prismaField({
    type: 'Job',
    description:
      "Re-runs only the verifier of finished runs on the agent output they recorded, with the task's current tests (Harbor's regrade; " +
      'needs a Harbor release that has `harbor job regrade`, and a single-step task whose verifier runs in separate mode; `which` ' +
      'leaves runs of multi-step tasks out, and `runIds` naming one is refused). Give `which` or `runIds`. ' +
      'Each run is graded with the newest upload of its task name unless `taskIds` names the upload. A regrade is the new verdict of ' +
      'the same attempt: once it scores it counts instead of the run it regrades, never as another sample.',
    errors: { types: [NotFoundError, InvalidInputError, QuotaExceededError] },
    args: {
      jobId: t.arg.id({ required: true }),
      which: t.arg({ type: RegradeSelectionEnum }),
      runIds: t.arg.idList(),
      taskIds: t.arg.idList({ description: 'Uploads to grade with, at most one per task name; other names use their newest upload.' }),
    },
    resolve: async (query, _root, args, ctx) => {
      const id = parseId(args.jobId, 'jobId');
      await requireJobOwner(ctx, id, 'regrade runs of this job');
      if (args.which && !(args.which in REGRADE_SELECTIONS)) throw new InvalidInputError(`which must be one of ${Object.keys(REGRADE_SELECTIONS).join(', ')}`, 'which');
      const added = await regradeRuns(ctx, id, {
        which: (args.which as RegradeSelection | null | undefined) ?? null,
        runIds: args.runIds?.map((r, i) => parseId(r, `runIds.${i}`)) ?? null,
        taskIds: args.taskIds?.map((r, i) => parseId(r, `taskIds.${i}`)) ?? null,
      });
      await auditRequest(ctx, 'RUNS_REGRADED', { type: 'job', id }, { which: args.which ?? null, runs: added });
      ctx.kickDispatcher();
      return ctx.db.job.findUniqueOrThrow({ ...planned(query), where: { id } });
    },
  }),
);
