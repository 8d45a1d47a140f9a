// What this runner can serve (issue 16 items 7–9): the environment types whose needs it meets, the
// sandbox credentials it passes to Harbor for them, Windows and GPUs. Reported in the heartbeat; the
// runner pulls only from the pools (protocol/pools.ts) it serves.
//
// The needs come from each environment's `preflight()` in Harbor's src/harbor/environments/*.py:
// the variables (or CLI and config files) it checks before a job starts. Types whose needs the
// platform does not know are served only when RUNNER_ENVIRONMENT_TYPES names them.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunnerConfig } from './config.js';
import { DOCKER_UNREACHABLE } from './health.js';
import { ENVIRONMENT_TYPES, harborTested, type Capabilities, type EnvironmentType } from './protocol/index.js';

export { harborTested, TESTED_HARBOR } from './protocol/index.js';
import { PROVIDER_ENV_VARS, RUNNER_PASSED_THROUGH_ENV } from './secrets/env-vars.js';

interface Needs {
  /** Any one of these sets of variables, all set (Daytona: an API key, or a JWT and an organisation). */
  credentials?: string[][];
  /** Passed along when set, never required (endpoints, regions, targets). */
  optional?: string[];
  /** A CLI Harbor runs, found on PATH. */
  binary?: string;
  /** A config file that stands in for the credentials (in the runner user's home). */
  configFile?: (env: NodeJS.ProcessEnv) => string;
  /** Only on this platform. */
  platform?: { os: NodeJS.Platform; arch: string; label: string };
  /** The Python module Harbor's extra for this type installs, and the extra's name. */
  extra?: { module: string; name: string };
}

const home = (env: NodeJS.ProcessEnv) => env.HOME ?? os.homedir();

/** Harbor's environments and what each needs from the machine that runs Harbor. */
export const ENVIRONMENT_NEEDS: Partial<Record<EnvironmentType, Needs>> = {
  // docker: Docker reachable (probe.ts), checked apart.
  'apple-container': { binary: 'container', platform: { os: 'darwin', arch: 'arm64', label: 'a Mac with Apple silicon' } },
  singularity: { binary: 'singularity' },
  daytona: { credentials: [['DAYTONA_API_KEY'], ['DAYTONA_JWT_TOKEN', 'DAYTONA_ORGANIZATION_ID']], optional: ['DAYTONA_API_URL', 'DAYTONA_TARGET'], extra: { module: 'daytona', name: 'daytona' } },
  e2b: { credentials: [['E2B_API_KEY']], extra: { module: 'e2b', name: 'e2b' } },
  modal: { credentials: [['MODAL_TOKEN_ID', 'MODAL_TOKEN_SECRET']], configFile: (env) => path.join(home(env), '.modal.toml'), extra: { module: 'modal', name: 'modal' } },
  runloop: { credentials: [['RUNLOOP_API_KEY']], extra: { module: 'runloop_api_client', name: 'runloop' } },
  langsmith: { credentials: [['LANGSMITH_API_KEY'], ['LANGCHAIN_API_KEY']], optional: ['LANGSMITH_ENDPOINT'], extra: { module: 'langsmith', name: 'langsmith' } },
  tensorlake: { credentials: [['TENSORLAKE_API_KEY']], extra: { module: 'tensorlake', name: 'tensorlake' } },
  cwsandbox: { credentials: [['CWSANDBOX_API_KEY']], extra: { module: 'cwsandbox', name: 'cwsandbox' } },
  wandb: { credentials: [['WANDB_API_KEY']], extra: { module: 'wandb', name: 'wandb' } },
  novita: { credentials: [['NOVITA_API_KEY']], extra: { module: 'novita_sandbox', name: 'novita' } },
  'use-computer': { credentials: [['USE_COMPUTER_API_KEY']], extra: { module: 'use_computer', name: 'use-computer' } },
  beam: { credentials: [['BEAM_TOKEN']] },
  vercel: { credentials: [['VERCEL_TOKEN']] },
  gke: { binary: 'gcloud', configFile: (env) => env.KUBECONFIG ?? path.join(home(env), '.kube', 'config'), optional: ['KUBECONFIG'], extra: { module: 'kubernetes', name: 'gke' } },
};

/** The Python modules of Harbor's extras, to look for in Harbor's own Python (probe.ts). */
export const EXTRA_MODULES = Object.values(ENVIRONMENT_NEEDS).flatMap((n) => (n.extra ? [n.extra.module] : []));

/** Every variable the table names, sorted. */
const TABLE_VARS = [
  ...new Set(Object.values(ENVIRONMENT_NEEDS).flatMap((n) => [...(n.credentials ?? []).flat(), ...(n.optional ?? [])])),
].sort();

/** Names a sandbox credential may not take: the runner's own, Harbor's, provider keys, and loader hooks. */
function credentialNameProblem(name: string): string | null {
  if (RUNNER_PASSED_THROUGH_ENV.includes(name) || name.startsWith('HARBOR_')) return 'the runner sets it itself';
  if (PROVIDER_ENV_VARS.includes(name)) return 'it holds a provider key, which comes with the job or the server defaults';
  if (/^(LD_|DYLD_|PYTHON|NODE_|UV_|PIP_)/.test(name) || ['SHELL', 'BASH_ENV', 'ENV', 'USER'].includes(name)) return 'it changes how programs start';
  return null;
}

