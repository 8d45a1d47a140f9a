// Every message on the wire, as zod schemas shared by the API and the runners (DESIGN.md §3).
// Each carries `v`, the protocol version; a reader rejects versions it does not know rather than
// guessing. Add fields as optional within a version; change `v` for anything incompatible.
import { z } from 'zod';
import { DEFAULT_SOURCE } from './layout.js';
import { capabilitiesSchema, ENVIRONMENT_TYPES } from './pools.js';

export { ENVIRONMENT_TYPES };

export const PROTOCOL_VERSION = 1;

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an id of letters, digits, - and _');
const isoTime = z.iso.datetime({ offset: true });


const multiplier = z.number().positive().max(100);

export const harborOptionsSchema = z.object({
  environmentType: z.enum(ENVIRONMENT_TYPES).default('docker'),
  timeoutMultiplier: multiplier.default(1),
  agentTimeoutMultiplier: multiplier.nullable().default(null),
  verifierTimeoutMultiplier: multiplier.nullable().default(null),
  agentSetupTimeoutMultiplier: multiplier.nullable().default(null),
  environmentBuildTimeoutMultiplier: multiplier.nullable().default(null),
  /** Harbor's own retries within one trial; 0 keeps one Harbor trial per Run. */
  maxRetries: z.number().int().min(0).max(10).default(0),
  /** Typed JSON passed as the agent's kwargs (e.g. temperature, max_turns). */
  agentKwargs: z.record(z.string(), z.json()).default({}),
  forceBuild: z.boolean().default(false),
});
export type HarborOptions = z.infer<typeof harborOptionsSchema>;

/** A provider key travels encrypted; only the runner holding the order decrypts it, in memory. */
export const sealedSecretSchema = z.object({
  /** The environment variable Harbor reads it from, e.g. OPENROUTER_API_KEY. */
  envVar: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/),
  /** base64(iv | tag | ciphertext), AES-256-GCM. */
  ciphertext: z.string().min(1).max(16_384),
});
export type SealedSecret = z.infer<typeof sealedSecretSchema>;

export const runOrderSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  runId: id,
  jobId: id,
  taskId: id,
  taskName: z.string().min(1).max(128),
  /** The task folder relative to TASKS_DIR (`<contentHash>/<name>`): each machine mounts it where it likes. */
  taskDir: z.string().regex(/^[0-9a-f]{64}\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, '<contentHash>/<task name>'),
  repeat: z.number().int().min(1),
  attempt: z.number().int().min(1),
  /**
   * 1 for the dispatcher's publish; the reconciler re-publishes an order that no delivery holds any
   * more with the next number. A run's deliveries are ordered by (dispatch, JetStream delivery count).
   */
  dispatch: z.number().int().min(1).default(1),
  agent: z.string().min(1).max(200),
  model: z.string().max(300).nullable(),
  harbor: harborOptionsSchema,
  secrets: z.array(sealedSecretSchema).max(8).default([]),
  /**
   * Keys this run is not given but that must never leave the runner in clear either (the server's
   * default keys, when the job brings its own): opened in memory only to scrub what it reports.
   */
  redact: z.array(sealedSecretSchema).max(16).default([]),
  /** Upper bound for the whole trial from the task's timeouts × multipliers; the runner's wall-clock guard adds slack. */
  maxDurationSec: z.number().positive().nullable().default(null),
  /** Dataset label Harbor records as `source`. */
  source: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).refine((s) => !s.includes('__'), 'no "__"').default(DEFAULT_SOURCE),
  // issue 16 item 11: regrade
  /**
   * Set for a regrade: Harbor re-runs only the verifier of `taskDir`'s task on the recorded agent output
   * of the source run's trial (relative to JOBS_DIR), as `harbor job regrade` does; the agent never runs.
   */
  regrade: z.object({ sourceTrialDir: z.string().min(1).max(500).refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'relative to JOBS_DIR, without ..') }).optional(),
});
export type RunOrder = z.infer<typeof runOrderSchema>;

