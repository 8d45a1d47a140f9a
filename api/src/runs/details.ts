// GraphQL for what Harbor recorded of a run beyond its outcome (issue 16 item 3): the agent's
// version, tokens and cost per model, the agent's metadata, the exception's traceback and time,
// where the verifier ran, and the steps of a multi-step task. Thin: the runner bounds and scrubs
// them (runner/src/harbor/details.ts); the JSON columns are read back through the wire's schemas.
import { agentMetadataSchema, modelUsageSchema, stepResultSchema, type AgentMetadata, type DurationSummary, type ModelUsage, type StepResult } from 'runner/protocol';
import { z } from 'zod';
import { builder } from '../schema/builder.js';
import { RUN_SECRET_SELECT } from '../trials/secrets.js';

/** A stored JSON column as its wire shape; anything else (hand-edited, a future shape) reads as absent. */
function stored<T>(schema: z.ZodType<T>, value: unknown): T | null {
  if (value === null || value === undefined) return null;
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export const readModelUsage = (value: unknown): ModelUsage[] => stored(z.array(modelUsageSchema), value) ?? [];
export const readAgentMetadata = (value: unknown): AgentMetadata | null => stored(agentMetadataSchema, value);
export const readStepResults = (value: unknown): StepResult[] => stored(z.array(stepResultSchema), value) ?? [];

const ModelUsageRef = builder.objectRef<ModelUsage>('ModelUsage').implement({
  description: "Tokens and cost of one model the agent used (Harbor's agent_result.model_usage).",
  fields: (t) => ({
    model: t.exposeString('model'),
    inputTokens: t.exposeFloat('inputTokens', { nullable: true, description: 'Input tokens, cache included.' }),
    cacheTokens: t.exposeFloat('cacheTokens', { nullable: true }),
    outputTokens: t.exposeFloat('outputTokens', { nullable: true }),
    costUsd: t.exposeFloat('costUsd', { nullable: true }),
  }),
});

const DurationSummaryRef = builder.objectRef<DurationSummary>('DurationSummary').implement({
  description: 'A list of durations summarised: how many, median, 95th percentile (nearest rank) and maximum.',
  fields: (t) => ({
    count: t.exposeInt('count'),
    medianMs: t.exposeFloat('medianMs', { nullable: true }),
    p95Ms: t.exposeFloat('p95Ms', { nullable: true }),
    maxMs: t.exposeFloat('maxMs', { nullable: true }),
  }),
});

const AgentMetadataRef = builder.objectRef<AgentMetadata>('AgentMetadata').implement({
  description: "The agent's own metadata (agent_result.metadata), bounded: small entries kept, request times summarised, lists named.",
  fields: (t) => ({
    values: t.field({
      type: 'JSON',
      description: 'Its scalar entries, e.g. { "n_episodes": 37, "summarization_count": 1 }; strings cut at 500 characters.',
      resolve: (m) => m.values,
    }),
    apiRequestTimes: t.expose('apiRequestTimes', { type: DurationSummaryRef, nullable: true, description: "terminus-2's time per model request." }),
    omittedKeys: t.exposeStringList('omittedKeys', { description: 'Entries that were lists or objects (e.g. all_messages), left out.' }),
  }),
});

const RunStepResultRef = builder.objectRef<StepResult>('RunStepResult').implement({
  description: 'One step of a multi-step task as it ran: its own reward, exception and timings.',
  fields: (t) => ({
    name: t.exposeString('name'),
    reward: t.exposeFloat('reward', { nullable: true }),
    rewards: t.field({ type: 'JSON', nullable: true, resolve: (s) => s.rewards }),
    exceptionType: t.exposeString('exceptionType', { nullable: true }),
    exceptionMessage: t.exposeString('exceptionMessage', { nullable: true }),
    agentExecutionMs: t.exposeInt('agentExecutionMs', { nullable: true }),
    verifierMs: t.exposeInt('verifierMs', { nullable: true }),
    inputTokens: t.exposeFloat('inputTokens', { nullable: true }),
    outputTokens: t.exposeFloat('outputTokens', { nullable: true }),
    costUsd: t.exposeFloat('costUsd', { nullable: true }),
  }),
});

builder.prismaObjectFields('Run', (t) => ({
  agentVersion: t.exposeString('agentVersion', { nullable: true, description: "The agent's version as Harbor recorded it (agent_info.version)." }),
  modelUsage: t.field({
    type: [ModelUsageRef],
    description: 'Tokens and cost per model, when the agent reports them; empty otherwise (the totals are on the run).',
    select: { modelUsage: true },
    resolve: (run) => readModelUsage(run.modelUsage),
  }),
  agentMetadata: t.field({
    type: AgentMetadataRef,
    nullable: true,
    select: { agentMetadata: true },
    resolve: (run) => readAgentMetadata(run.agentMetadata),
  }),
  exceptionTraceback: t.string({
    nullable: true,
    description: "The end of Harbor's traceback (at most 20,000 characters), provider keys redacted.",
    // Runners scrub keys before reporting; redacting again covers anything they missed.
    select: { exceptionTraceback: true, ...RUN_SECRET_SELECT },
    resolve: (run, _args, ctx) => (run.exceptionTraceback === null ? null : ctx.trialScrubbers(run).scrub(run.exceptionTraceback)),
  }),
  exceptionOccurredAt: t.expose('exceptionOccurredAt', { type: 'DateTime', nullable: true }),
  verifierEnvironmentMode: t.exposeString('verifierEnvironmentMode', {
    nullable: true,
    description: 'Where the verifier ran: "shared" (the agent\'s container) or "separate"; null for multi-step tasks and older runs.',
  }),
  stepResults: t.field({
    type: [RunStepResultRef],
    description: 'Multi-step tasks: each step that ran, in order (the run\'s reward is their mean or the last one\'s, per the task); empty otherwise.',
    select: { stepResults: true, ...RUN_SECRET_SELECT },
    resolve: (run, _args, ctx) => {
      const scrubber = ctx.trialScrubbers(run);
      return readStepResults(run.stepResults).map((s) => ({ ...s, exceptionMessage: s.exceptionMessage === null ? null : scrubber.scrub(s.exceptionMessage) }));
    },
  }),
}));
