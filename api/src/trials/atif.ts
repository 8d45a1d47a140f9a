// ATIF trajectories (harbor-contract.md §9) turned into what a browser may see: the steps with their
// messages, reasoning, tool calls, observations and per-step metrics. Pure functions, no I/O.
//
// Tolerant by design: ATIF v1.0 to v1.7 differ in optional fields, agents other than terminus-2 fill
// them loosely, and the file is read while it is being rewritten. Every field is parsed on its own
// and a field of the wrong type becomes null instead of failing the step; unknown fields are
// dropped. Token-id arrays and logprobs are never read (they are not in the schema below), and
// `extra` objects are not passed on either: they are free-form and can be huge.
import { z } from 'zod';

/** Steps kept per trajectory (all files together): a long run has a few hundred; beyond this the page would crawl. */
export const MAX_STEPS = 2_000;
/** Characters kept of one message, reasoning or observation: a `cat` of a large file must not reach the browser whole. */
export const MAX_TEXT_CHARS = 32_000;
/** Characters kept of one string inside tool-call arguments (keystrokes of a heredoc can be long). */
export const MAX_ARGUMENT_CHARS = 8_000;

export interface ToolCall {
  id: string | null;
  functionName: string;
  /** The arguments as JSON (an object for terminus-2's bash_command: { keystrokes, duration }). */
  arguments: unknown;
}

export interface Observation {
  sourceCallId: string | null;
  content: string;
}

export interface TrajectoryStep {
  /** 0-based position in the whole trajectory, continuation files included. */
  index: number;
  stepId: number | null;
  timestamp: string | null;
  source: string;
  message: string;
  reasoning: string | null;
  toolCalls: ToolCall[];
  observations: Observation[];
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
  costUsd: number | null;
}

export interface FinalMetrics {
  totalPromptTokens: number | null;
  totalCompletionTokens: number | null;
  totalCachedTokens: number | null;
  totalCostUsd: number | null;
  totalSteps: number | null;
}

export interface Trajectory {
  schemaVersion: string | null;
  sessionId: string | null;
  agentName: string | null;
  agentVersion: string | null;
  modelName: string | null;
  steps: TrajectoryStep[];
  finalMetrics: FinalMetrics | null;
  /** Why the trajectory is missing, partial or empty; null when it was read whole. */
  note: string | null;
}

// ---- schema ------------------------------------------------------------------------------------

const optString = z.string().nullish().catch(null);
const optNumber = z.number().nullish().catch(null);
const optId = z.union([z.string(), z.number()]).nullish().catch(null);

const metricsSchema = z
  .object({
    prompt_tokens: optNumber,
    completion_tokens: optNumber,
    cached_tokens: optNumber,
    cost_usd: optNumber,
  })
  .nullish()
  .catch(null);

const toolCallSchema = z.object({
  tool_call_id: optId,
  function_name: optString,
  arguments: z.unknown().optional(),
});

const observationResultSchema = z.object({
  source_call_id: optId,
  content: z.unknown().optional(),
});

const stepSchema = z.object({
  step_id: optNumber,
  timestamp: optString,
  source: optString,
  model_name: optString,
  message: z.unknown().optional(),
  reasoning_content: z.unknown().optional(),
  tool_calls: z.array(z.unknown()).nullish().catch(null),
  observation: z
    .object({ results: z.array(z.unknown()).nullish().catch(null) })
    .nullish()
    .catch(null),
  metrics: metricsSchema,
});

const documentSchema = z.object({
  schema_version: optString,
  session_id: optString,
  agent: z
    .object({ name: optString, version: optString, model_name: optString })
    .nullish()
    .catch(null),
  steps: z.array(z.unknown()),
  final_metrics: z
    .object({
      total_prompt_tokens: optNumber,
      total_completion_tokens: optNumber,
      total_cached_tokens: optNumber,
      total_cost_usd: optNumber,
      total_steps: optNumber,
    })
    .nullish()
    .catch(null),
  continued_trajectory_ref: optString,
});

export interface ParsedFile {
  schemaVersion: string | null;
  sessionId: string | null;
  agentName: string | null;
  agentVersion: string | null;
  modelName: string | null;
  steps: Omit<TrajectoryStep, 'index'>[];
  finalMetrics: FinalMetrics | null;
  continuedRef: string | null;
  /** Steps that were not objects and were left out. */
  skipped: number;
}

/** One trajectory file's document; throws a sentence when it is not an ATIF trajectory at all. */
export function parseTrajectoryDocument(doc: unknown): ParsedFile {
  const parsed = documentSchema.safeParse(doc);
  if (!parsed.success) throw new Error('it is not an ATIF trajectory (no "steps" list)');
  const d = parsed.data;
  const steps: Omit<TrajectoryStep, 'index'>[] = [];
  let skipped = 0;
  for (const raw of d.steps) {
    const step = stepSchema.safeParse(raw);
    if (!step.success) {
      skipped++;
      continue;
    }
    steps.push(toStep(step.data));
  }
  const f = d.final_metrics;
  return {
    schemaVersion: d.schema_version ?? null,
    sessionId: d.session_id ?? null,
    agentName: d.agent?.name ?? null,
    agentVersion: d.agent?.version ?? null,
    modelName: d.agent?.model_name ?? null,
    steps,
    finalMetrics: f
      ? {
          totalPromptTokens: f.total_prompt_tokens ?? null,
          totalCompletionTokens: f.total_completion_tokens ?? null,
          totalCachedTokens: f.total_cached_tokens ?? null,
          totalCostUsd: f.total_cost_usd ?? null,
          totalSteps: f.total_steps ?? null,
        }
      : null,
    continuedRef: d.continued_trajectory_ref ?? null,
    skipped,
  };
}

