// Turns a Harbor trial result into our Run outcome (DESIGN.md §4, harbor-contract.md §6).
//
// - CancelledError → CANCELLED (its own state; failureKind null).
// - An Infra exception → ERRORED / INFRASTRUCTURE, even when the verifier produced a reward: a
//   rate-limited or misconfigured run says nothing about the agent.
// - An Agent exception keeps the reward: PASSED (failureKind null) when it reaches the threshold —
//   an agent that fixed the task and then timed out still passes — else FAILED / AGENT; without a
//   reward, ERRORED / AGENT.
// - No exception: PASSED or FAILED by the reward (failureKind null); no reward at all (the verifier
//   was skipped) → ERRORED / INFRASTRUCTURE.
// - No exception, no passing reward, no test read and the verifier's output shows it crashed before
//   any test ran (verifierCrash) → ERRORED / INFRASTRUCTURE, VerifierCrashError: like
//   RewardFileNotFoundError, its reward of 0 says nothing certain about the agent.
// Ambiguous types count as Infra unless the table leans Agent; unknown types are Infra until
// classified, with the raw type kept.
import { harborTimeMs, type AgentContext, type ExceptionInfo, type TimingInfo, type TrialResult } from './result.js';

export type RunStatus = 'PASSED' | 'FAILED' | 'ERRORED' | 'CANCELLED';
export type FailureKind = 'AGENT' | 'INFRASTRUCTURE';

export interface RunResultLike {
  status: RunStatus;
  reward: number | null;
  rewards: Record<string, number> | null;
  exceptionType: string | null;
  exceptionMessage: string | null;
  failureKind: FailureKind | null;
  inputTokens: number | null;
  cacheTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  environmentSetupMs: number | null;
  agentSetupMs: number | null;
  agentExecutionMs: number | null;
  verifierMs: number | null;
  /** Filled by the caller, which knows where the trial directory lives. */
  trialDir: string | null;
}

export interface ExceptionClass {
  kind: FailureKind | 'CANCELLED';
  /** 'ambiguous': the table allows either reading; 'unknown': a type the table does not list. */
  certainty: 'certain' | 'ambiguous' | 'unknown';
}

const AGENT_TYPES = new Set([
  'AgentTimeoutError',
  'ContextWindowExceededError',
  'AgentSafetyRefusalError',
  'ContextLengthExceededError',
  'OutputLengthExceededError',
]);
/** Ambiguous, leaning Agent (the output cap may be misconfigured). */
const AGENT_LEANING_TYPES = new Set(['OutputTokenExceededError']);
/** Ambiguous, counted as Infra so that a flaky environment never lowers an agent's pass rate. */
const AMBIGUOUS_INFRA_TYPES = new Set([
  'NonZeroAgentExitCodeError',
  'UnknownApiError',
  'RewardFileNotFoundError',
  'VerifierTimeoutError',
  'BadRequestError',
  'ContentPolicyViolationError',
]);
const INFRA_TYPES = new Set([
  'ApiError', 'ApiRateLimitError', 'ApiInternalServerError', 'ApiOverloadedError', 'ApiConnectionClosedError',
  'ApiResponseStalledError', 'NetworkConnectionError', 'ApiConnectionError', 'ApiUsageLimitError',
  'AgentAuthenticationError', 'ModelNotFoundError', 'ApiProviderResourceNotFoundError',
  'AgentSetupTimeoutError', 'EnvironmentStartTimeoutError', 'HealthcheckError', 'SandboxBuildFailedError',
  'AddTestsDirError', 'DownloadVerifierDirError', 'RewardFileEmptyError', 'VerifierOutputParseError',
  'ValueError', 'FileNotFoundError',
  // terminus-2 (LiteLLM class names, after its own retries)
  'RateLimitError', 'ServiceUnavailableError', 'InternalServerError', 'APIConnectionError', 'Timeout', 'APIError',
  'AuthenticationError', 'PermissionDeniedError', 'NotFoundError', 'BudgetExceededError',
]);
/** RuntimeError messages the table names as Infra; any other RuntimeError is ambiguous (→ Infra). */
const INFRA_RUNTIME_MESSAGE = /^\s*(Docker compose command failed|Agent install failed|Command timed out after)/;

/** Where an exception type belongs in the §6 taxonomy. Module-qualified names are accepted. */
export function classifyException(exceptionType: string, message: string | null = null): ExceptionClass {
  const type = exceptionType.slice(exceptionType.lastIndexOf('.') + 1);
  if (type === 'CancelledError') return { kind: 'CANCELLED', certainty: 'certain' };
  if (AGENT_TYPES.has(type)) return { kind: 'AGENT', certainty: 'certain' };
  if (AGENT_LEANING_TYPES.has(type)) return { kind: 'AGENT', certainty: 'ambiguous' };
  if (INFRA_TYPES.has(type)) return { kind: 'INFRASTRUCTURE', certainty: 'certain' };
  if (AMBIGUOUS_INFRA_TYPES.has(type)) return { kind: 'INFRASTRUCTURE', certainty: 'ambiguous' };
  if (type === 'RuntimeError') {
    return { kind: 'INFRASTRUCTURE', certainty: INFRA_RUNTIME_MESSAGE.test(message ?? '') ? 'certain' : 'ambiguous' };
  }
  return { kind: 'INFRASTRUCTURE', certainty: 'unknown' };
}

