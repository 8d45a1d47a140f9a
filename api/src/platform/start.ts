// `npm start`: the whole platform from one command. Uses DATABASE_URL and NATS_URL when set;
// otherwise starts a PostgreSQL server and a nats-server child with data under DATA_DIR. Applies
// migrations, starts every platform process, prints where to find it, and on Ctrl-C stops
// everything it started, in reverse order.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { redactNatsUrl } from 'runner/protocol';
import { ConfigError, readConfig, type ApiConfig } from '../config/env.js';
import { migrationsDir, repoRoot } from '../config/paths.js';
import { describeDatabaseUrl } from '../db/client.js';
import { explainConnectionError } from '../db/errors.js';
import { deployMigrations } from '../db/migrate.js';
import { keepServingOnUncaught } from '../edge/process.js';
import { startEmbeddedNats } from './embedded-nats.js';
import { startPostgres } from './embedded-postgres.js';

const log = (line: string) => console.log(`[start] ${line}`);

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

/** The platform's processes, each started with tsx from its package's main, in this order. */
// The runner gets SIGTERM twice: Ctrl-C means stop now, its running trials go back to the queue
// (once would let them finish first, which can take an hour).
const PROCESSES = [
  { name: 'api', entry: 'api/src/main.ts', stopSignals: 1, waitForHealth: true },
  { name: 'runner', entry: 'runner/src/main.ts', stopSignals: 2, waitForHealth: false },
] as const;

/** Other ways to authenticate to NATS, dropped when the embedded server hands out its own users. */
const NATS_AUTH_VARS = ['NATS_USER', 'NATS_PASSWORD', 'NATS_CREDS', 'NATS_NKEY_SEED', 'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY'];

/** Harbor gets this long to tear its containers down when the runner stops a trial. */
const RUNNER_STOP_GRACE_MS = 130_000;

/**
 * Provider keys are sealed with SECRETS_KEY. Without one configured, a key is made once and kept
 * under DATA_DIR, so keys stored by one start can be opened after the next.
 */
async function localSecretsKey(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'secrets.key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const key = randomBytes(32).toString('base64');
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' }).catch(() => {});
    return (await readFile(file, 'utf8')).trim();
  }
}

