// What this machine can do, checked at start-up and reported in heartbeats; the breaker
// (health.ts) re-runs the same checks while the runner is degraded.
import { execa } from 'execa';
import { findParentDeathWrapper, type ParentDeathWrapper } from './harbor/process.js';

export interface Probe {
  harborVersion: string | null;
  dockerReachable: boolean | null;
  lastError: string | null;
  /** How Harbor is tied to the runner's life (harbor/process.ts); null where nothing can. */
  parentDeath: ParentDeathWrapper;
}

/** The Harbor release the runner is written against (harbor-contract.md §1); 0.22–0.24 are accepted (capabilities.ts). */
export const PINNED_HARBOR_VERSION = '0.22.0';

export async function probeHarbor(harborBin: string): Promise<{ version: string | null; error: string | null }> {
  const harbor = await execa(harborBin, ['--version'], { reject: false, timeout: 15_000, stdin: 'ignore' });
  if ((harbor as { code?: string }).code === 'ENOENT') {
    return { version: null, error: `Harbor is not installed: ${harborBin} was not found (install harbor ${PINNED_HARBOR_VERSION} or set HARBOR_BIN)` };
  }
  if (harbor.exitCode !== 0) {
    return { version: null, error: `\`${harborBin} --version\` failed: ${String(harbor.stderr || harbor.stdout).trim().slice(0, 300)}` };
  }
  return { version: String(harbor.stdout).trim().split(/\s+/).pop() ?? null, error: null };
}

export async function probeDocker(): Promise<boolean> {
  const docker = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: 10_000, stdin: 'ignore' });
  return docker.exitCode === 0;
}

/** Which of these CLIs are on PATH (the ones Harbor's environments run: singularity, gcloud, container). */
export async function probeBinaries(names: readonly string[]): Promise<Set<string>> {
  const found = await Promise.all(
    names.map(async (name) => {
      const r = await execa('sh', ['-c', 'command -v "$1"', 'sh', name], { reject: false, timeout: 5_000, stdin: 'ignore' });
      return r.exitCode === 0 ? name : null;
    }),
  );
  return new Set(found.filter((n): n is string => n !== null));
}

/** GPUs nvidia-smi lists; 0 without it. */
export async function probeGpus(): Promise<number> {
  const r = await execa('nvidia-smi', ['--list-gpus'], { reject: false, timeout: 10_000, stdin: 'ignore' });
  return r.exitCode === 0 ? String(r.stdout).split('\n').filter((l) => /^GPU \d+/.test(l)).length : 0;
}

export async function probeMachine(harborBin: string): Promise<Probe> {
  const [harbor, dockerReachable, parentDeath] = await Promise.all([probeHarbor(harborBin), probeDocker(), findParentDeathWrapper()]);
  return { harborVersion: harbor.version, dockerReachable, lastError: harbor.error, parentDeath };
}