export const RUN_OUTCOMES = ['PASSED', 'FAILED', 'ERRORED', 'CANCELLED'] as const;
export const FAILURE_KINDS = ['AGENT', 'INFRASTRUCTURE'] as const;

const count = z.number().int().min(0).nullable();

export const TEST_STATUSES = ['PASSED', 'FAILED', 'SKIPPED', 'OTHER'] as const;
/**
 * The reader a run's tests came from (runner/src/harbor/tests/): report files (ctrf.json, JUnit XML,
 * jest/vitest `--json`, `go test -json`) or the output in verifier/test-stdout.txt (pytest, unittest,
 * `go test -v`, cargo test / nextest). Issue 16 item 14 added all but the first two.
 */
export const TEST_SOURCES = ['ctrf', 'pytest', 'junit', 'jest', 'go', 'unittest', 'cargo'] as const;

/**
 * Bounds of a run's test results, so a finished event stays well inside NATS' 1 MiB payload:
 * 1,000 names of ≤ 300 characters plus ≤ 200,000 characters of messages is about half of it,
 * JSON-escaped. A TB2 task has a handful of tests; a suite beyond this is cut with a note.
 */
export const TEST_LIMITS = { cases: 1_000, nameChars: 300, messageChars: 2_000, messagesChars: 200_000, noteChars: 1_000 } as const;

export const testCaseSchema = z.object({
  name: z.string().min(1).max(TEST_LIMITS.nameChars),
  status: z.enum(TEST_STATUSES),
  durationMs: z.number().int().min(0).optional(),
  /**
   * The failure's text: the report's own assertion or trace (pytest-json-ctrf's generic `message` gives
   * way to its `trace`), else the reader's best line; several lines when it is a trace.
   */
  message: z.string().max(TEST_LIMITS.messageChars).optional(),
});
export type TestCase = z.infer<typeof testCaseSchema>;

/** What the verifier said test by test (harbor-contract.md §9): from a report file, else the test runner's output lines. */
export const testResultsSchema = z.object({
  /** null: the verifier left files, but no test could be read from them (the note says why). */
  source: z.enum(TEST_SOURCES).nullable(),
  passed: z.number().int().min(0),
  failed: z.number().int().min(0),
  skipped: z.number().int().min(0),
  total: z.number().int().min(0),
  /** In the report's order; may be fewer than `total` (cut, or a report without a list). */
  cases: z.array(testCaseSchema).max(TEST_LIMITS.cases),
  /** Why results are missing or incomplete: a file that could not be read, a list that was cut. */
  note: z.string().max(TEST_LIMITS.noteChars).optional(),
});
export type TestResults = z.infer<typeof testResultsSchema>;

export const REWARD_FLAGS = ['WRITTEN_BEFORE_VERIFIER', 'FILES_DISAGREE'] as const;
export const rewardFlagSchema = z.object({ kind: z.enum(REWARD_FLAGS), detail: z.string().max(1_000) });
export type RewardFlag = z.infer<typeof rewardFlagSchema>;
/**
 * Bounds of what a finished event carries of Harbor's trial record beyond the outcome (issue 16
 * item 3): a traceback's last 20,000 characters (the raise is at the end), a few dozen models and
 * metadata entries, and the steps of a multi-step task. Together well under 100 KB.
 */
export const DETAIL_LIMITS = {
  tracebackChars: 20_000, models: 50, metadataEntries: 50, metadataValueChars: 500, steps: 100, stepMessageChars: 2_000,
} as const;

const harborNumber = z.number().min(0).nullable();

/** Tokens and cost of one model the agent used (Harbor's agent_result.model_usage). */
export const modelUsageSchema = z.object({
  model: z.string().min(1).max(300),
  inputTokens: count,
  cacheTokens: count,
  outputTokens: count,
  costUsd: harborNumber,
});
export type ModelUsage = z.infer<typeof modelUsageSchema>;

/** Count, median, 95th percentile and maximum of a list of durations, instead of the list. */
export const durationSummarySchema = z.object({ count: z.number().int().min(0), medianMs: harborNumber, p95Ms: harborNumber, maxMs: harborNumber });
export type DurationSummary = z.infer<typeof durationSummarySchema>;

