// The compose stack of deploy/compose.yaml brought up for real with podman-compose: images built from
// this checkout (the Harbor simulator in the runner), every secret generated, host folders and a
// podman Docker-API socket of its own, free host ports. Used by `npm run test:deploy` and the
// container benchmarks; `down()` removes every container, volume, network and file it made.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { topology } from 'runner/protocol';
import { waitFor } from 'runner/test-support';
import { repoRoot } from '../../src/config/paths.js';
import { defaultUsers, hashPassword, randomPassword, renderAuthorization, replaceGeneratedBlock } from '../../src/nats/conf.js';
import { freePort } from '../../src/platform/ports.js';

/** Why the stack cannot come up here, or null: podman and podman-compose are both needed. */
export const composeMissing: string | null = (() => {
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman is not installed (see shared/containers.md and .ci/run)';
  if (spawnSync('podman-compose', ['version']).status !== 0) return 'podman-compose is not installed (apt-get install podman-compose)';
  return null;
})();

const run = (cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).slice(-2000)}`);
  return r.stdout;
};

/** Builds thr-platform and thr-runner (simulator) under `tag`, and stand-ins of the base images first. */
export function buildImages(tag: string, log: (line: string) => void = () => {}): { platform: string; runner: string } {
  const started = Date.now();
  run(path.join(repoRoot, 'deploy/images/local-bases/build.sh'), []);
  run(path.join(repoRoot, 'deploy/images/build.sh'), ['--tag', tag, '--harbor', 'simulator']);
  log(`images thr-platform:${tag} and thr-runner:${tag} built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { platform: `localhost/thr-platform:${tag}`, runner: `localhost/thr-runner:${tag}` };
}

export interface StackOptions {
  images: { platform: string; runner: string };
  runnerReplicas?: number;
  runnerConcurrency?: number;
  /** More variables for compose (e.g. HARBOR_SIM_* do not pass: the simulator reads them from each task's .harbor-sim). */
  env?: Record<string, string>;
}

export interface ComposeStack {
  project: string;
  /** platform-1 and platform-2 as published on 127.0.0.1. */
  urls: [string, string];
  adminToken: string;
  dataDir: string;
  /** The variables compose ran with (secrets included): for a second `up` or a kube play. */
  env: Record<string, string>;
  network: string;
  /** Running containers of a service, by name. */
  containers(service: string): string[];
  /** A container's address on the stack's network (reachable from this host, for scraping). */
  address(container: string): string;
  /** `podman kill` of one container (SIGKILL: a crash, not a stop). */
  kill(container: string): void;
  /** A GraphQL request to platform-1 (or `url`) as the first ADMIN. */
  graphql<T = any>(query: string, variables?: Record<string, unknown>, url?: string): Promise<T>;
  logs(container: string): string;
  down(): Promise<void>;
}