/** The Run's single reward: the `reward` key, else the only key, else the mean of all keys. */
export function primaryReward(rewards: Record<string, number> | null): number | null {
  if (!rewards) return null;
  const values = Object.values(rewards);
  if (values.length === 0) return null;
  if (rewards.reward !== undefined) return rewards.reward;
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Rewards Harbor could not read as numbers (pydantic writes NaN as null) are left out. */
export function finiteRewards(verifierResult: TrialResult['verifier_result']): Record<string, number> | null {
  const raw = verifierResult?.rewards;
  if (!raw) return null;
  const entries = Object.entries(raw).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]));
  return entries.length ? Object.fromEntries(entries) : null;
}

export function durationMs(timing: TimingInfo | null): number | null {
  if (!timing?.started_at || !timing.finished_at) return null;
  const start = harborTimeMs(timing.started_at);
  const end = harborTimeMs(timing.finished_at);
  if (start === null || end === null || end < start) return null;
  return Math.round(end - start);
}

function nonNegative(value: number | null | undefined): number | null {
  return value === null || value === undefined || !Number.isFinite(value) || value < 0 ? null : value;
}

function count(value: number | null | undefined): number | null {
  const v = nonNegative(value);
  return v === null ? null : Math.round(v);
}

// The wire schema's limits (protocol/messages.ts runResultSchema).
const MAX_TYPE = 200;
const MAX_MESSAGE = 20_000;

/** Floating-point rewards such as 0.1 + 0.2 + 0.7 must still reach a threshold of 1. */
const EPSILON = 1e-9;

/**
 * Multi-step trials (Harbor's MultiStepTrial) record the agent and any exception per step and
 * leave the trial-level ones null; the trial's reward is the steps' mean or the final step's.
 * Tokens are the steps' sums (as Harbor's compute_token_cost_totals), and the first step exception
 * stands for the trial's, named after its step: a step that failed must not read as a clean run.
 */
function stepException(result: TrialResult): ExceptionInfo | null {
  const step = result.step_results?.find((s) => s.exception_info);
  if (!step?.exception_info) return null;
  const message = step.exception_info.exception_message ?? '';
  return { ...step.exception_info, exception_message: `step "${step.step_name ?? '?'}": ${message}` };
}

function agentTotals(result: TrialResult): Pick<AgentContext, 'n_input_tokens' | 'n_cache_tokens' | 'n_output_tokens' | 'cost_usd'> | null {
  if (result.agent_result || !result.step_results?.length) return result.agent_result;
  const contexts = result.step_results.map((s) => s.agent_result).filter((c): c is AgentContext => c !== null);
  if (!contexts.length) return null;
  const sum = (pick: (c: AgentContext) => number | null) =>
    contexts.reduce<number | null>((total, c) => (pick(c) === null ? total : (total ?? 0) + pick(c)!), null);
  return { n_input_tokens: sum((c) => c.n_input_tokens), n_cache_tokens: sum((c) => c.n_cache_tokens), n_output_tokens: sum((c) => c.n_output_tokens), cost_usd: sum((c) => c.cost_usd) };
}

export function classifyTrial(result: TrialResult, opts: { passThreshold?: number } = {}): RunResultLike {
  const threshold = opts.passThreshold ?? 1;
  const rewards = finiteRewards(result.verifier_result);
  const reward = primaryReward(rewards);
  const exception = result.exception_info ?? stepException(result);
  const agent = agentTotals(result);

  let status: RunStatus;
  let failureKind: FailureKind | null = null;
  let exceptionMessage = exception ? (exception.exception_message ?? '') : null;
  const passed = reward !== null && reward >= threshold - EPSILON;

  const kind = exception ? classifyException(exception.exception_type, exception.exception_message).kind : null;
  if (kind === 'CANCELLED') {
    status = 'CANCELLED';
  } else if (kind === 'INFRASTRUCTURE') {
    status = 'ERRORED';
    failureKind = 'INFRASTRUCTURE';
  } else if (kind === 'AGENT') {
    status = reward === null ? 'ERRORED' : passed ? 'PASSED' : 'FAILED';
    failureKind = status === 'PASSED' ? null : 'AGENT';
  } else if (reward !== null) {
    status = passed ? 'PASSED' : 'FAILED';
  } else {
    status = 'ERRORED';
    failureKind = 'INFRASTRUCTURE';
    exceptionMessage = 'Harbor recorded neither a reward nor an exception for this trial (was the verifier skipped?)';
  }

  return {
    status,
    reward,
    rewards,
    exceptionType: exception ? exception.exception_type.slice(0, MAX_TYPE) : null,
    exceptionMessage: exceptionMessage === null ? null : exceptionMessage.slice(0, MAX_MESSAGE),
    failureKind,
    inputTokens: count(agent?.n_input_tokens),
    cacheTokens: count(agent?.n_cache_tokens),
    outputTokens: count(agent?.n_output_tokens),
    costUsd: nonNegative(agent?.cost_usd),
    environmentSetupMs: durationMs(result.environment_setup),
    agentSetupMs: durationMs(result.agent_setup),
    agentExecutionMs: durationMs(result.agent_execution),
    verifierMs: durationMs(result.verifier),
    trialDir: null,
  };
}

/** Our own exception type for a verifier that died before running any test (tests/crash.ts). */
export const VERIFIER_CRASH = 'VerifierCrashError';

/**
 * A verifier crash overrides an outcome only where Harbor saw nothing wrong: no exception recorded
 * and no passing reward. `crash` is the line that shows it (readTrialTests), null when none does.
 */
export function verifierCrash<T extends RunResultLike>(result: T, crash: string | null): T {
  if (!crash || result.exceptionType !== null || result.status === 'PASSED' || result.status === 'CANCELLED') return result;
  return { ...result, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: VERIFIER_CRASH, exceptionMessage: `the verifier crashed before any test ran: ${crash}`.slice(0, MAX_MESSAGE) };
}
