// GraphQL types of what is inside a trial (trajectory steps, files, agent logs; the Run fields that
// serve them are in runs/schema.ts) and two attempts of a task compared. Thin: the reading is in
// trajectory.ts and files.ts, the comparison in compare.ts.
import { builder } from '../schema/builder.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import type { FinalMetrics, Observation, SubTrajectoryFile, SubTrajectoryRef, ToolCall, Trajectory, TrajectoryStep } from './atif.js';
import { alignTrajectories, type AlignedStep, type Divergence } from './compare.js';
import { fileUrl, trialDir, type TrialFile } from './files.js';
import { RUN_SECRET_SELECT } from './secrets.js';
import { readTrajectory } from './trajectory.js';

const ToolCallRef = builder.objectRef<ToolCall>('ToolCall').implement({
  description: 'A tool the agent called in a step (terminus-2: bash_command with { keystrokes, duration }).',
  fields: (t) => ({
    id: t.exposeString('id', { nullable: true }),
    functionName: t.exposeString('functionName'),
    arguments: t.field({
      type: 'JSON',
      description: 'The arguments as the agent gave them; strings longer than 8,000 characters are cut with a marker.',
      resolve: (c) => c.arguments,
    }),
  }),
});

const ObservationRef = builder.objectRef<Observation>('Observation').implement({
  description: 'What came back to the agent, e.g. the terminal after a command.',
  fields: (t) => ({
    sourceCallId: t.exposeString('sourceCallId', { nullable: true, description: 'The tool call it answers.' }),
    content: t.exposeString('content', { description: 'Text; longer than 32,000 characters is cut with a marker.' }),
  }),
});

const SubTrajectoryLinkRef = builder.objectRef<SubTrajectoryRef>('SubTrajectoryLink').implement({
  description: 'A trajectory a step handed work to, e.g. one of the three subagents of a terminus-2 context summarisation.',
  fields: (t) => ({
    file: t.exposeString('file', { nullable: true, description: 'Its file beside the trajectory, readable with Run.subTrajectory; null when it is elsewhere.' }),
    sessionId: t.exposeString('sessionId', { nullable: true }),
    summary: t.exposeString('summary', { nullable: true }),
  }),
});

const SubTrajectoryFileRef = builder.objectRef<SubTrajectoryFile>('SubTrajectoryFile').implement({
  description: 'A summarisation sub-trajectory in the agent folder (trajectory.summarization-<index>-<kind>.json).',
  fields: (t) => ({
    file: t.exposeString('file'),
    index: t.exposeInt('index', { description: 'Which summarisation (1, 2, …).' }),
    kind: t.exposeString('kind', { description: 'summary, questions or answers for terminus-2.' }),
  }),
});

const TrajectoryStepRef = builder.objectRef<TrajectoryStep>('TrajectoryStep').implement({
  description: 'One step of an ATIF trajectory. Token-id arrays and logprobs are never sent.',
  fields: (t) => ({
    index: t.exposeInt('index', { description: '0-based position in the whole trajectory, continuation files included.' }),
    stepId: t.exposeInt('stepId', { nullable: true }),
    timestamp: t.exposeString('timestamp', { nullable: true, description: 'ISO 8601, as the agent wrote it.' }),
    source: t.exposeString('source', { description: 'system, user or agent.' }),
    message: t.exposeString('message'),
    reasoning: t.exposeString('reasoning', { nullable: true }),
    toolCalls: t.expose('toolCalls', { type: [ToolCallRef] }),
    observations: t.expose('observations', { type: [ObservationRef] }),
    promptTokens: t.exposeInt('promptTokens', { nullable: true }),
    completionTokens: t.exposeInt('completionTokens', { nullable: true }),
    cachedTokens: t.exposeInt('cachedTokens', { nullable: true }),
    costUsd: t.exposeFloat('costUsd', { nullable: true }),
    modelName: t.exposeString('modelName', { nullable: true, description: "This step's model, when the agent named one; it may differ from the trajectory's." }),
    metricsExtra: t.field({
      type: 'JSON',
      nullable: true,
      description: 'metrics.extra (e.g. reasoning or cache-write tokens); strings cut at 500 characters, a note instead when over 4,000 characters of JSON.',
      resolve: (s) => s.metricsExtra,
    }),
    extra: t.field({ type: 'JSON', nullable: true, description: 'step.extra (e.g. tool exit codes, durations), bounded like metricsExtra.', resolve: (s) => s.extra }),
    copied: t.exposeBoolean('copied', {
      description: 'A step repeated from an earlier file for context after a summarisation (is_copied_context): not new work, not counted.',
    }),
    subTrajectories: t.expose('subTrajectories', { type: [SubTrajectoryLinkRef], description: 'Trajectories this step handed work to.' }),
  }),
});

