// The whole platform for browser tests, started the way a person starts it: `npm start`'s launcher
// (api/src/platform/start.ts) with its own throwaway PostgreSQL database and NATS prefix on the
// shared test servers, the built web app, and a runner driving the Harbor simulator.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
// The runner's own test support, by path: the web package does not depend on the runner's.
import { SIMULATOR, simulatorEnv } from '../../../runner/test/support/simulator.js';
import { consumeLoginLink, forgetAdmin, registerAdmin } from './auth.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export { SIMULATOR };
const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const natsUrl = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface Platform {
  /** http://127.0.0.1:<port> — the web app, with /graphql next to it. */
  url: string;
  dataDir: string;
  /** The first start's ADMIN API token (DATA_DIR/admin.token); every fetch to the platform sends it. */
  adminToken: string;
  /** The platform's own database, for tests that seed rows faster than the API could launch them. */
  databaseUrl: string;
  output(): string;
  graphql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function deleteStreams(prefix: string): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(`${prefix}_`) || name.startsWith(`KV_${prefix}_`)) await jsm.streams.delete(name);
    }
  } finally {
    await nc.close();
  }
}

export async function startPlatform(env: Record<string, string> = {}): Promise<Platform> {
  const id = randomBytes(5).toString('hex');
  const database = `thr_web_${id}`;
  const prefix = `w${id}`;
  await admin(`CREATE DATABASE "${database}"`);
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${database}`;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'thr-web-'));
  const port = await freePort();

  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['SECRETS_KEY', 'TASKS_DIR', 'JOBS_DIR', 'WEB_DIR', 'HOST']) delete childEnv[name];
  Object.assign(childEnv, {
    DATABASE_URL: databaseUrl.toString(),
    NATS_URL: natsUrl,
    NATS_PREFIX: prefix,
    PORT: String(port),
    DATA_DIR: dataDir,
    HARBOR_BIN: SIMULATOR,
    RUNNER_CONCURRENCY: '3',
    RUNNER_HEARTBEAT_MS: '1000',
    // No Docker here: the simulator stands in for it, so the runner is told it serves docker.
    RUNNER_ENVIRONMENT_TYPES: 'docker',
    ...env,
  });
  const child: ChildProcess = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(repoRoot, 'api/src/platform/start.ts')], {
    cwd: repoRoot,
    // HARBOR_SIM_* knobs reach the embedded runner's simulator through a wrapper used as HARBOR_BIN.
    env: simulatorEnv(childEnv, dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    forgetAdmin(`http://127.0.0.1:${port}`);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const timer = setTimeout(() => {
        // The launcher starts the API and the runner in process groups of their own, and a SIGKILLed
        // launcher cannot stop them: kill their groups first, or an orphaned API lives on after the
        // test dropped its database (seen spinning a core for the rest of a CI run).
        for (const pid of childPids(child.pid!)) killGroup(pid);
        killGroup(child.pid!);
      }, 20_000);
      await exited;
      clearTimeout(timer);
    }
    await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => {});
    await deleteStreams(prefix).catch(() => {});
    await rm(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 90_000;
  while (!/Terminal-Bench Harbor Runner is up/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the platform did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const url = `http://127.0.0.1:${port}`;
  // Signed in the way a person is on first start: the token file for scripts, the link for the browser.
  const adminToken = (await readFile(path.join(dataDir, 'admin.token'), 'utf8')).trim();
  await registerAdmin(url, adminToken, await consumeLoginLink(output, url));
  return {
    url,
    dataDir,
    adminToken,
    databaseUrl: databaseUrl.toString(),
    output: () => output,
    graphql: async (query, variables = {}) => {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: unknown; errors?: { message: string }[] };
      if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
      return body.data as any;
    },
    stop,
  };
}

/** The direct children of a process (the launcher's API and runner). */
function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return []; // none left (ps exits 1 when nothing matches)
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