/** agent_result.metadata, bounded: its small scalar entries, API request times summarised, the rest named. */
export const agentMetadataSchema = z.object({
  values: z
    .record(z.string().max(100), z.union([z.string().max(DETAIL_LIMITS.metadataValueChars), z.number(), z.boolean(), z.null()]))
    .refine((v) => Object.keys(v).length <= DETAIL_LIMITS.metadataEntries, `at most ${DETAIL_LIMITS.metadataEntries} entries`),
  /** terminus-2's api_request_times_msec (one number per model call) as a summary. */
  apiRequestTimes: durationSummarySchema.nullable(),
  /** Keys whose values were lists or objects (e.g. all_messages), left out. */
  omittedKeys: z.array(z.string().max(100)).max(DETAIL_LIMITS.metadataEntries),
});
export type AgentMetadata = z.infer<typeof agentMetadataSchema>;

/** One step of a multi-step task (Harbor's step_results[]). */
export const stepResultSchema = z.object({
  name: z.string().max(200),
  /** The step's own reward: its `reward` key, else the only key, else the mean (as the run's). */
  reward: z.number().nullable(),
  rewards: z.record(z.string(), z.number()).nullable(),
  exceptionType: z.string().max(200).nullable(),
  exceptionMessage: z.string().max(DETAIL_LIMITS.stepMessageChars).nullable(),
  agentExecutionMs: count,
  verifierMs: count,
  inputTokens: count,
  outputTokens: count,
  costUsd: harborNumber,
});
export type StepResult = z.infer<typeof stepResultSchema>;

export const runResultSchema = z.object({
  status: z.enum(RUN_OUTCOMES),
  reward: z.number().nullable(),
  rewards: z.record(z.string(), z.number()).nullable(),
  exceptionType: z.string().max(200).nullable(),
  exceptionMessage: z.string().max(20_000).nullable(),
  failureKind: z.enum(FAILURE_KINDS).nullable(),
  inputTokens: count,
  cacheTokens: count,
  outputTokens: count,
  costUsd: z.number().min(0).nullable(),
  environmentSetupMs: count,
  agentSetupMs: count,
  agentExecutionMs: count,
  verifierMs: count,
  /** The trial directory relative to JOBS_DIR. */
  trialDir: z.string().max(500).nullable(),
  /** Per-test results when the verifier left a report; absent from runners older than this field. */
  tests: testResultsSchema.optional(),
  // issue 16 item 12: reward integrity
  /** The reward file may not be the verifier's (see runner/src/harbor/reward-integrity.ts); absent when it looked sound. */
  rewardFlag: rewardFlagSchema.optional(),
  // Issue 16 item 3: Harbor's record of the trial beyond the outcome; absent from older runners.
  agentVersion: z.string().max(200).nullable().optional(),
  modelUsage: z.array(modelUsageSchema).max(DETAIL_LIMITS.models).optional(),
  agentMetadata: agentMetadataSchema.nullable().optional(),
  exceptionTraceback: z.string().max(DETAIL_LIMITS.tracebackChars).nullable().optional(),
  exceptionOccurredAt: isoTime.nullable().optional(),
  /** "shared" or "separate": where the verifier ran; null for multi-step trials (resolved per step). */
  verifierEnvironmentMode: z.string().max(50).nullable().optional(),
  /** Multi-step tasks only: one entry per step that ran, in order. */
  steps: z.array(stepResultSchema).max(DETAIL_LIMITS.steps).optional(),
});
export type RunResult = z.infer<typeof runResultSchema>;

const eventBase = {
  v: z.literal(PROTOCOL_VERSION),
  runId: id,
  jobId: id,
  runnerId: z.string().min(1).max(128),
  /** The order's dispatch number (RunOrder.dispatch); absent from runners older than this field. */
  dispatch: z.number().int().min(1).default(1),
  /** JetStream delivery count of the order this runner is working on. */
  deliveryCount: z.number().int().min(1),
  at: isoTime,
};

/**
 * Why a runner handed an order back without an outcome (`released`): its own fault, not the run's.
 * The run goes back to QUEUED and another runner takes the redelivered order.
 */