function toStep(s: z.infer<typeof stepSchema>): Omit<TrajectoryStep, 'index'> {
  const toolCalls: ToolCall[] = [];
  for (const raw of s.tool_calls ?? []) {
    const call = toolCallSchema.safeParse(raw);
    if (!call.success) continue;
    toolCalls.push({
      id: call.data.tool_call_id == null ? null : String(call.data.tool_call_id),
      functionName: call.data.function_name ?? 'unknown',
      arguments: capStrings(parseArguments(call.data.arguments), MAX_ARGUMENT_CHARS),
    });
  }
  const observations: Observation[] = [];
  for (const raw of s.observation?.results ?? []) {
    const result = observationResultSchema.safeParse(raw);
    if (!result.success) continue;
    observations.push({
      sourceCallId: result.data.source_call_id == null ? null : String(result.data.source_call_id),
      content: cut(contentText(result.data.content), MAX_TEXT_CHARS),
    });
  }
  const reasoning = contentText(s.reasoning_content);
  return {
    stepId: s.step_id ?? null,
    timestamp: s.timestamp ?? null,
    source: s.source ?? 'unknown',
    message: cut(contentText(s.message), MAX_TEXT_CHARS),
    reasoning: reasoning ? cut(reasoning, MAX_TEXT_CHARS) : null,
    toolCalls,
    observations,
    promptTokens: s.metrics?.prompt_tokens ?? null,
    completionTokens: s.metrics?.completion_tokens ?? null,
    cachedTokens: s.metrics?.cached_tokens ?? null,
    costUsd: s.metrics?.cost_usd ?? null,
  };
}

/** A message or observation: a string, or content parts of which text parts are shown and others named. */
export function contentText(value: unknown): string {
  if (value == null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const parts = Array.isArray(value) ? value : [value];
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      if (!part || typeof part !== 'object') return '';
      const p = part as Record<string, unknown>;
      if (typeof p.text === 'string') return p.text;
      if (typeof p.content === 'string') return p.content;
      return typeof p.type === 'string' ? `[${p.type}]` : '';
    })
    .filter((text) => text !== '')
    .join('\n');
}

/** Older writers put the arguments in as a JSON string; an object is easier to show and compare. */
function parseArguments(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? {};
  const text = value.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) return value;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return value;
  }
}

/** Cuts long text, saying how much was left out. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n… [${(text.length - max).toLocaleString('en-US')} more characters not shown; the whole file is in the trial's files]`;
}

function capStrings(value: unknown, max: number, depth = 0): unknown {
  if (typeof value === 'string') return cut(value, max);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, 200).map((v) => capStrings(v, max, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value).slice(0, 100)) out[k] = capStrings(v, max, depth + 1);
  return out;
}

// ---- truncated files -----------------------------------------------------------------------------

/**
 * The complete steps of a trajectory cut off mid-write (or by a crash): the document up to the last
 * step that closed, with the brackets closed after it. Null when not even one step is complete.
 * Assumes the layout every ATIF writer uses: a root object whose `steps` array holds objects.
 */
export function salvageTruncated(text: string): unknown {
  const stack: string[] = [];
  let inString = false;
  let escaped = false;
  let lastStepEnd = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') stack.push(c);
    else if (c === '}' || c === ']') {
      stack.pop();
      // An object just closed inside an array that sits in the root object: a whole step.
      if (c === '}' && stack.length === 2 && stack[0] === '{' && stack[1] === '[') lastStepEnd = i;
    }
  }
  if (lastStepEnd < 0) return null;
  try {
    return JSON.parse(`${text.slice(0, lastStepEnd + 1)}]}`) as unknown;
  } catch {
    return null;
  }
}

/** Joins a trajectory's files (the first, then its continuations) into one, capped at MAX_STEPS. */
export function joinFiles(files: ParsedFile[], notes: string[]): Trajectory {
  const first = files[0];
  const steps: TrajectoryStep[] = [];
  let total = 0;
  let skipped = 0;
  for (const file of files) {
    skipped += file.skipped;
    for (const step of file.steps) {
      total++;
      if (steps.length < MAX_STEPS) steps.push({ ...step, index: steps.length });
    }
  }
  const all = [...notes];
  if (skipped > 0) all.push(`${skipped} step(s) were not objects and are left out.`);
  if (total > MAX_STEPS) all.push(`Showing the first ${MAX_STEPS.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} steps.`);
  const last = files[files.length - 1];
  return {
    schemaVersion: first?.schemaVersion ?? null,
    sessionId: first?.sessionId ?? null,
    agentName: first?.agentName ?? null,
    agentVersion: first?.agentVersion ?? null,
    modelName: first?.modelName ?? files.find((f) => f.modelName)?.modelName ?? null,
    steps,
    // The totals of the last file cover the whole run when the agent continued in new files.
    finalMetrics: last?.finalMetrics ?? null,
    note: all.length ? all.join(' ') : null,
  };
}
