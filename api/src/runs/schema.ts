// GraphQL for a run (one Harbor trial): the Run type with every field people read of it — its outcome,
// its verifier tests, its log and trial files — and the run queries. Each field is thin over the
// service of the domain that owns the data (tests/, logs/, trials/); run state changes are lifecycle.ts.
import { AttemptRole, FailureKind, RunStatus } from '../generated/prisma/enums.js';
import type { Prisma } from '../generated/prisma/client.js';
import { builder } from '../schema/builder.js';
import { parseId } from '../schema/ids.js';
import { planned } from '../schema/planned.js';
import { TestsSourceEnum } from '../tests/schema.js';
import { agentLogEpisode, TRIAL_FILES } from 'runner/protocol';
import { fileUrl, listTrialFiles, trialDir, type TrialFile } from '../trials/files.js';
import { TrajectoryRef, TrialFileRef } from '../trials/schema.js';
import { readStepResults } from './details.js';
import { RUN_SECRET_SELECT } from '../trials/secrets.js';
import { findRunFile, readRunTrajectory } from '../trials/steps.js';
import { readSubTrajectory } from '../trials/trajectory.js';

export const RunStatusEnum = builder.enumType(RunStatus, { name: 'RunStatus' });
export const FailureKindEnum = builder.enumType(FailureKind, {
  name: 'FailureKind',
  description: 'Who is to blame for an ERRORED run: the agent, or the infrastructure (left out of pass rates by default).',
});
export const AttemptRoleEnum = builder.enumType(AttemptRole, {
  name: 'AttemptRole',
  description:
    'Which attempt of a repeat (task × repeat index) counts. A repeat counts its first fair try (PASSED, FAILED, or ERRORED by the agent); ' +
    'until it has one, its latest attempt.',
  values: {
    COUNTED: { description: 'The attempt the repeat counts in every figure: its first fair try, else its latest attempt.' },
    REPLACED: { description: 'An infrastructure error or a cancellation that a retry replaced: the agent never had a fair try.' },
    EXTRA: { description: "An attempt after the repeat's fair try: shown as best of N, never counted in pass rates, pass@k or comparisons." },
  },
});
builder.prismaObject('Run', {
  description: 'One Harbor trial of one task within a job.',
  fields: (t) => ({
    id: t.exposeID('id'),
    job: t.relation('job'),
    task: t.relation('task'),
    repeat: t.exposeInt('repeat', { description: '1-based repeat of the task within the job.' }),
    attempt: t.exposeInt('attempt', { description: '1 for the first try; retries add 1.' }),
    retryOfId: t.exposeID('retryOfId', { nullable: true }),
    attemptRole: t.expose('attemptRole', { type: AttemptRoleEnum, description: 'Whether this attempt is the one its repeat counts.' }),
    status: t.expose('status', { type: RunStatusEnum }),
    reward: t.exposeFloat('reward', { nullable: true }),
    rewards: t.field({ type: 'JSON', nullable: true, description: 'Raw verifier rewards.', resolve: (r) => r.rewards }),
    exceptionType: t.exposeString('exceptionType', { nullable: true }),
    exceptionMessage: t.string({
      nullable: true,
      // Runners scrub keys before reporting; redacting again covers runs recorded before they did.
      select: { exceptionMessage: true, ...RUN_SECRET_SELECT },
      resolve: (run, _args, ctx) => (run.exceptionMessage === null ? null : ctx.trialScrubbers(run).scrub(run.exceptionMessage)),
    }),
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

export const ATTEMPT_ROLE_FILTER = 'Only attempts with these roles, e.g. [COUNTED] for one run per (task, repeat); every attempt when unset.';

export function runWhere(args: { status?: RunStatus[] | null; taskId?: string | number | null; attemptRole?: AttemptRole[] | null }): Prisma.RunWhereInput {
  return {
    ...(args.status?.length ? { status: { in: args.status } } : {}),
    ...(args.attemptRole?.length ? { attemptRole: { in: args.attemptRole } } : {}),
    ...(args.taskId ? { taskId: parseId(args.taskId, 'taskId') } : {}),
  };
}

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
      attemptRole: t.arg({ type: [AttemptRoleEnum], description: ATTEMPT_ROLE_FILTER }),
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

// ---- verifier tests ----------------------------------------------------------------------------

builder.prismaObjectFields('Run', (t) => ({
  tests: t.relation('tests', {
    description: "The verifier's tests in the report's order (at most 1,000; testsNote says when some were left out).",
    query: { orderBy: { position: 'asc' } },
  }),
  testsPassed: t.exposeInt('testsPassed', { nullable: true, description: 'Passed tests of the whole suite; null when no test could be read.' }),
  testsFailed: t.exposeInt('testsFailed', { nullable: true }),
  testsTotal: t.exposeInt('testsTotal', { nullable: true }),
  testsSource: t.expose('testsSource', { type: TestsSourceEnum, nullable: true }),
  testsNote: t.exposeString('testsNote', {
    nullable: true,
    description:
      'Which file and reader the tests came from, and why any are missing or incomplete, e.g. "read from verifier/test-stdout.txt (pytest output); verifier/ctrf.json could not be read: it is not complete JSON (…)", or the line that shows the verifier crashed before any test ran.',
  }),
}));

// ---- log and trial files ------------------------------------------------------------------------

builder.prismaObjectField('Run', 'logUrl', (t) =>
  t.string({ description: 'The whole log as plain text, streamed (relative to the API).', resolve: (run) => `/runs/${run.id}/log` }),
);

builder.prismaObjectField('Run', 'filesUrl', (t) =>
  t.string({
    nullable: true,
    description: "The trial's directory (Harbor's files) as a zip, streamed; null until the trial has one.",
    select: { harborTrialDir: true },
    resolve: (run) => (run.harborTrialDir ? `/runs/${run.id}/files.zip` : null),
  }),
);

interface AgentLog extends TrialFile {
  runId: string;
  /** The step of a multi-step trial whose folder (steps/<step>/agent/) holds it; null for the trial's own agent/. */
  step: string | null;
  episode: number | null;
  rank: number;
}

const AgentLogRef = builder.objectRef<AgentLog>('AgentLog').implement({
  description: "One of an agent's text logs: <agent>.txt, or an episode's prompt.txt / response.txt (terminus-2).",
  fields: (t) => ({
    path: t.exposeString('path'),
    step: t.exposeString('step', { nullable: true, description: "The step of a multi-step task whose folder (steps/<step>/agent/) holds it; null for the trial's own agent/ folder." }),
    episode: t.exposeInt('episode', { nullable: true, description: 'The episode-N folder it is in, if any.' }),
    sizeBytes: t.exposeFloat('sizeBytes'),
    url: t.string({ resolve: (f) => fileUrl(f.runId, f.path) }),
  }),
});

builder.prismaObjectField('Run', 'trajectory', (t) =>
  t.field({
    type: TrajectoryRef,
    description:
      "The agent's steps, read from the trial directory on each request (the file is rewritten after every step while the " +
      'trial runs). Empty with a note when the agent writes no trajectory or the file cannot be read.',
    select: { harborTrialDir: true, stepResults: true, ...RUN_SECRET_SELECT },
    resolve: async (run, _args, ctx) =>
      readRunTrajectory(
        await trialDir(ctx.jobsDir, run.harborTrialDir),
        readStepResults(run.stepResults).map((s) => s.name),
        { scrub: ctx.trialScrubbers(run).scrub },
      ),
  }),
);

builder.prismaObjectField('Run', 'subTrajectory', (t) =>
  t.field({
    type: TrajectoryRef,
    description: 'One summarisation sub-trajectory of the agent (a name from Trajectory.subTrajectories), read like the trajectory.',
    args: { file: t.arg.string({ required: true, description: 'e.g. trajectory.summarization-1-summary.json' }) },
    select: { harborTrialDir: true, ...RUN_SECRET_SELECT },
    resolve: async (run, args, ctx) =>
      readSubTrajectory(await trialDir(ctx.jobsDir, run.harborTrialDir), args.file, { scrub: ctx.trialScrubbers(run).scrub }),
  }),
);

builder.prismaObjectField('Run', 'files', (t) =>
  t.field({
    type: [TrialFileRef],
    description: 'Every file of the trial directory, sorted by path (at most 2,000); empty until the trial has a directory.',
    select: { id: true, harborTrialDir: true },
    resolve: async (run, _args, ctx) => {
      const dir = await trialDir(ctx.jobsDir, run.harborTrialDir);
      if (!dir) return [];
      return (await listTrialFiles(dir)).files.map((f) => ({ ...f, runId: run.id }));
    },
  }),
);

builder.prismaObjectField('Run', 'agentLogs', (t) =>
  t.field({
    type: [AgentLogRef],
    description:
      "The agent's text logs, for agents without a trajectory: agent/<agent>.txt first, then the episodes in order. A " +
      "multi-step trial's are in its steps' folders (steps/<step>/agent/), step by step in the order they ran.",
    select: { id: true, harborTrialDir: true, stepResults: true },
    resolve: async (run, _args, ctx) => {
      const dir = await trialDir(ctx.jobsDir, run.harborTrialDir);
      if (!dir) return [];
      const logs: AgentLog[] = [];
      for (const f of (await listTrialFiles(dir)).files) {
        const log = agentLogEpisode(f.path);
        if (log) logs.push({ ...f, runId: run.id, ...log });
      }
      // The trial's own folder first, then the steps as they ran (a step not recorded last).
      const order = readStepResults(run.stepResults).map((s) => s.name);
      const stepRank = (step: string | null) => (step === null ? -1 : order.includes(step) ? order.indexOf(step) : order.length);
      return logs.sort(
        (x, y) => stepRank(x.step) - stepRank(y.step) || (x.episode ?? -1) - (y.episode ?? -1) || x.rank - y.rank || (x.path < y.path ? -1 : 1),
      );
    },
  }),
);

builder.prismaObjectField('Run', 'recordingUrl', (t) =>
  t.string({
    nullable: true,
    description:
      "The terminal recording (agent/recording.cast, asciicast v2), streamed; a multi-step trial's last step's " +
      '(steps/<step>/agent/recording.cast) once the steps are filed; null when the trial has none.',
    select: { id: true, harborTrialDir: true, stepResults: true },
    resolve: async (run, _args, ctx) => {
      const dir = await trialDir(ctx.jobsDir, run.harborTrialDir);
      if (!dir) return null;
      const found = await findRunFile(dir, readStepResults(run.stepResults).map((s) => s.name), TRIAL_FILES.recording);
      if (!found) return null;
      return found.step === null ? `/runs/${run.id}/recording.cast` : fileUrl(run.id, found.relative);
    },
  }),
);