const FinalMetricsRef = builder.objectRef<FinalMetrics>('TrajectoryMetrics').implement({
  fields: (t) => ({
    totalPromptTokens: t.exposeFloat('totalPromptTokens', { nullable: true }),
    totalCompletionTokens: t.exposeFloat('totalCompletionTokens', { nullable: true }),
    totalCachedTokens: t.exposeFloat('totalCachedTokens', { nullable: true }),
    totalCostUsd: t.exposeFloat('totalCostUsd', { nullable: true }),
    totalSteps: t.exposeInt('totalSteps', { nullable: true }),
  }),
});

export const TrajectoryRef = builder.objectRef<Trajectory>('Trajectory').implement({
  description: "The agent's trajectory (agent/trajectory.json and its continuation files), read when asked.",
  fields: (t) => ({
    schemaVersion: t.exposeString('schemaVersion', { nullable: true, description: 'e.g. ATIF-v1.6.' }),
    sessionId: t.exposeString('sessionId', { nullable: true }),
    agentName: t.exposeString('agentName', { nullable: true }),
    agentVersion: t.exposeString('agentVersion', { nullable: true }),
    modelName: t.exposeString('modelName', { nullable: true }),
    steps: t.expose('steps', { type: [TrajectoryStepRef], description: 'At most 2,000 steps; the note says when more were left out.' }),
    finalMetrics: t.expose('finalMetrics', { type: FinalMetricsRef, nullable: true }),
    note: t.exposeString('note', {
      nullable: true,
      description: 'Why the trajectory is missing, partial, empty or raw (no file, truncated, malformed, too large, not ATIF); null when read whole.',
    }),
    subTrajectories: t.expose('subTrajectories', {
      type: [SubTrajectoryFileRef],
      description: 'The summarisation sub-trajectories beside it, in order; each readable with Run.subTrajectory.',
    }),
    raw: t.exposeString('raw', {
      nullable: true,
      description: 'A file that is JSON but not ATIF (e.g. a list of episodes), pretty-printed, at most 200,000 characters; steps are then empty.',
    }),
  }),
});

export const TrialFileRef = builder.objectRef<TrialFile & { runId: string }>('TrialFile').implement({
  description: "A file of a run's trial directory.",
  fields: (t) => ({
    path: t.exposeString('path', { description: 'Relative to the trial directory, e.g. agent/trajectory.json.' }),
    sizeBytes: t.exposeFloat('sizeBytes'),
    modifiedAt: t.expose('modifiedAt', { type: 'DateTime' }),
    url: t.string({ description: 'The file alone, streamed (relative to the API).', resolve: (f) => fileUrl(f.runId, f.path) }),
  }),
});

// ---- attempt vs attempt ------------------------------------------------------------------------

const DivergenceKindEnum = builder.enumType('DivergenceKind', {
  values: {
    COMMANDS: { description: 'The tool-call commands (keystrokes) of an aligned pair of agent steps differ.' },
    LENGTH: { description: 'One attempt has an agent step where the other had already stopped.' },
    OUTCOME: { description: 'Every aligned step ran the same commands, but the outcomes differ.' },
  } satisfies Record<Divergence['kind'], { description: string }>,
});

