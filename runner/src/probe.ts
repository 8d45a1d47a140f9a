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

/** The Harbor release the runner is written against (harbor-contract.md §1). */
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

export async function probeMachine(harborBin: string): Promise<Probe> {
  const [harbor, dockerReachable, parentDeath] = await Promise.all([probeHarbor(harborBin), probeDocker(), findParentDeathWrapper()]);
  return { harborVersion: harbor.version, dockerReachable, lastError: harbor.error, parentDeath };
}
