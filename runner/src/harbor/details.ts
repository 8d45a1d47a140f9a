// What Harbor recorded of a trial beyond its outcome (issue 16 item 3), bounded for the wire: the
// agent's version, tokens and cost per model, the agent's metadata (small entries kept, request
// times summarised, lists named), the exception's traceback and time, where the verifier ran, and
// the steps of a multi-step task. Pure functions; the outcome itself is outcome.ts.
import { z } from 'zod';
import {
  DETAIL_LIMITS,
  type AgentMetadata,
  type DurationSummary,
  type ModelUsage,
  type RunResult,
  type StepResult,
} from '../protocol/messages.js';
import { durationMs, finiteRewards, primaryReward } from './outcome.js';
import { harborTimeMs, type AgentContext, type TrialResult } from './result.js';

export type TrialDetails = Required<
  Pick<RunResult, 'agentVersion' | 'modelUsage' | 'agentMetadata' | 'exceptionTraceback' | 'exceptionOccurredAt' | 'verifierEnvironmentMode' | 'steps'>
>;

const amount = z.number().finite().min(0).nullish().catch(null);
/**
 * One model's usage. Harbor's field names (n_input_tokens, …, as on agent_result) first; the
 * provider spellings an agent may pass through (input_tokens, inputTokens, …) are read too.
 */
const usageEntrySchema = z.looseObject({
  n_input_tokens: amount, input_tokens: amount, inputTokens: amount, prompt_tokens: amount,
  n_cache_tokens: amount, cache_tokens: amount, cacheReadInputTokens: amount, cached_tokens: amount,
  n_output_tokens: amount, output_tokens: amount, outputTokens: amount, completion_tokens: amount,
  cost_usd: amount, costUSD: amount, cost: amount,
});

const whole = (n: number | null | undefined): number | null => (n === null || n === undefined ? null : Math.round(n));
const first = (...values: (number | null | undefined)[]): number | null => values.find((v) => v !== null && v !== undefined) ?? null;

function usageOf(model: string, raw: unknown): ModelUsage | null {
  const entry = usageEntrySchema.safeParse(raw);
  if (!entry.success) return null;
  const e = entry.data;
  return {
    model: model.slice(0, 300),
    inputTokens: whole(first(e.n_input_tokens, e.input_tokens, e.inputTokens, e.prompt_tokens)),
    cacheTokens: whole(first(e.n_cache_tokens, e.cache_tokens, e.cacheReadInputTokens, e.cached_tokens)),
    outputTokens: whole(first(e.n_output_tokens, e.output_tokens, e.outputTokens, e.completion_tokens)),
    costUsd: first(e.cost_usd, e.costUSD, e.cost),
  };
}

/**
 * agent_result.model_usage as a list. Read leniently (see result.ts): a record keyed by model name,
 * or a list of entries naming their model (`model` / `model_name` / `name`). Entries that are not
 * objects are skipped; at most DETAIL_LIMITS.models are kept, in the order given.
 */
export function modelUsage(raw: unknown): ModelUsage[] {
  const out: ModelUsage[] = [];
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const named = item && typeof item === 'object' ? (item as Record<string, unknown>) : null;
      const model = named && [named.model, named.model_name, named.name].find((v): v is string => typeof v === 'string' && v !== '');
      const usage = model ? usageOf(model, item) : null;
      if (usage) out.push(usage);
    }
  } else if (raw && typeof raw === 'object') {
    for (const [model, value] of Object.entries(raw)) {
      const usage = model ? usageOf(model, value) : null;
      if (usage) out.push(usage);
    }
  }
  return out.slice(0, DETAIL_LIMITS.models);
}

/** The per-model usage of several agent runs (the steps of a multi-step trial), summed by model. */
function mergeUsage(lists: ModelUsage[][]): ModelUsage[] {
  const byModel = new Map<string, ModelUsage>();
  const add = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : a + b);
  for (const usage of lists.flat()) {
    const seen = byModel.get(usage.model);
    byModel.set(
      usage.model,
      seen
        ? {
            model: usage.model,
            inputTokens: add(seen.inputTokens, usage.inputTokens),
            cacheTokens: add(seen.cacheTokens, usage.cacheTokens),
            outputTokens: add(seen.outputTokens, usage.outputTokens),
            costUsd: add(seen.costUsd, usage.costUsd),
          }
        : usage,
    );
  }
  return [...byModel.values()].slice(0, DETAIL_LIMITS.models);
}