const DivergenceRef = builder.objectRef<Divergence>('Divergence').implement({
  description: 'The first point where two attempts went apart.',
  fields: (t) => ({
    stepIndex: t.exposeInt('stepIndex', { nullable: true, description: 'The aligned pair (0-based); null when only the outcomes differ.' }),
    kind: t.expose('kind', { type: DivergenceKindEnum }),
    reason: t.exposeString('reason'),
  }),
});

const AlignedStepRef = builder.objectRef<AlignedStep>('AlignedStep').implement({
  description: "The i-th agent step of each attempt, side by side; null on the side that had no i-th step.",
  fields: (t) => ({
    index: t.exposeInt('index'),
    a: t.expose('a', { type: TrajectoryStepRef, nullable: true }),
    b: t.expose('b', { type: TrajectoryStepRef, nullable: true }),
    diverges: t.exposeBoolean('diverges'),
  }),
});

interface Comparison {
  aId: string;
  bId: string;
  steps: AlignedStep[];
  firstDivergence: Divergence | null;
  notes: { a: string | null; b: string | null };
}

const RunComparisonRef = builder.objectRef<Comparison>('RunComparison').implement({
  description:
    'Two attempts of one task side by side. Agent steps are aligned by their order; a pair diverges when its ' +
    'tool-call commands differ or only one attempt has a step there.',
  fields: (t) => ({
    a: t.prismaField({
      type: 'Run',
      resolve: (query, c, _args, ctx) => ctx.db.run.findUniqueOrThrow({ ...query, where: { id: c.aId } }),
    }),
    b: t.prismaField({
      type: 'Run',
      resolve: (query, c, _args, ctx) => ctx.db.run.findUniqueOrThrow({ ...query, where: { id: c.bId } }),
    }),
    steps: t.expose('steps', { type: [AlignedStepRef] }),
    firstDivergence: t.expose('firstDivergence', { type: DivergenceRef, nullable: true }),
    trajectoryNoteA: t.string({ nullable: true, description: "The note of A's trajectory, when it is missing or partial.", resolve: (c) => c.notes.a }),
    trajectoryNoteB: t.string({ nullable: true, description: "The note of B's trajectory, when it is missing or partial.", resolve: (c) => c.notes.b }),
  }),
});

builder.queryField('compareRuns', (t) =>
  t.field({
    type: RunComparisonRef,
    description: 'Compares two attempts (runs) of the same task: outcomes, and trajectories aligned step by step with the first divergence.',
    errors: { types: [NotFoundError, InvalidInputError] },
    args: { a: t.arg.id({ required: true }), b: t.arg.id({ required: true }) },
    resolve: async (_root, args, ctx) => {
      const aId = parseId(args.a, 'a');
      const bId = parseId(args.b, 'b');
      if (aId === bId) throw new InvalidInputError('a and b are the same run: pick another attempt of the task to compare with.', 'b');
      const select = { id: true, taskId: true, status: true, reward: true, harborTrialDir: true, task: { select: { name: true } }, ...RUN_SECRET_SELECT } as const;
      const [ra, rb] = await Promise.all([
        ctx.db.run.findUnique({ where: { id: aId }, select }),
        ctx.db.run.findUnique({ where: { id: bId }, select }),
      ]);
      if (!ra) throw new NotFoundError('run', aId);
      if (!rb) throw new NotFoundError('run', bId);
      if (ra.taskId !== rb.taskId) {
        throw new InvalidInputError(
          `Run a is of task "${ra.task.name}" and run b of task "${rb.task.name}": only attempts of the same task can be compared.`,
          'b',
        );
      }
      const trajectoryOf = async (run: typeof ra) =>
        readTrajectory(await trialDir(ctx.jobsDir, run.harborTrialDir), { scrub: ctx.trialScrubbers(run).scrub });
      const [ta, tb] = await Promise.all([trajectoryOf(ra), trajectoryOf(rb)]);
      const alignment = alignTrajectories(ta, tb, {
        a: { status: ra.status, reward: ra.reward },
        b: { status: rb.status, reward: rb.reward },
      });
      return { aId, bId, ...alignment, notes: { a: ta.note, b: tb.note } };
    },
  }),
);
