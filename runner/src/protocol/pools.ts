// Routing (issue 16 items 7–9): a run order is published under the pool of what its trial needs —
// the environment type, plus Windows and GPUs when its task asks for them — and each pool has its own
// durable consumer on RUNS. A runner pulls only from the pools it serves, so an order never reaches a
// runner that cannot run it, and no delivery is spent on a refusal. NATS 2.9 allows one filter
// subject per consumer, hence one consumer per pool rather than one consumer with many filters.
import { z } from 'zod';

/** Harbor's built-in environment types (harbor-contract.md §2; Harbor's src/harbor/environments/factory.py). */
export const ENVIRONMENT_TYPES = [
  'docker', 'daytona', 'e2b', 'modal', 'runloop', 'langsmith', 'ec2', 'gke', 'ack', 'openshift', 'novita',
  'apple-container', 'singularity', 'islo', 'tensorlake', 'cwsandbox', 'wandb', 'use-computer', 'cua-cloud',
  'blaxel', 'opensandbox', 'beam', 'skypilot', 'hf-sandbox', 'hyperbrowser', 'vercel',
] as const;

export type EnvironmentType = (typeof ENVIRONMENT_TYPES)[number];

/**
 * Environment types whose sandbox Harbor can give GPUs (`capabilities.gpus` in Harbor's
 * src/harbor/environments/*.py: daytona, modal, gke outside compose mode, beam). The GPUs are the
 * provider's, not the runner host's. Harbor's docker environment reports no GPU support; a runner
 * with GPUs of its own (RUNNER_GPUS) is still offered docker GPU runs, for Harbor versions that add it.
 */
export const CLOUD_GPU_TYPES: ReadonlySet<EnvironmentType> = new Set(['daytona', 'modal', 'gke', 'beam']);

/** Environment types that run trials on the runner's own machine (Harbor's "mounted" types). */
export const LOCAL_TYPES: ReadonlySet<EnvironmentType> = new Set(['docker', 'apple-container', 'singularity']);

/** What a trial needs from the runner that takes it. */
export interface PoolNeeds {
  environmentType: EnvironmentType;
  windows: boolean;
  gpu: boolean;
}

const POOL = /^([a-z][a-z0-9-]*)(_windows)?(_gpu)?$/;

/** `docker`, `docker_windows`, `modal_gpu`: one subject token (environment types hold '-', never '_'). */
export function poolOf(needs: PoolNeeds): string {
  return `${needs.environmentType}${needs.windows ? '_windows' : ''}${needs.gpu ? '_gpu' : ''}`;
}

export function parsePool(pool: string): PoolNeeds | null {
  const m = POOL.exec(pool);
  if (!m || !(ENVIRONMENT_TYPES as readonly string[]).includes(m[1]!)) return null;
  return { environmentType: m[1] as EnvironmentType, windows: m[2] !== undefined, gpu: m[3] !== undefined };
}

/** Durable consumer of one pool. The consumer of orders published before pools existed keeps its old name. */
export function poolConsumer(pool: string): string {
  return `runners-${pool}`;
}

/** What a runner reports it can serve (heartbeat `capabilities`). */
export const capabilitiesSchema = z.object({
  /** Environment types it can run trials in now. */
  environmentTypes: z.array(z.enum(ENVIRONMENT_TYPES)),
  /** Why each other type is not served ("Docker is not reachable", "DAYTONA_API_KEY is not set"). */
  unavailable: z.array(z.object({ environmentType: z.enum(ENVIRONMENT_TYPES), reason: z.string().max(300) })).max(ENVIRONMENT_TYPES.length),
  /** Docker on this runner runs Windows containers (RUNNER_WINDOWS=1). */
  windows: z.boolean(),
  /** GPUs on the runner's own machine (RUNNER_GPUS, else nvidia-smi). */
  gpus: z.number().int().min(0).max(1024),
  /** Whether the Harbor found is within the tested range; null when Harbor is missing. */
  harborTested: z.boolean().nullable(),
});
export type Capabilities = z.infer<typeof capabilitiesSchema>;

/** Whether a runner with these capabilities can run trials of this pool. */
export function servesPool(capabilities: Capabilities, pool: string): boolean {
  const needs = parsePool(pool);
  if (!needs || !capabilities.environmentTypes.includes(needs.environmentType)) return false;
  if (needs.windows && !windowsCapable(capabilities, needs.environmentType)) return false;
  if (needs.gpu && !gpuCapable(capabilities, needs.environmentType)) return false;
  return true;
}

function windowsCapable(c: Capabilities, type: EnvironmentType): boolean {
  // Harbor runs Windows containers only through docker on a Windows host, and use-computer's Windows machines.
  return (type === 'docker' && c.windows) || type === 'use-computer';
}

function gpuCapable(c: Capabilities, type: EnvironmentType): boolean {
  return CLOUD_GPU_TYPES.has(type) || (LOCAL_TYPES.has(type) && c.gpus > 0);
}

/**
 * Why no runner could ever serve this pool, or null: Harbor runs Windows tasks only through docker
 * (on a Windows host) and use-computer, and gives GPUs only in daytona, modal, gke and beam (docker,
 * singularity and apple-container only on a runner with GPUs of its own).
 */
export function poolImpossible(needs: PoolNeeds): string | null {
  if (needs.windows && needs.environmentType !== 'docker' && needs.environmentType !== 'use-computer') {
    return `Harbor runs Windows tasks only in docker (on a Windows host) or use-computer, not ${needs.environmentType}`;
  }
  if (needs.gpu && !CLOUD_GPU_TYPES.has(needs.environmentType) && !LOCAL_TYPES.has(needs.environmentType)) {
    return `Harbor's ${needs.environmentType} environment cannot give a task GPUs (${[...CLOUD_GPU_TYPES].join(', ')} can, and docker on a runner with GPUs)`;
  }
  return null;
}

/** Every pool a runner serves, in a stable order (plain types first). */
export function poolsServed(capabilities: Capabilities): string[] {
  const pools: string[] = [];
  for (const environmentType of capabilities.environmentTypes) {
    for (const windows of [false, true]) {
      for (const gpu of [false, true]) {
        const pool = poolOf({ environmentType, windows, gpu });
        if (servesPool(capabilities, pool)) pools.push(pool);
      }
    }
  }
  return pools;
}

/** For people: "modal (GPU)", "docker (Windows)". */
export function describePool(pool: string): string {
  const needs = parsePool(pool);
  if (!needs) return pool;
  const extra = [needs.windows ? 'Windows' : null, needs.gpu ? 'GPU' : null].filter(Boolean);
  return extra.length ? `${needs.environmentType} (${extra.join(', ')})` : needs.environmentType;
}

/** The runner heartbeat before capabilities existed: it served docker, like every runner did. */
export function assumedCapabilities(dockerReachable: boolean | null): Capabilities {
  return { environmentTypes: dockerReachable === false ? [] : ['docker'], unavailable: [], windows: false, gpus: 0, harborTested: null };
}
