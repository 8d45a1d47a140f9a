// Harbor's trial and job result.json (harbor-contract.md §5), read leniently: every older form in
// §1 is accepted, a missing key reads as null (as Harbor's own loader does), unknown keys are
// ignored. Only what identifies a trial is required: task_name, trial_name, agent_info.name, and
// for a job its id, started_at and n_total_trials.
import { z } from 'zod';

/** ISO 8601 as Harbor writes it: fractional seconds optional; `Z`, an offset, or none (naive). */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Milliseconds since the epoch for a Harbor timestamp, or null when it is not one. A naive
 * timestamp is read as UTC: job times are the Harbor host's local time, which we cannot know, so
 * only differences between two naive times are meaningful.
 */
export function harborTimeMs(iso: string): number | null {
  const m = ISO_TIME.exec(iso);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0;
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0), ms);
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0)) * 60_000;
  }
  return Number.isNaN(t) ? null : t;
}

/** A key that may be absent or null reads as null. */
const orNull = <T extends z.ZodType>(schema: T) => schema.nullable().default(null);

const isoTime = z.string().refine((s) => harborTimeMs(s) !== null, 'expected an ISO 8601 timestamp');
// pydantic writes NaN and ±Infinity as null.
const number = z.number();
const looseNumber = z.number().nullable();

const timingSchema = z.object({
  started_at: orNull(isoTime),
  finished_at: orNull(isoTime),
});

const exceptionInfoSchema = z.object({
  exception_type: z.string(),
  exception_message: orNull(z.string()),
  exception_traceback: orNull(z.string()),
  occurred_at: orNull(isoTime),
});

const agentContextSchema = z.object({
  n_input_tokens: orNull(number),
  n_cache_tokens: orNull(number),
  n_output_tokens: orNull(number),
  cost_usd: orNull(number),
  // Token-id arrays can be huge: kept, but not validated element by element.
  rollout_details: orNull(z.array(z.unknown())),
  metadata: orNull(z.record(z.string(), z.unknown())),
  // Tokens and cost per model (newer Harbor). Its exact shape is not in any Harbor source we could
  // read, so it is taken as it comes and normalised leniently in details.ts.
  model_usage: orNull(z.unknown()),
});

const verifierResultSchema = z.object({
  rewards: orNull(z.record(z.string(), looseNumber)),
});

const taskIdSchema = z.union([
  z.object({ git_url: z.string(), git_commit_id: orNull(z.string()), path: z.string() }),
  z.object({ org: z.string(), name: z.string(), ref: orNull(z.string()) }),
  z.object({ path: z.string() }),
]);

const stepResultSchema = z.object({
  step_name: orNull(z.string()),
  agent_result: orNull(agentContextSchema),
  verifier_result: orNull(verifierResultSchema),
  exception_info: orNull(exceptionInfoSchema),
  agent_execution: orNull(timingSchema),
  verifier: orNull(timingSchema),
});

export const trialResultSchema = z.object({
  id: orNull(z.string()),
  task_name: z.string(),
  trial_name: z.string(),
  trial_uri: orNull(z.string()),
  task_id: orNull(taskIdSchema),
  source: orNull(z.string()),
  task_checksum: orNull(z.string()),
  config: orNull(z.record(z.string(), z.unknown())),
  agent_info: z.object({
    name: z.string(),
    version: orNull(z.string()),
    model_info: orNull(z.object({ name: z.string(), provider: orNull(z.string()) })),
  }),
  agent_result: orNull(agentContextSchema),
  verifier_result: orNull(verifierResultSchema),
  // "shared" | "separate" today; a newer value must not make the whole result unreadable.
  verifier_environment_mode: orNull(z.string()),
  exception_info: orNull(exceptionInfoSchema),
  started_at: orNull(isoTime),
  finished_at: orNull(isoTime),
  environment_setup: orNull(timingSchema),
  agent_setup: orNull(timingSchema),
  agent_execution: orNull(timingSchema),
  verifier: orNull(timingSchema),
  step_results: orNull(z.array(stepResultSchema)),
});

export type TrialResult = z.output<typeof trialResultSchema>;
export type TimingInfo = z.output<typeof timingSchema>;
export type ExceptionInfo = z.output<typeof exceptionInfoSchema>;
export type AgentContext = z.output<typeof agentContextSchema>;

const counter = orNull(z.number().int().min(0));

/** The counters under their current and older names; used for `stats` and the interim `status`. */
const counters = {
  n_completed_trials: counter,
  n_errored_trials: counter,
  n_running_trials: counter,
  n_pending_trials: counter,
  n_cancelled_trials: counter,
  n_retries: counter,
  n_trials: counter,
  n_errors: counter,
};