/** Count, median, p95 (nearest rank) and max of non-negative finite numbers; null when there are none. */
export function summarizeDurations(values: unknown): DurationSummary | null {
  if (!Array.isArray(values)) return null;
  const sorted = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const round = (n: number) => Math.round(n * 10) / 10;
  return { count: sorted.length, medianMs: round(median), p95Ms: round(rank(0.95)), maxMs: round(sorted[sorted.length - 1]!) };
}

/**
 * agent_result.metadata, bounded: scalars kept (strings cut), terminus-2's api_request_times_msec
 * summarised, lists and objects (all_messages can be megabytes) only named.
 */
export function agentMetadata(raw: Record<string, unknown> | null): AgentMetadata | null {
  if (!raw) return null;
  const values: AgentMetadata['values'] = {};
  const omittedKeys: string[] = [];
  let apiRequestTimes: DurationSummary | null = null;
  for (const [key, value] of Object.entries(raw)) {
    const name = key.slice(0, 100);
    if (key === 'api_request_times_msec') {
      apiRequestTimes = summarizeDurations(value);
    } else if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
      if (Object.keys(values).length < DETAIL_LIMITS.metadataEntries) values[name] = value;
    } else if (typeof value === 'string') {
      if (Object.keys(values).length < DETAIL_LIMITS.metadataEntries) values[name] = value.slice(0, DETAIL_LIMITS.metadataValueChars);
    } else if (omittedKeys.length < DETAIL_LIMITS.metadataEntries) {
      omittedKeys.push(name);
    }
  }
  return { values, apiRequestTimes, omittedKeys };
}

/** The last `max` characters: a traceback ends with the raise and the exception, the part people read. */
export function tracebackTail(text: string | null, max: number = DETAIL_LIMITS.tracebackChars): string | null {
  if (!text) return null;
  if (text.length <= max) return text;
  const marker = `… [${(text.length - max).toLocaleString('en-US')} earlier characters not shown]\n`;
  return marker + text.slice(text.length - max + marker.length);
}

function isoOrNull(time: string | null): string | null {
  const ms = time === null ? null : harborTimeMs(time);
  return ms === null ? null : new Date(ms).toISOString();
}

function count(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) || value < 0 ? null : Math.round(value);
}

function stepResult(step: NonNullable<TrialResult['step_results']>[number], index: number): StepResult {
  const rewards = finiteRewards(step.verifier_result);
  const agent: AgentContext | null = step.agent_result;
  const cost = agent?.cost_usd;
  return {
    name: (step.step_name ?? `step ${index + 1}`).slice(0, 200),
    reward: primaryReward(rewards),
    rewards,
    exceptionType: step.exception_info?.exception_type.slice(0, 200) ?? null,
    exceptionMessage: step.exception_info ? (step.exception_info.exception_message ?? '').slice(0, DETAIL_LIMITS.stepMessageChars) : null,
    agentExecutionMs: durationMs(step.agent_execution),
    verifierMs: durationMs(step.verifier),
    inputTokens: count(agent?.n_input_tokens),
    outputTokens: count(agent?.n_output_tokens),
    costUsd: cost === null || cost === undefined || !Number.isFinite(cost) || cost < 0 ? null : cost,
  };
}

/** The details of a trial result, ready for the finished event. */
export function trialDetails(result: TrialResult): TrialDetails {
  const steps = result.step_results ?? [];
  // Multi-step trials record the agent per step; the trial-level agent_result stays null there.
  const contexts = result.agent_result ? [result.agent_result] : steps.map((s) => s.agent_result).filter((c): c is AgentContext => c !== null);
  const exception = result.exception_info;
  return {
    agentVersion: result.agent_info.version?.slice(0, 200) ?? null,
    modelUsage: mergeUsage(contexts.map((c) => modelUsage(c.model_usage))),
    agentMetadata: agentMetadata(result.agent_result?.metadata ?? null),
    exceptionTraceback: tracebackTail(exception?.exception_traceback ?? null),
    exceptionOccurredAt: isoOrNull(exception?.occurred_at ?? null),
    verifierEnvironmentMode: result.verifier_environment_mode?.slice(0, 50) ?? null,
    steps: steps.slice(0, DETAIL_LIMITS.steps).map(stepResult),
  };
}
