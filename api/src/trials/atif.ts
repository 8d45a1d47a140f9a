// ATIF trajectories (harbor-contract.md §9) turned into what a browser may see: the steps with their
// messages, reasoning, tool calls, observations and per-step metrics. Pure functions, no I/O.
//
// Tolerant by design: ATIF v1.0 to v1.8 differ in optional fields, agents other than terminus-2 fill
// them loosely, and the file is read while it is being rewritten. Every field is parsed on its own
// and a field of the wrong type becomes null instead of failing the step; unknown fields are
// dropped. Token-id arrays and logprobs are never read (they are not in the schema below); the
// free-form `extra` objects of a step and of its metrics are kept only when small (atif-content.ts).
import { z } from 'zod';
import { boundedExtra, capStrings, contentText, cut, reasoningText } from './atif-content.js';

export { contentText, cut } from './atif-content.js';

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

/** A trajectory the step handed work to (terminus-2: the three files of a context summarisation). */
export interface SubTrajectoryRef {
  /** The file next to the trajectory (trajectory.summarization-N-<kind>.json), when it is one. */
  file: string | null;
  sessionId: string | null;
  /** What the delegation was, e.g. "Context summarization 1: Step 1 - Summary generation". */
  summary: string | null;
}

export interface TrajectoryStep {
  /** 0-based position in the whole trajectory, continuation files included. */
  index: number;
  stepId: number | null;
  timestamp: string | null;
  source: string;
  /** The model of this step when the agent named one (it may differ from the trajectory's). */
  modelName: string | null;
  message: string;
  reasoning: string | null;
  toolCalls: ToolCall[];
  observations: Observation[];
  promptTokens: number | null;
  completionTokens: number | null;
  cachedTokens: number | null;
  costUsd: number | null;
  /** metrics.extra, bounded: e.g. reasoning or cache-write tokens. */
  metricsExtra: Record<string, unknown> | null;
  /** step.extra, bounded: e.g. a tool's exit code and duration. */
  extra: Record<string, unknown> | null;
  /**
   * is_copied_context (ATIF v1.5+): a step repeated from an earlier file for context after a
   * summarisation, not new work. Shown folded, never counted as a step.
   */
  copied: boolean;
  subTrajectories: SubTrajectoryRef[];
}

export interface FinalMetrics {
  totalPromptTokens: number | null;
  totalCompletionTokens: number | null;
  totalCachedTokens: number | null;
  totalCostUsd: number | null;
  totalSteps: number | null;
}

/** A summarisation sub-trajectory found next to the trajectory, viewable on its own. */
export interface SubTrajectoryFile {
  /** trajectory.summarization-<index>-<kind>.json */
  file: string;
  index: number;
  /** summary, questions or answers (terminus-2's three subagents). */
  kind: string;
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
  /** Summarisation sub-trajectories in the agent folder, in order (trajectory.ts fills them). */
  subTrajectories: SubTrajectoryFile[];
  /** A JSON file that is not ATIF (e.g. a plain list of episodes), pretty-printed and bounded; null otherwise. */
  raw: string | null;
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
    extra: z.unknown().optional(),
  })
  .nullish()
  .catch(null);

const subagentRefSchema = z.object({ trajectory_path: optString, session_id: optString, extra: z.unknown().optional() });

const toolCallSchema = z.object({
  tool_call_id: optId,
  function_name: optString,
  arguments: z.unknown().optional(),
});

const observationResultSchema = z.object({
  source_call_id: optId,
  content: z.unknown().optional(),
  subagent_trajectory_ref: z.array(z.unknown()).nullish().catch(null),
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
  is_copied_context: z.boolean().nullish().catch(null),
  extra: z.unknown().optional(),
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
  const subTrajectories: SubTrajectoryRef[] = [];
  for (const raw of s.observation?.results ?? []) {
    const result = observationResultSchema.safeParse(raw);
    if (!result.success) continue;
    for (const ref of result.data.subagent_trajectory_ref ?? []) {
      const parsed = subagentRefSchema.safeParse(ref);
      if (parsed.success && subTrajectories.length < 20) subTrajectories.push(subTrajectoryRef(parsed.data));
    }
    // A result that only delegates (no content) is shown through its references, not as an empty output.
    if (result.data.content == null && result.data.subagent_trajectory_ref?.length) continue;
    observations.push({
      sourceCallId: result.data.source_call_id == null ? null : String(result.data.source_call_id),
      content: cut(contentText(result.data.content), MAX_TEXT_CHARS),
    });
  }
  const reasoning = reasoningText(s.reasoning_content);
  return {
    stepId: s.step_id ?? null,
    timestamp: s.timestamp ?? null,
    source: s.source ?? 'unknown',
    modelName: s.model_name ?? null,
    message: cut(contentText(s.message), MAX_TEXT_CHARS),
    reasoning: reasoning ? cut(reasoning, MAX_TEXT_CHARS) : null,
    toolCalls,
    observations,
    promptTokens: s.metrics?.prompt_tokens ?? null,
    completionTokens: s.metrics?.completion_tokens ?? null,
    cachedTokens: s.metrics?.cached_tokens ?? null,
    costUsd: s.metrics?.cost_usd ?? null,
    metricsExtra: boundedExtra(s.metrics?.extra),
    extra: boundedExtra(s.extra),
    copied: s.is_copied_context === true,
    subTrajectories,
  };
}

/** Summarisation files are named trajectory.summarization-<index>-<kind>.json (terminus-2). */
export const SUB_TRAJECTORY = /^trajectory\.summarization-(\d{1,4})-([a-z0-9_-]{1,40})\.json$/;

function subTrajectoryRef(ref: z.infer<typeof subagentRefSchema>): SubTrajectoryRef {
  // The path is written by the agent under test: only a sibling summarisation file is linked.
  const name = ref.trajectory_path ? ref.trajectory_path.slice(ref.trajectory_path.lastIndexOf('/') + 1) : null;
  const extra = ref.extra && typeof ref.extra === 'object' ? (ref.extra as Record<string, unknown>) : {};
  return {
    file: name && SUB_TRAJECTORY.test(name) ? name : null,
    sessionId: ref.session_id ? cut(ref.session_id, 200) : null,
    summary: typeof extra.summary === 'string' ? cut(extra.summary, 500) : null,
  };
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
    subTrajectories: [],
    raw: null,
  };
}

/** Characters of a non-ATIF JSON file shown as it is (pretty-printed). */
export const MAX_RAW_CHARS = 200_000;

/**
 * A trajectory file that is JSON but not ATIF (a plain list of episodes, a custom agent's log):
 * shown as it is, pretty-printed and bounded, with a note, rather than as "could not be read".
 */
export function rawTrajectory(doc: unknown, name: string): Trajectory {
  const pretty = JSON.stringify(doc, null, 2) ?? 'null';
  const shape = Array.isArray(doc) ? `a list of ${doc.length} item(s)` : doc !== null && typeof doc === 'object' ? 'an object without a "steps" list' : `a ${typeof doc}`;
  return {
    ...joinFiles([], []),
    raw: cut(pretty, MAX_RAW_CHARS),
    note: `${name} is JSON but not an ATIF trajectory (${shape}); it is shown as it is.`,
  };
}
