// task.toml validation (tb2-task-format.md §1.1). Harbor ignores what it does not understand and
// drops some wrong types silently; the platform rejects them instead, so a task behaves the same in
// Harbor as it looks in the UI. Every problem is collected, not only the first.
import { parse, TomlError } from 'smol-toml';
import { problem, q, type Problem } from './problems.js';
import {
  isNewerSchema,
  isTable,
  KNOWN_SCHEMA_VERSION,
  networkPolicy,
  parseGpus,
  parseSteps,
  taskSeparateVerifier,
  type RewardStrategy,
  type TaskStepConfig,
} from './task-steps.js';

export interface TaskConfig {
  name: string | null;
  description: string | null;
  difficulty: 'EASY' | 'MEDIUM' | 'HARD' | 'UNKNOWN';
  category: string | null;
  tags: string[];
  agentTimeoutSec: number | null;
  verifierTimeoutSec: number | null;
  buildTimeoutSec: number | null;
  cpus: number | null;
  memoryMb: number | null;
  storageMb: number | null;
  dockerImage: string | null;
  os: 'linux' | 'windows';
  gpus: number | null;
  gpuTypes: string[] | null;
  /** `[[steps]]` of a multi-step task, in order; null for a single-step task. */
  steps: TaskStepConfig[] | null;
  /** Set (default "mean") only for multi-step tasks. */
  multiStepRewardStrategy: RewardStrategy | null;
  /** [verifier] runs in its own environment, so tests/ is not needed for it. */
  separateVerifier: boolean;
  /** The whole parsed document, JSON-safe (TOML dates as ISO strings, inf/nan as strings). */
  raw: Record<string, unknown>;
}

export interface TomlCheck {
  /** Null when the file is not UTF-8 or not TOML; otherwise built even if some fields are invalid. */
  config: TaskConfig | null;
  errors: Problem[];
  warnings: Problem[];
  /** [task].name as written when it is a string (valid or not), for naming files-at-root tasks. */
  taskName: string | null;
  taskNameValid: boolean;
}

const KNOWN_KEYS = new Set([
  'version', 'schema_version', 'source', 'artifacts', 'task', 'metadata', 'agent', 'verifier',
  'environment', 'solution', 'steps', 'multi_step_reward_strategy',
]);

const PART = '[A-Za-z0-9_-][A-Za-z0-9._-]*';
/** `org/name` or `name`: letters, digits, '-', '_', '.'; no leading dot, no '..'. */
const TASK_NAME = new RegExp(`^${PART}(/${PART})?$`);

type Table = Record<string, unknown>;