export const RELEASE_REASONS = ['runner-unhealthy', 'shutdown'] as const;

export const runEventSchema = z.discriminatedUnion('type', [
  z.object({ ...eventBase, type: z.literal('claimed') }),
  z.object({ ...eventBase, type: z.literal('started'), trialDir: z.string().max(500).nullable() }),
  z.object({ ...eventBase, type: z.literal('finished'), result: runResultSchema }),
  /** The order's run was cancelled before it started (its cancellation record exists): Harbor never ran. */
  z.object({ ...eventBase, type: z.literal('dropped'), reason: z.literal('cancelled') }),
  /** The runner gave the order back unstarted or stopped it unfinished (see RELEASE_REASONS); it will be redelivered. */
  z.object({ ...eventBase, type: z.literal('released'), reason: z.enum(RELEASE_REASONS), message: z.string().max(2_000) }),
]);
export type RunEvent = z.infer<typeof runEventSchema>;

/** `platform`: what the API did to a run on its own (the reconciler re-publishing a lost order, …). */
export const LOG_SOURCES = ['harbor', 'trial', 'agent', 'verifier', 'runner', 'platform'] as const;

export const logChunkSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  runId: id,
  /** 1, 2, … per run and delivery, so a reader can tell a gap. */
  seq: z.number().int().min(1),
  lines: z
    .array(z.object({ source: z.enum(LOG_SOURCES), file: z.string().max(300).optional(), text: z.string(), at: isoTime }))
    .min(1),
});
export type LogChunk = z.infer<typeof logChunkSchema>;

export const runnerHeartbeatSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  runnerId: z.string().min(1).max(128),
  host: z.string().max(255),
  slots: z.number().int().min(0),
  busy: z.number().int().min(0),
  runIds: z.array(id),
  harborVersion: z.string().max(100).nullable(),
  dockerReachable: z.boolean().nullable(),
  lastError: z.string().max(2_000).nullable(),
  startedAt: isoTime,
  at: isoTime,
  draining: z.boolean(),
  /**
   * Set while the runner has found a fault of its own (JOBS_DIR not writable or full, Harbor
   * missing, Docker unreachable): it pulls no orders until a re-probe finds it healthy again.
   */
  degraded: z.object({ reason: z.string().max(2_000), since: isoTime }).nullable().default(null),
  // Issue 16 items 7–9: what the runner can serve; absent from runners older than routing (they served docker).
  capabilities: capabilitiesSchema.optional(),
});
export type RunnerHeartbeat = z.infer<typeof runnerHeartbeatSchema>;

/** A cancelled run's record in the cancelled bucket (key: run id), written by the API. */
export const cancellationSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  runId: id,
  jobId: id,
  reason: z.enum(['user', 'budget']),
  at: isoTime,
});
export type Cancellation = z.infer<typeof cancellationSchema>;

/** JetStream message id of a run order: a re-publish of the same dispatch is dropped as a duplicate. */
export function orderMsgId(runId: string, dispatch: number): string {
  return dispatch === 1 ? runId : `${runId}.p${dispatch}`;
}

/** JetStream message id of a run event: one per run, dispatch, delivery and type. */
export function eventMsgId(event: Pick<RunEvent, 'runId' | 'dispatch' | 'deliveryCount' | 'type'>): string {
  return `${event.runId}-p${event.dispatch}-d${event.deliveryCount}-${event.type}`;
}

export const cancelReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), runId: id, state: z.enum(['stopping', 'already-finished']) }),
  z.object({ ok: z.literal(false), code: z.enum(['NOT_HERE', 'BAD_REQUEST']), message: z.string() }),
]);
export type CancelReply = z.infer<typeof cancelReplySchema>;

/** Parses a message, naming the field at fault; used on every message that crosses the wire. */
export function decode<T>(schema: z.ZodType<T>, bytes: Uint8Array | string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes));
  } catch (error) {
    throw new ProtocolError(`${what} is not JSON: ${(error as Error).message}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ProtocolError(`${what} is malformed: ${issues}`);
  }
  return parsed.data;
}

export function encode<T>(value: T): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}