export class CapabilityConfigError extends Error {
  override name = 'CapabilityConfigError';
}

/**
 * The sandbox credentials this runner holds, by name and value: RUNNER_ENVIRONMENT_VARS when set
 * (each must be set and allowed), else every variable of the table that is set.
 */
export function heldCredentials(config: Pick<RunnerConfig, 'environmentVars' | 'environmentTypes'>, env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const problems: string[] = [];
  for (const type of config.environmentTypes ?? []) {
    if (!(ENVIRONMENT_TYPES as readonly string[]).includes(type)) problems.push(`RUNNER_ENVIRONMENT_TYPES names ${JSON.stringify(type)}, which is not a Harbor environment type (${ENVIRONMENT_TYPES.join(', ')})`);
  }
  const held = new Map<string, string>();
  for (const name of config.environmentVars ?? TABLE_VARS) {
    const problem = credentialNameProblem(name);
    if (problem) {
      problems.push(`RUNNER_ENVIRONMENT_VARS cannot name ${name}: ${problem}`);
      continue;
    }
    const value = env[name];
    if (value) held.set(name, value);
    else if (config.environmentVars) problems.push(`RUNNER_ENVIRONMENT_VARS names ${name}, which is not set`);
  }
  if (problems.length > 0) throw new CapabilityConfigError(problems.join('\n'));
  return held;
}

export interface MachineFacts {
  dockerReachable: boolean | null;
  /** CLIs found on PATH, of those the table names. */
  binaries: ReadonlySet<string>;
  gpus: number;
  harborVersion: string | null;
  /** Of the extras' modules, those Harbor's Python can import; null when that cannot be told (not a Python entry point). */
  harborModules: ReadonlySet<string> | null;
  platform?: NodeJS.Platform;
  arch?: string;
}

/** Why this runner cannot serve `type`, or null when it can. */
function unavailableBecause(type: EnvironmentType, facts: MachineFacts, held: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv): string | null {
  if (type === 'docker') return facts.dockerReachable === false ? DOCKER_UNREACHABLE : null;
  const needs = ENVIRONMENT_NEEDS[type];
  if (!needs) return `what ${type} needs is not known to the platform; name it in RUNNER_ENVIRONMENT_TYPES to serve it`;
  const platform = facts.platform ?? process.platform;
  const arch = facts.arch ?? process.arch;
  if (needs.platform && (platform !== needs.platform.os || arch !== needs.platform.arch)) return `${type} needs ${needs.platform.label}`;
  if (needs.binary && !facts.binaries.has(needs.binary)) return `the ${needs.binary} CLI is not on PATH`;
  if (needs.extra && facts.harborModules && !facts.harborModules.has(needs.extra.module)) {
    return `Harbor's ${needs.extra.name} extra is not installed (uv tool install 'harbor[${needs.extra.name}]')`;
  }
  const file = needs.configFile?.(env);
  if (needs.credentials) {
    const met = needs.credentials.some((set) => set.every((name) => held.has(name)));
    if (!met && !(file && existsSync(file))) return `no ${needs.credentials.map((set) => set.join(' + ')).join(' or ')} is held (RUNNER_ENVIRONMENT_VARS)`;
  } else if (file && !existsSync(file)) {
    return `${file} is missing`;
  }
  return null;
}

export function findCapabilities(
  config: Pick<RunnerConfig, 'environmentTypes' | 'windows'>,
  facts: MachineFacts,
  held: ReadonlyMap<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): Capabilities {
  const served: EnvironmentType[] = [];
  const unavailable: Capabilities['unavailable'] = [];
  for (const type of ENVIRONMENT_TYPES) {
    const named = config.environmentTypes?.includes(type);
    let reason: string | null;
    if (config.environmentTypes && !named) reason = 'not in RUNNER_ENVIRONMENT_TYPES';
    else reason = unavailableBecause(type, facts, held, env);
    // Named by the operator: trusted for what the platform cannot check, and for a Docker that does
    // not answer yet (the breaker still hands back an order that finds it unreachable).
    if (named && reason !== null && (type === 'docker' || !ENVIRONMENT_NEEDS[type])) reason = null;
    if (reason === null) served.push(type);
    else unavailable.push({ environmentType: type, reason: reason.slice(0, 300) });
  }
  return { environmentTypes: served, unavailable, windows: config.windows, gpus: facts.gpus, harborTested: harborTested(facts.harborVersion) };
}

/**
 * The credentials Harbor gets for a trial of `type`: the table's variables for that type, and for a
 * type the table does not know, every held variable the table does not claim for another type.
 * Docker trials get none.
 */
export function sandboxEnv(type: EnvironmentType, held: ReadonlyMap<string, string>): Record<string, string> {
  if (type === 'docker') return {};
  const needs = ENVIRONMENT_NEEDS[type];
  const names = needs ? [...(needs.credentials ?? []).flat(), ...(needs.optional ?? [])] : [...held.keys()].filter((name) => !TABLE_VARS.includes(name));
  return Object.fromEntries(names.filter((name) => held.has(name)).map((name) => [name, held.get(name)!]));
}
