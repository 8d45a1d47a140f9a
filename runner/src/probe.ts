// What this machine can do, checked at start-up and reported in heartbeats.
import { execa } from 'execa';

export interface Probe {
  harborVersion: string | null;
  dockerReachable: boolean | null;
  lastError: string | null;
}

/** The Harbor release the runner is written against (harbor-contract.md §1). */
export const PINNED_HARBOR_VERSION = '0.22.0';

export async function probeMachine(harborBin: string): Promise<Probe> {
  let harborVersion: string | null = null;
  let lastError: string | null = null;
  const harbor = await execa(harborBin, ['--version'], { reject: false, timeout: 15_000, stdin: 'ignore' });
  if ((harbor as { code?: string }).code === 'ENOENT') {
    lastError = `Harbor is not installed: ${harborBin} was not found (install harbor ${PINNED_HARBOR_VERSION} or set HARBOR_BIN)`;
  } else if (harbor.exitCode !== 0) {
    lastError = `\`${harborBin} --version\` failed: ${String(harbor.stderr || harbor.stdout).trim().slice(0, 300)}`;
  } else {
    harborVersion = String(harbor.stdout).trim().split(/\s+/).pop() ?? null;
  }
  const docker = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: 10_000, stdin: 'ignore' });
  const dockerReachable = docker.exitCode === 0;
  return { harborVersion, dockerReachable, lastError };
}
