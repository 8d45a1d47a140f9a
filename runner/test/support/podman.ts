// A real container engine for tests: podman serving the Docker Engine API on a socket of the test's
// own (shared/containers.md). No image can be pulled here, so the one image the tests run is made
// from the host's static busybox and imported under a project-prefixed name, cached between runs.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './wait.js';

/** A container that just sleeps: `sleep` and `sh` are busybox applets. */
export const SLEEPER_IMAGE = 'localhost/thr-test-sleeper:latest';

/** Why the podman tests cannot run here, or null when they can: only a missing podman skips them. */
export const podmanMissing: string | null =
  spawnSync('podman', ['--version'], { encoding: 'utf8' }).status === 0
    ? null
    : 'podman is not installed (apt-get install -y podman runc; see shared/containers.md and .ci/run)';

export function podman(...args: string[]): string {
  return execFileSync('podman', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Imports SLEEPER_IMAGE from a static busybox (Debian's busybox-static) unless it exists. */
export async function ensureSleeperImage(): Promise<void> {
  if (spawnSync('podman', ['image', 'exists', SLEEPER_IMAGE]).status === 0) return;
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => spawnSync(p, ['true']).status === 0);
  const ldd = busybox ? spawnSync('ldd', [busybox], { encoding: 'utf8' }) : null;
  if (!busybox || (ldd && ldd.status === 0 && !/not a dynamic executable/.test(ldd.stdout + ldd.stderr))) {
    throw new Error('the sleeper image needs a static busybox on the host: apt-get install -y busybox-static');
  }
  const root = await mkdtemp(path.join(os.tmpdir(), 'thr-sleeper-'));
  try {
    await mkdir(path.join(root, 'rootfs/bin'), { recursive: true });
    await copyFile(busybox, path.join(root, 'rootfs/bin/busybox'));
    for (const applet of ['sh', 'sleep']) await symlink('busybox', path.join(root, 'rootfs/bin', applet));
    execFileSync('tar', ['-C', path.join(root, 'rootfs'), '-cf', path.join(root, 'rootfs.tar'), '.']);
    podman('import', path.join(root, 'rootfs.tar'), SLEEPER_IMAGE);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', headers: { host: 'docker' } }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

export interface PodmanService {
  /** For DOCKER_HOST. */
  dockerHost: string;
  socketPath: string;
  close(): Promise<void>;
}

/** `podman system service` on a socket in `dir`, answering the Docker API; close() stops it. */
export async function startPodmanService(dir: string): Promise<PodmanService> {
  const socketPath = path.join(dir, 'podman.sock');
  const child = spawn('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  child.stderr.on('data', (chunk: Buffer) => (said = (said + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(async () => (child.exitCode !== null ? Promise.reject(new Error(`podman system service exited: ${said}`)) : ping(socketPath)), {
    what: 'podman to answer on its socket',
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  return {
    dockerHost: `unix://${socketPath}`,
    socketPath,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A compose project's worth of things, labelled as Docker Compose labels them: a container on a network with a volume. */
export function startLabelledProject(project: string): { container: string; network: string; volume: string } {
  const label = `com.docker.compose.project=${project}`;
  const network = podman('network', 'create', '--label', label, `${project}_default`);
  const volume = podman('volume', 'create', '--label', label, `${project}_data`);
  const container = podman('run', '-d', '--stop-signal', 'KILL', '--name', `${project}-main-1`, '--label', label, '--network', `${project}_default`, '-v', `${project}_data:/data`, SLEEPER_IMAGE, 'sleep', '600');
  return { container, network, volume };
}

/** What is left with the compose project's label. */
export function projectLeftovers(project: string): { containers: string[]; networks: string[]; volumes: string[] } {
  const filter = `label=com.docker.compose.project=${project}`;
  const lines = (text: string) => text.split('\n').filter(Boolean);
  return {
    containers: lines(podman('ps', '-a', '-q', '--filter', filter)),
    networks: lines(podman('network', 'ls', '-q', '--filter', filter)),
    volumes: lines(podman('volume', 'ls', '-q', '--filter', filter)),
  };
}

/** Removes whatever a failed test left of a project. */
export function removeProject(project: string): void {
  const filter = `label=com.docker.compose.project=${project}`;
  for (const id of projectLeftovers(project).containers) spawnSync('podman', ['rm', '-f', id]);
  spawnSync('podman', ['network', 'prune', '-f', '--filter', filter]);
  spawnSync('podman', ['volume', 'prune', '-f', '--filter', filter]);
}
