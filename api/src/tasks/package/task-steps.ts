// The multi-step and network parts of task.toml (tb2-task-format.md §1.1 "steps"): `[[steps]]`,
// `multi_step_reward_strategy`, per-phase network policy and the GPU/OS keys runners are routed by.
// Field shapes follow Harbor's task config model (StepConfig: name, agent, verifier, min_reward,
// healthcheck, artifacts; AgentConfig/VerifierConfig with network_mode and allowed_hosts).
import { q } from './problems.js';

type Table = Record<string, unknown>;
type Fail = (message: string) => void;
type Warn = (message: string) => void;

export type NetworkMode = 'public' | 'no-network' | 'allowlist';

export interface NetworkPolicy {
  mode: NetworkMode;
  allowedHosts: string[];
}

export interface TaskStepConfig {
  name: string;
  agentTimeoutSec: number | null;
  verifierTimeoutSec: number | null;
  /** A per-step override of the agent phase's network; null = the task's policy. */
  agentNetwork: NetworkPolicy | null;
  verifierNetwork: NetworkPolicy | null;
  /** Later steps are skipped when this step's reward falls below it (a number gates `reward`). */
  minReward: number | Record<string, number> | null;
  /** The step's verifier runs in its own environment: no test script is needed in the task. */
  separateVerifier: boolean | null;
}

export type RewardStrategy = 'mean' | 'final';

export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** A short rendering of a TOML value for messages. */
export function show(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (v instanceof Date ? v.toISOString() : v)) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const MODES = new Set<string>(['public', 'no-network', 'allowlist']);

/**
 * `network_mode`/`allowed_hosts` of one table ([environment], [agent], [verifier] or a step's).
 * Harbor: hosts without a mode mean allowlist; hosts with another mode are an error; hosts are bare
 * hostnames (no scheme, path or port). Null when the table sets neither.
 */
export function networkPolicy(table: Table, where: string, fail: Fail): NetworkPolicy | null {
  const mode = table.network_mode;
  const hosts = table.allowed_hosts;
  if (mode === undefined && hosts === undefined) return null;
  let parsedMode: NetworkMode | null = null;
  if (mode !== undefined) {
    if (typeof mode === 'string' && MODES.has(mode)) parsedMode = mode as NetworkMode;
    else fail(`${where}.network_mode must be "public", "no-network" or "allowlist" (got ${show(mode)})`);
  }
  let allowedHosts: string[] = [];
  if (hosts !== undefined) {
    if (!Array.isArray(hosts) || !hosts.every((h) => typeof h === 'string')) {
      fail(`${where}.allowed_hosts must be a list of host names (got ${show(hosts)})`);
    } else {
      allowedHosts = hosts.map((h) => h.trim()).filter((h) => h !== '');
      for (const host of allowedHosts) {
        if (/:\/\/|[/:]/.test(host)) fail(`${where}.allowed_hosts entries must be bare host names, not URLs, ports or paths (got ${q(host)})`);
      }
    }
  }
  if (allowedHosts.length > 0 && parsedMode !== null && parsedMode !== 'allowlist') {
    fail(`${where}.allowed_hosts is only valid with network_mode = "allowlist" (got ${q(parsedMode)})`);
  }
  const effective = parsedMode ?? (allowedHosts.length > 0 ? 'allowlist' : null);
  return effective === null ? null : { mode: effective, allowedHosts };
}

function positive(table: Table, key: string, where: string, fail: Fail): number | null {
  const value = table[key];
  if (value === undefined) return null;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  fail(`${where}.${key} must be a positive number (got ${show(value)})`);
  return null;
}

/** Step names become folder names (steps/<name>/) and trial sub-folders. */
const STEP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const STEP_KEYS = new Set(['name', 'agent', 'verifier', 'min_reward', 'healthcheck', 'artifacts']);

function minReward(value: unknown, where: string, fail: Fail): TaskStepConfig['minReward'] {
  if (value === undefined) return null;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (isTable(value) && Object.values(value).every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return value as Record<string, number>;
  }
  fail(`${where}.min_reward must be a number or a table of numbers per reward key (got ${show(value)})`);
  return null;
}

function separateVerifier(verifier: Table, where: string, fail: Fail): boolean | null {
  const mode = verifier.environment_mode;
  if (mode !== undefined && mode !== 'shared' && mode !== 'separate') {
    fail(`${where}.environment_mode must be "shared" or "separate" (got ${show(mode)})`);
    return null;
  }
  if (verifier.environment !== undefined && !isTable(verifier.environment)) {
    fail(`${where}.environment must be a table (got ${show(verifier.environment)})`);
  }
  if (mode === 'shared' && verifier.environment !== undefined) {
    fail(`${where}.environment_mode = "shared" cannot be combined with ${where}.environment`);
  }
  if (mode !== undefined) return mode === 'separate';
  return verifier.environment !== undefined ? true : null;
}

/** `[verifier]` of the task: does its verifier run in a separate environment (Harbor's default: no)? */
export function taskSeparateVerifier(verifier: Table | null, fail: Fail): boolean {
  return verifier ? (separateVerifier(verifier, '[verifier]', fail) ?? false) : false;
}