export async function upStack(options: StackOptions): Promise<ComposeStack> {
  const project = `thrdeploy${randomBytes(3).toString('hex')}`;
  const dir = await mkdtemp(path.join(os.tmpdir(), `${project}-`));
  const dataDir = path.join(dir, 'data');
  for (const sub of ['tasks', 'jobs']) {
    await mkdir(path.join(dataDir, sub), { recursive: true });
    await chown(path.join(dataDir, sub), 1000, 1000);
  }
  // NATS users as docs/deploy.md says: a password each, their bcrypt hashes in nats.conf.
  const apiPassword = randomPassword();
  const runnerPassword = randomPassword();
  const users = defaultUsers({ api: await hashPassword(apiPassword, 4), runner: await hashPassword(runnerPassword, 4) });
  const natsConf = path.join(dir, 'nats.conf');
  await writeFile(natsConf, replaceGeneratedBlock(await readFile(path.join(repoRoot, 'nats.conf'), 'utf8'), renderAuthorization(topology(''), users)));

  // The runners' Docker: podman's Docker-compatible API on a socket of this stack's own. podman-compose
  // 1.0 ignores group_add, so the socket is opened to the runners' uid 1000 by mode.
  const socket = path.join(dir, 'podman.sock');
  const service: ChildProcess = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { stdio: 'ignore' });
  await waitFor(() => existsSync(socket), { what: 'the podman socket', timeoutMs: 30_000, intervalMs: 100 });
  await chmod(socket, 0o666);

  const [port1, port2, metrics1, metrics2] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const adminToken = randomBytes(33).toString('base64url');
  const env: Record<string, string> = {
    POSTGRES_PASSWORD: randomPassword(),
    SECRETS_KEY: randomBytes(32).toString('base64'),
    NATS_API_PASSWORD: apiPassword,
    NATS_RUNNER_PASSWORD: runnerPassword,
    NATS_CONF: natsConf,
    THR_DATA_DIR: dataDir,
    DOCKER_GID: '0',
    DOCKER_SOCKET: socket,
    PUBLIC_URL: `http://127.0.0.1:${port1}`,
    ALLOWED_HOSTS: `127.0.0.1:${port2}`,
    ADMIN_TOKEN: adminToken,
    THR_PORT: String(port1),
    THR_PORT_2: String(port2),
    THR_METRICS_PORT: String(metrics1),
    THR_METRICS_PORT_2: String(metrics2),
    THR_PLATFORM_IMAGE: options.images.platform,
    THR_RUNNER_IMAGE: options.images.runner,
    NATS_IMAGE: 'docker.io/library/nats:2.9',
    POSTGRES_IMAGE: 'docker.io/library/postgres:15-bookworm',
    RUNNER_REPLICAS: String(options.runnerReplicas ?? 2),
    RUNNER_CONCURRENCY: String(options.runnerConcurrency ?? 4),
    ...options.env,
  };
  const compose = (...args: string[]) =>
    run('podman-compose', ['-p', project, '-f', path.join(repoRoot, 'deploy/compose.yaml'), ...args], { env: { ...process.env, ...env } });
  const urls: [string, string] = [`http://127.0.0.1:${port1}`, `http://127.0.0.1:${port2}`];

  const containers = (svc: string) =>
    run('podman', ['ps', '--filter', `label=io.podman.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${svc}`, '--format', '{{.Names}}'])
      .split('\n')
      .filter(Boolean)
      .sort();
  const graphql = async (query: string, variables: Record<string, unknown> = {}, url = urls[0]) => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: any; errors?: unknown[] };
    if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data;
  };
  const down = async () => {
    spawnSync('podman-compose', ['-p', project, '-f', path.join(repoRoot, 'deploy/compose.yaml'), 'down', '-v'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    // Whatever compose left (a container killed by the test, volumes, the network).
    const left = run('podman', ['ps', '-aq', '--filter', `label=io.podman.compose.project=${project}`]).split('\n').filter(Boolean);
    if (left.length) spawnSync('podman', ['rm', '-f', ...left]);
    for (const v of ['postgres', 'nats-1', 'nats-2', 'nats-3']) spawnSync('podman', ['volume', 'rm', '-f', `${project}_${v}`]);
    spawnSync('podman', ['network', 'rm', '-f', `${project}_default`]);
    service.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };

  try {
    compose('up', '-d');
    const stack: ComposeStack = {
      project,
      urls,
      adminToken,
      dataDir,
      env,
      network: `${project}_default`,
      containers,
      address: (container) => run('podman', ['inspect', container, '--format', `{{(index .NetworkSettings.Networks "${project}_default").IPAddress}}`]).trim(),
      kill: (container) => void run('podman', ['kill', container]),
      graphql,
      logs: (container) => {
        const r = spawnSync('podman', ['logs', container], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
        return r.stdout + r.stderr;
      },
      down,
    };
    // Up: both platforms answer, and every runner heartbeats LIVE. Until the NATS cluster has
    // elected its leaders, processes that started first exit on a timeout and are restarted.
    const replicas = options.runnerReplicas ?? 2;
    await waitFor(
      async () => {
        try {
          const [a, b] = await Promise.all(urls.map((u) => graphql('{ health { ok } runners { id state } }', {}, u)));
          return a.health.ok && b.health.ok && a.runners.filter((r: any) => r.state === 'LIVE').length === replicas;
        } catch {
          return false;
        }
      },
      { what: `the stack ${project} to come up with ${replicas} live runners`, timeoutMs: 180_000, intervalMs: 500 },
    );
    return stack;
  } catch (error) {
    const logs = containers('platform-1').map((c) => spawnSync('podman', ['logs', '--tail', '20', c], { encoding: 'utf8' }).stderr).join('\n');
    await down();
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
}