function spawnProcess(entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(repoRoot, entry)], {
    cwd: repoRoot,
    env,
    stdio: 'inherit',
    // Own process group: Ctrl-C reaches the launcher, which stops children in order.
    detached: true,
  });
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('the API exited during start-up');
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ health { ok } }' }),
        signal: AbortSignal.timeout(2_000),
      });
      const body = (await response.json()) as { data?: { health?: { ok: boolean } } };
      if (body.data?.health?.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the API did not report healthy at ${url} within ${timeoutMs / 1000} s`);
}

async function main(): Promise<void> {
  let config: ApiConfig;
  try {
    config = readConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`[start] ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const started: Stoppable[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const s of started.reverse()) {
      await s.stop().catch((error: Error) => console.error(`[start] stopping ${s.name}: ${error.message}`));
    }
    log('everything stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    let databaseUrl = config.databaseUrl;
    let databaseLabel = databaseUrl ? describeDatabaseUrl(databaseUrl) : '';
    if (!databaseUrl) {
      const startedAt = Date.now();
      const postgres = await startPostgres({ dataDir: path.join(config.dataDir, 'postgres'), log });
      started.push({ name: 'embedded PostgreSQL', stop: postgres.stop });
      log(`PostgreSQL ${postgres.version} is up on port ${postgres.port} (${Date.now() - startedAt} ms)`);
      databaseUrl = postgres.url;
      databaseLabel = `${describeDatabaseUrl(postgres.url)} (embedded PostgreSQL ${postgres.version}, data in ${postgres.dataDir})`;
      void postgres.exited.then((code) => {
        if (!stopping) {
          console.error(`[start] PostgreSQL exited unexpectedly (status ${code})`);
          void stopAll(1);
        }
      });
    }
    const migrated = await deployMigrations(databaseUrl, migrationsDir, log).catch((error: unknown) => {
      throw new Error(`migrating ${databaseLabel}: ${explainConnectionError(error)}`);
    });
    if (migrated.applied.length === 0) log('database schema is up to date');

    let natsUrl = config.natsUrl;
    let natsLabel = redactNatsUrl(natsUrl ?? '');
    // With NATS_URL, both processes connect with what the environment says (NATS_USER, …).
    let natsEnv: (name: 'api' | 'runner') => Record<string, string | undefined> = () => ({});
    if (!natsUrl) {
      const nats = await startEmbeddedNats(config.dataDir, undefined, undefined, { prefix: config.natsPrefix });
      started.push({ name: 'embedded nats-server', stop: nats.stop });
      natsUrl = nats.url;
      natsLabel = `${nats.url} (embedded nats-server, store in ${path.join(config.dataDir, 'nats')}, users in ${path.join(config.dataDir, 'nats-users.json')})`;
      // Each process gets its own user: the runner's cannot publish orders, the API's cannot beat as a runner.
      natsEnv = (name) => ({ ...Object.fromEntries(NATS_AUTH_VARS.map((v) => [v, undefined])), ...nats.env(name) });
      void nats.exited.then((code) => {
        if (!stopping) {
          console.error(`[start] nats-server exited unexpectedly (status ${code})`);
          void stopAll(1);
        }
      });
    }

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SECRETS_KEY: process.env.SECRETS_KEY || (await localSecretsKey(config.dataDir)),
      DATABASE_URL: databaseUrl,
      NATS_URL: natsUrl,
      PORT: String(config.port),
      HOST: config.host,
      DATA_DIR: config.dataDir,
      TASKS_DIR: config.tasksDir,
      JOBS_DIR: config.jobsDir,
    };
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const apiUrl = `http://${host}:${config.port}/graphql`;
    for (const p of PROCESSES) {
      const child = spawnProcess(p.entry, { ...env, ...natsEnv(p.name) });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      started.push({
        name: p.name,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          for (let i = 0; i < p.stopSignals; i++) child.kill('SIGTERM');
          const grace = p.name === 'runner' ? RUNNER_STOP_GRACE_MS : config.shutdownGraceMs + 5_000;
          const timer = setTimeout(() => child.kill('SIGKILL'), grace);
          await exited;
          clearTimeout(timer);
        },
      });
      child.once('exit', (code, signal) => {
        if (!stopping) {
          console.error(`[start] ${p.name} exited unexpectedly (${signal ?? `status ${code}`})`);
          void stopAll(1);
        }
      });
      // A launcher killed outright must not leave its detached children behind.
      process.once('exit', () => child.kill('SIGKILL'));
      // Later processes need what this one sets up (the API creates the streams runners use).
      if (p.waitForHealth) await waitForHealth(apiUrl, child, 60_000);
    }

    console.log(
      [
        '',
        'Terminal-Bench Harbor Runner is up',
        `  Web app      http://${host}:${config.port}/`,
        `  GraphQL API  ${apiUrl}  (open it in a browser for GraphiQL)`,
        `  WebSocket    ws://${host}:${config.port}/graphql  (graphql-ws subscriptions)`,
        `  Database     ${databaseLabel}`,
        `  NATS         ${natsLabel}`,
        `  Runner       ${process.env.RUNNER_CONCURRENCY ?? 2} slot(s), Harbor: ${process.env.HARBOR_BIN ?? 'harbor'} (see [runner] lines)`,
        `  Data         ${config.dataDir}`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    // From here a stray error (a child's pipe, a timer) must not stop the children with the launcher.
    keepServingOnUncaught((line) => console.error(`[start] ${line}`));
  } catch (error) {
    console.error(`[start] ${(error as Error).message}`);
    await stopAll(1);
  }
}

void main();