// `pass_at_k` and `reward_stats` are parsed but not stored: each Run is a one-trial Harbor job, so
// pass_at_k is always {} (Harbor computes it only from two trials per task up) and reward_stats
// names the one trial with the reward the trial result already carries. The platform computes
// pass@k and reward statistics across a job's runs itself (stats/service.ts).
const evalStatsSchema = z.object({
  n_trials: counter,
  n_errors: counter,
  metrics: orNull(z.array(z.record(z.string(), looseNumber))),
  pass_at_k: orNull(z.record(z.string(), looseNumber)),
  reward_stats: orNull(z.record(z.string(), z.record(z.string(), z.array(z.string())))),
  exception_stats: orNull(z.record(z.string(), z.array(z.string()))),
});

const rawJobResultSchema = z.object({
  id: z.string(),
  started_at: isoTime,
  updated_at: orNull(isoTime),
  finished_at: orNull(isoTime),
  n_total_trials: z.number().int().min(0),
  stats: z
    .object({
      ...counters,
      evals: orNull(z.record(z.string(), evalStatsSchema)),
      n_input_tokens: orNull(number),
      n_cache_tokens: orNull(number),
      n_output_tokens: orNull(number),
      cost_usd: orNull(number),
    })
    .default({
      n_completed_trials: null, n_errored_trials: null, n_running_trials: null, n_pending_trials: null,
      n_cancelled_trials: null, n_retries: null, n_trials: null, n_errors: null,
      evals: null, n_input_tokens: null, n_cache_tokens: null, n_output_tokens: null, cost_usd: null,
    }),
  status: orNull(z.object({ ...counters, updated_at: orNull(isoTime) })),
});

export type EvalStats = z.output<typeof evalStatsSchema>;

/** A job result with the §1 fallbacks applied: counters are always numbers, `updated_at` always set. */
export interface JobResult {
  id: string;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
  n_total_trials: number;
  stats: {
    n_completed_trials: number;
    n_errored_trials: number;
    n_running_trials: number;
    n_pending_trials: number;
    n_cancelled_trials: number;
    n_retries: number;
    /** Keyed `<agent>__<model>__<source>`; older keys had `/` replaced by `-` (lossy: read agent and model from trials). */
    evals: Record<string, EvalStats>;
    n_input_tokens: number | null;
    n_cache_tokens: number | null;
    n_output_tokens: number | null;
    cost_usd: number | null;
  };
}

/** A result.json that is not (yet) what it should be; `field` names the offending key when there is one. */
export class HarborResultError extends Error {
  constructor(
    message: string,
    readonly field: string | null,
  ) {
    super(message);
    this.name = 'HarborResultError';
  }
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out || '(root)';
}

function parseWith<T extends z.ZodType>(schema: T, text: string, what: string): z.output<T> {
  if (!text.trim()) throw new HarborResultError(`${what} is empty (Harbor may still be writing it)`, null);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HarborResultError(`${what} is not valid JSON (Harbor may still be writing it): ${(error as Error).message}`, null);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const [first, ...rest] = parsed.error.issues;
  const field = first ? fieldPath(first.path) : '(root)';
  const more = rest.length ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  throw new HarborResultError(`${what}: ${field}: ${first?.message ?? 'invalid'}${more}`, field);
}

/** Parses a trial `result.json`; throws a HarborResultError naming the bad field. */
export function parseTrialResult(text: string): TrialResult {
  return parseWith(trialResultSchema, text, 'trial result.json');
}

/** Parses a job `result.json`, applying Harbor's fallbacks for older counters (contract §1). */
export function parseJobResult(text: string): JobResult {
  const raw = parseWith(rawJobResultSchema, text, 'job result.json');
  const { stats, status } = raw;
  const pick = (key: keyof typeof counters): number | null => stats[key] ?? status?.[key] ?? null;
  const completed = pick('n_completed_trials') ?? pick('n_trials') ?? 0;
  const errored = pick('n_errored_trials') ?? pick('n_errors') ?? 0;
  const running = pick('n_running_trials') ?? 0;
  return {
    id: raw.id,
    started_at: raw.started_at,
    updated_at: raw.updated_at ?? status?.updated_at ?? raw.finished_at ?? raw.started_at,
    finished_at: raw.finished_at,
    n_total_trials: raw.n_total_trials,
    stats: {
      n_completed_trials: completed,
      n_errored_trials: errored,
      n_running_trials: running,
      n_pending_trials: pick('n_pending_trials') ?? Math.max(raw.n_total_trials - completed - running, 0),
      n_cancelled_trials: pick('n_cancelled_trials') ?? 0,
      n_retries: pick('n_retries') ?? 0,
      evals: stats.evals ?? {},
      n_input_tokens: stats.n_input_tokens,
      n_cache_tokens: stats.n_cache_tokens,
      n_output_tokens: stats.n_output_tokens,
      cost_usd: stats.cost_usd,
    },
  };
}