/** One `[[steps]]` entry; null when it has no usable name. */
function parseStep(raw: unknown, index: number, fail: Fail, warn: Warn): TaskStepConfig | null {
  const where = `[[steps]] #${index + 1}`;
  if (!isTable(raw)) {
    fail(`${where} must be a table (got ${show(raw)})`);
    return null;
  }
  const name = raw.name;
  if (typeof name !== 'string') {
    fail(`${where} needs a string name (got ${show(name)})`);
    return null;
  }
  const at = `[[steps]] ${q(name)}`;
  if (!STEP_NAME.test(name) || name.includes('..')) {
    fail(`${at}: the step name becomes the folder steps/<name>/; use 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit and without '..'`);
    return null;
  }
  for (const key of Object.keys(raw)) if (!STEP_KEYS.has(key)) warn(`${at}: unknown key ${q(key)} is ignored`);
  const table = (key: 'agent' | 'verifier' | 'healthcheck'): Table => {
    const value = raw[key];
    if (value === undefined) return {};
    if (isTable(value)) return value;
    fail(`${at}.${key} must be a table (got ${show(value)})`);
    return {};
  };
  const agent = table('agent');
  const verifier = table('verifier');
  const healthcheck = table('healthcheck');
  if (raw.healthcheck !== undefined && typeof healthcheck.command !== 'string') fail(`${at}.healthcheck needs a string command`);
  if (raw.artifacts !== undefined && !Array.isArray(raw.artifacts)) fail(`${at}.artifacts must be a list (got ${show(raw.artifacts)})`);
  return {
    name,
    agentTimeoutSec: positive(agent, 'timeout_sec', `${at}.agent`, fail),
    verifierTimeoutSec: positive(verifier, 'timeout_sec', `${at}.verifier`, fail),
    agentNetwork: networkPolicy(agent, `${at}.agent`, fail),
    verifierNetwork: networkPolicy(verifier, `${at}.verifier`, fail),
    minReward: minReward(raw.min_reward, at, fail),
    separateVerifier: separateVerifier(verifier, `${at}.verifier`, fail),
  };
}

/** `steps` and `multi_step_reward_strategy`; steps null for a single-step task (absent or empty list). */
export function parseSteps(
  doc: Table,
  fail: Fail,
  warn: Warn,
): { steps: TaskStepConfig[] | null; strategy: RewardStrategy | null } {
  let strategy: RewardStrategy | null = null;
  const rawStrategy = doc.multi_step_reward_strategy;
  if (rawStrategy !== undefined) {
    if (rawStrategy === 'mean' || rawStrategy === 'final') strategy = rawStrategy;
    else fail(`multi_step_reward_strategy must be "mean" or "final" (got ${show(rawStrategy)})`);
  }
  if (doc.steps === undefined) {
    if (rawStrategy !== undefined) warn('multi_step_reward_strategy is ignored: the task has no [[steps]]');
    return { steps: null, strategy: null };
  }
  if (!Array.isArray(doc.steps)) {
    fail(`steps must be a list of [[steps]] tables (got ${show(doc.steps)})`);
    return { steps: null, strategy: null };
  }
  const steps = doc.steps.map((raw, i) => parseStep(raw, i, fail, warn)).filter((s): s is TaskStepConfig => s !== null);
  const seen = new Set<string>();
  for (const step of steps) {
    if (seen.has(step.name)) fail(`[[steps]] ${q(step.name)} appears twice; step names must be unique`);
    seen.add(step.name);
  }
  if (doc.steps.length === 0) return { steps: null, strategy: null };
  // Harbor's default for a multi-step task.
  return { steps, strategy: strategy ?? 'mean' };
}

/** Newest task.toml schema Harbor 0.22–0.24 describe; newer ones load (Harbor ignores unknown keys) with a warning. */
export const KNOWN_SCHEMA_VERSION = '1.4';

/** True when `version` ("1.10", "2") is newer than KNOWN_SCHEMA_VERSION; false for unparseable ones. */
export function isNewerSchema(version: string): boolean {
  const parse = (v: string) => (/^\d+(\.\d+)*$/.test(v) ? v.split('.').map(Number) : null);
  const got = parse(version.trim());
  const known = parse(KNOWN_SCHEMA_VERSION)!;
  if (!got) return false;
  for (let i = 0; i < Math.max(got.length, known.length); i++) {
    const a = got[i] ?? 0;
    const b = known[i] ?? 0;
    if (a !== b) return a > b;
  }
  return false;
}

/** `[environment].gpus` (a count, 0 = none) and `gpu_types` (acceptable models; absent = any). */
export function parseGpus(env: Table, fail: Fail): { gpus: number | null; gpuTypes: string[] | null } {
  let gpus: number | null = null;
  if (env.gpus !== undefined) {
    if (typeof env.gpus === 'number' && Number.isInteger(env.gpus) && env.gpus >= 0) gpus = env.gpus;
    else fail(`[environment].gpus must be a whole number of GPUs, 0 or more (got ${show(env.gpus)})`);
  }
  let gpuTypes: string[] | null = null;
  if (env.gpu_types !== undefined) {
    if (Array.isArray(env.gpu_types) && env.gpu_types.every((t) => typeof t === 'string' && t.trim() !== '')) gpuTypes = env.gpu_types as string[];
    else fail(`[environment].gpu_types must be a list of GPU type names such as ["H100", "A100"] (got ${show(env.gpu_types)})`);
  }
  return { gpus, gpuTypes };
}