/** `path` is the task.toml path inside the zip, put on every problem. */
export function checkTaskToml(bytes: Uint8Array, path: string): TomlCheck {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const fail = (message: string) => errors.push(problem('task_toml_invalid', `task.toml: ${message}`, path));
  const empty: TomlCheck = { config: null, errors, warnings, taskName: null, taskNameValid: false };

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail('the file is not valid UTF-8');
    return empty;
  }
  let doc: Table;
  try {
    doc = parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = error.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    fail(`syntax error at line ${error.line}, column ${error.column}: ${reason}`);
    return empty;
  }

  const v = new Checker(doc, fail);
  for (const key of Object.keys(doc)) {
    if (!KNOWN_KEYS.has(key)) {
      warnings.push(problem('unknown_toml_key', `task.toml: unknown key ${q(key)} is ignored`, path));
    }
  }
  const warn = (code: 'unknown_toml_key' | 'ignored_toml_key' | 'newer_schema_version', message: string) =>
    warnings.push(problem(code, `task.toml: ${message}`, path));
  const { steps, strategy } = parseSteps(doc, fail, (message) =>
    warn(message.includes('unknown key') ? 'unknown_toml_key' : 'ignored_toml_key', message),
  );

  const version = v.str('', 'version');
  // Harbor renames `version` to `schema_version` on load; either may carry it.
  const schemaVersion = v.str('', 'schema_version') ?? version;
  if (schemaVersion !== null && isNewerSchema(schemaVersion)) {
    warn(
      'newer_schema_version',
      `schema_version ${q(schemaVersion)} is newer than ${KNOWN_SCHEMA_VERSION}, the newest this platform knows; keys it does not know are ignored, as Harbor does`,
    );
  }
  v.str('', 'source');
  if (doc.artifacts !== undefined && !Array.isArray(doc.artifacts)) fail(`artifacts must be a list (got ${show(doc.artifacts)})`);

  const task = v.table('task');
  let taskName: string | null = null;
  let taskNameValid = false;
  if (task) {
    const name = task.name;
    if (name === undefined) fail('[task].name is required when the [task] table is present');
    else if (typeof name !== 'string') fail(`[task].name must be a string (got ${show(name)})`);
    else {
      taskName = name;
      taskNameValid = TASK_NAME.test(name) && !name.includes('..');
      if (!taskNameValid) {
        fail(`[task].name must look like "org/name" using letters, digits, '-', '_' or '.', without a leading dot or '..' (got ${show(name)})`);
      }
    }
    if (task.version !== undefined && (typeof task.version !== 'string' || task.version === '')) {
      fail(`[task].version must be a non-empty string (got ${show(task.version)})`);
    }
    v.str('task', 'description');
    v.strList('task', 'keywords');
    if (task.authors !== undefined && !(Array.isArray(task.authors) && task.authors.every((a) => isTable(a) && typeof a.name === 'string'))) {
      fail('[[task.authors]] must be a list of tables, each with a string name');
    }
  }

  const metadata = v.table('metadata');
  const tags = v.strList('metadata', 'tags');
  for (const key of Object.keys(metadata ?? {})) {
    if (key.endsWith('_time_estimate_min')) v.number('metadata', key, false);
  }

  const agent = v.table('agent');
  const verifier = v.table('verifier');
  const environment = v.table('environment');
  v.table('solution');
  const agentTimeout = agent ? v.number('agent', 'timeout_sec', true) : null;
  const verifierTimeout = verifier ? v.number('verifier', 'timeout_sec', true) : null;
  const env = environment ?? {};
  const buildTimeout = environment ? v.number('environment', 'build_timeout_sec', true) : null;
  const cpus = environment ? v.positiveInt('environment', 'cpus') : null;
  const memoryMb = environment ? v.size('memory') : null;
  const storageMb = environment ? v.size('storage') : null;

  let dockerImage: string | null = null;
  if (env.docker_image !== undefined) {
    if (typeof env.docker_image === 'string' && env.docker_image.trim() !== '') dockerImage = env.docker_image;
    else fail(`[environment].docker_image must be a non-empty string (got ${show(env.docker_image)})`);
  }
  const { gpus, gpuTypes } = parseGpus(env, fail);
  networkPolicy(env, '[environment]', fail);
  if (agent) networkPolicy(agent, '[agent]', fail);
  if (verifier) networkPolicy(verifier, '[verifier]', fail);
  const separateVerifier = taskSeparateVerifier(verifier, fail);
  let os: 'linux' | 'windows' = 'linux';
  if (env.os !== undefined) {
    const lower = typeof env.os === 'string' ? env.os.toLowerCase() : null;
    if (lower === 'linux' || lower === 'windows') os = lower;
    else fail(`[environment].os must be "linux" or "windows" (got ${show(env.os)})`);
  }

  const meta = metadata ?? {};
  const difficulty = typeof meta.difficulty === 'string' ? meta.difficulty.toUpperCase() : '';
  const description = typeof task?.description === 'string' && task.description.trim() !== '' ? task.description : null;
  const config: TaskConfig = {
    name: taskName,
    description,
    difficulty: difficulty === 'EASY' || difficulty === 'MEDIUM' || difficulty === 'HARD' ? difficulty : 'UNKNOWN',
    category: typeof meta.category === 'string' && meta.category !== '' ? meta.category : null,
    tags: tags ?? [],
    agentTimeoutSec: agentTimeout,
    verifierTimeoutSec: verifierTimeout,
    buildTimeoutSec: buildTimeout,
    cpus,
    memoryMb,
    storageMb,
    dockerImage,
    os,
    gpus,
    gpuTypes,
    steps,
    multiStepRewardStrategy: strategy,
    separateVerifier,
    raw: toJson(doc) as Record<string, unknown>,
  };
  return { config, errors, warnings, taskName, taskNameValid };
}

