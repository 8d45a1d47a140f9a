// What this machine can do, checked at start-up and reported in heartbeats; the breaker
// (health.ts) re-runs the same checks while the runner is degraded.
import { open } from 'node:fs/promises';
import path from 'node:path';
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

/**
 * Which of `modules` Harbor's Python can import: the interpreter is read from HARBOR_BIN's `#!` line
 * (a pip or uv install writes one). Null when HARBOR_BIN is no Python entry point (a wrapper, a test
 * double) or the check fails: then nothing is ruled out.
 */
export async function probeHarborModules(harborBin: string, modules: readonly string[]): Promise<Set<string> | null> {
  const where = await execa('sh', ['-c', 'command -v "$1"', 'sh', harborBin], { reject: false, timeout: 5_000, stdin: 'ignore' });
  if (where.exitCode !== 0) return null;
  let head: string;
  try {
    const file = await open(String(where.stdout).trim(), 'r');
    try {
      const buffer = Buffer.alloc(256);
      const { bytesRead } = await file.read(buffer, 0, 256, 0);
      head = buffer.subarray(0, bytesRead).toString('utf8').split('\n')[0]!;
    } finally {
      await file.close();
    }
  } catch {
    return null;
  }
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(head);
  const python = shebang && (path.basename(shebang[1]!) === 'env' ? shebang[2] : shebang[1]);
  if (!python || !/python/.test(path.basename(python))) return null;
  const script = 'import importlib.util as u, sys\nprint(",".join(m for m in sys.argv[1:] if u.find_spec(m)))';
  const found = await execa(python, ['-c', script, ...modules], { reject: false, timeout: 30_000, stdin: 'ignore' });
  return found.exitCode === 0 ? new Set(String(found.stdout).trim().split(',').filter(Boolean)) : null;
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