/** Field checks on one document; each returns the valid value or null and reports the rest. */
class Checker {
  constructor(
    private readonly doc: Table,
    private readonly fail: (message: string) => void,
  ) {}

  private at(table: string): Table {
    if (table === '') return this.doc;
    const value = this.doc[table];
    return isTable(value) ? value : {};
  }

  private key(table: string, key: string): string {
    return table === '' ? key : `[${table}].${key}`;
  }

  table(name: string): Table | null {
    const value = this.doc[name];
    if (value === undefined) return null;
    if (isTable(value)) return value;
    this.fail(`${name} must be a table (got ${show(value)})`);
    return null;
  }

  str(table: string, key: string): string | null {
    const value = this.at(table)[key];
    if (value === undefined) return null;
    if (typeof value === 'string') return value;
    this.fail(`${this.key(table, key)} must be a string (got ${show(value)})`);
    return null;
  }

  strList(table: string, key: string): string[] | null {
    const value = this.at(table)[key];
    if (value === undefined) return null;
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
    this.fail(`${this.key(table, key)} must be a list of strings (got ${show(value)})`);
    return null;
  }

  number(table: string, key: string, positive: boolean): number | null {
    const value = this.at(table)[key];
    if (value === undefined) return null;
    if (typeof value === 'number' && Number.isFinite(value) && (!positive || value > 0)) return value;
    this.fail(`${this.key(table, key)} must be a ${positive ? 'positive ' : ''}number (got ${show(value)})`);
    return null;
  }

  positiveInt(table: string, key: string): number | null {
    const value = this.at(table)[key];
    if (value === undefined) return null;
    if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
    this.fail(`${this.key(table, key)} must be a positive integer (got ${show(value)})`);
    return null;
  }

  /** `memory`/`memory_mb` or `storage`/`storage_mb`: the deprecated size string and the integer must agree. */
  size(base: 'memory' | 'storage'): number | null {
    const env = this.at('environment');
    const mb = this.positiveInt('environment', `${base}_mb`);
    const text = env[base];
    if (text === undefined) return mb;
    const parsed = typeof text === 'string' ? parseSizeMb(text) : null;
    if (parsed === null || parsed <= 0) {
      this.fail(`[environment].${base} must be a size string such as "2G", "512M" or "1.5G" (got ${show(text)})`);
      return mb;
    }
    if (mb !== null && mb !== parsed) {
      this.fail(`[environment].${base} (${show(text)} = ${parsed} MB) and [environment].${base}_mb (${mb}) disagree`);
      return null;
    }
    return parsed;
  }
}

/** Harbor's size strings: `<number><G|M|K>`, case-insensitive; G × 1024, M as is, K ÷ 1024, truncated. */
export function parseSizeMb(text: string): number | null {
  const match = /^(\d+(?:\.\d*)?|\.\d+)([gmk])$/i.exec(text);
  if (!match) return null;
  const value = Number(match[1]);
  const unit = match[2]!.toLowerCase();
  return Math.trunc(unit === 'g' ? value * 1024 : unit === 'm' ? value : value / 1024);
}

/** A short rendering of a TOML value for messages. */
function show(value: unknown): string {
  const text = JSON.stringify(toJson(value)) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** JSON-safe copy: dates become ISO strings, inf/nan strings; own properties only. */
export function toJson(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (Array.isArray(value)) return value.map(toJson);
  if (isTable(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  return value;
}
