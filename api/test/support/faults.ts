// Fault tests break servers on purpose, so they never touch the shared ones: each rig has its own
// nats-server (stopped and started again on the same port and store), its own database, an API
// running as a child process (SIGKILL-able) and runner processes driving the Harbor simulator.
// The counting helpers say what a fault cost, per job, from the database and the simulator's ledger.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { topology, type Topology } from 'runner/protocol';
import { waitFor } from 'runner/test-support';
import type { Db } from '../../src/db/client.js';
import { connectNats } from '../../src/nats/connection.js';
import { freePort } from '../../src/platform/ports.js';
import { createTestDatabase, useDatabase, type TestDatabase } from './database.js';
import { jobHarness, type HarnessTarget, type JobHarness } from './jobs.js';
import { testNatsUsers, type TestNatsUsers } from './nats-auth.js';
import { startOwnPostgres, type OwnPostgres } from './own-postgres.js';
import { cleanEnv, startEntry, type Started } from './process.js';
import { newSecret, TOKEN_PREFIX } from '../../src/auth/secrets.js';
import { useToken } from './auth.js';

// --- nats-server ------------------------------------------------------------------------------

export interface OwnNats {
  url: string;
  port: number;
  storeDir: string;
  /** What the server wrote to stderr lately (errors, permission violations). */
  log(): string;
  /** SIGTERM lets JetStream flush its store; SIGKILL is a crash. Resolves once the server has exited. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port with the same store; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good and removes its store. */
  close(): Promise<void>;
}

async function natsServerBinary(): Promise<string> {
  // Debian installs nats-server in /usr/sbin, which is not on every user's PATH.
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'nats-server');
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  throw new Error('fault tests need nats-server on PATH (Debian/Ubuntu: apt-get install nats-server)');
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    }).once('error', () => resolve(false));
  });

/**
 * A nats-server with JetStream on a free port and a temporary store, for this test alone.
 * `authorization`: a users block (api/src/nats/conf.ts) the server then requires; `config`: more
 * configuration (a tls block).
 */
export async function startOwnNats(options: { authorization?: string; config?: string } = {}): Promise<OwnNats> {
  const bin = await natsServerBinary();
  const storeDir = await mkdtemp(path.join(os.tmpdir(), 'thr-faults-nats-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let stderr = '';
  let args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
  if (options.authorization || options.config) {
    const conf = path.join(storeDir, 'nats.conf');
    const extra = `${options.authorization ?? ''}\n${options.config ?? ''}\n`;
    await writeFile(conf, `listen: "127.0.0.1:${port}"\njetstream { store_dir: ${JSON.stringify(storeDir)} }\n${extra}`);
    args = ['-c', conf];
  }

  const start = async () => {
    if (child) throw new Error('nats-server is already running');
    const server = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    // Kept long enough to read every permission violation the server logged.
    server.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-256_000)));
    child = server;
    exited = new Promise((resolve) => server.once('exit', () => resolve()));
    await waitFor(
      async () => {
        if (server.exitCode !== null) throw new Error(`nats-server exited with status ${server.exitCode}: ${stderr.trim()}`);
        return accepts(port);
      },
      { timeoutMs: 20_000, what: `nats-server to accept connections on port ${port}` },
    );
  };
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    if (!child) return;
    child.kill(signal);
    await exited;
    child = null;
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    log: () => stderr,
    stop,
    start,
    close: async () => {
      await stop('SIGKILL');
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

// --- the API as a process -----------------------------------------------------------------------

export interface ApiProcess {
  url: string;
  port: number;
  /** The process running now (a new one after each start). */
  current(): Started;
  /** Sends the signal and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again, same settings and port; resolves once it serves GraphQL. */
  start(): Promise<void>;
}

/** api/src/main.ts as `npm start` runs it in production, with exactly the settings given. */
export async function startApiProcess(settings: Record<string, string>): Promise<ApiProcess> {
  const port = await freePort();
  // The process seeds this ADMIN token (first start), and every request of the test sends it (support/auth.ts).
  const adminToken = newSecret(TOKEN_PREFIX);
  const env = cleanEnv({ HOST: '127.0.0.1', PORT: String(port), SHUTDOWN_GRACE_MS: '1000', ADMIN_TOKEN: adminToken, ...settings });
  useToken(`http://127.0.0.1:${port}/graphql`, adminToken);
  let running: Started | null = null;
  const start = async () => {
    const started = startEntry('api/src/main.ts', env);
    running = started;
    await started.waitFor(/GraphQL \(HTTP and WebSocket\) at/, 60_000);
  };
  await start();
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    port,
    current: () => running!,
    kill: async (signal = 'SIGKILL') => {
      const { child, exited } = running!;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    start,
  };
}

// --- the rig -------------------------------------------------------------------------------------

export interface FaultRig extends HarnessTarget {
  database: TestDatabase & { db: Db };
  /** The database server of the test's own, with `ownPostgres: true`; otherwise the database is on the shared server. */
  ownPostgres: OwnPostgres | null;
  ownNats: OwnNats;
  topology: Topology;
  /** With `auth`: the users the server requires. */
  users: TestNatsUsers | null;
  api: ApiProcess;
  /** Runners with the Harbor simulator, tasks and jobs through the API (support/jobs.ts). */
  harness: JobHarness;
  /** The test's own connection to ownNats; it reconnects after a restart. */
  client: NatsConnection;
  close(): Promise<void>;
}

export interface FaultRigOptions {
  apiSettings?: Record<string, string>;
  /**
   * The nats-server requires the platform's users with their permissions (nats.conf); the API
   * connects with NATS_USER/NATS_PASSWORD, runners with credentials in NATS_URL, the test's client as the API.
   */
  auth?: boolean;
  /** A PostgreSQL server of the test's own (support/own-postgres.ts), for a test that stops it. */
  ownPostgres?: boolean;
}

async function rigDatabase(own: boolean): Promise<{ database: TestDatabase & { db: Db }; ownPostgres: OwnPostgres | null }> {
  if (!own) return { database: await createTestDatabase(), ownPostgres: null };
  const ownPostgres = await startOwnPostgres();
  return { database: await useDatabase(ownPostgres.url, 4), ownPostgres };
}

export async function startFaultRig(options: FaultRigOptions = {}): Promise<FaultRig> {
  const prefix = `f${randomBytes(4).toString('hex')}`;
  const users = options.auth ? await testNatsUsers(topology(prefix)) : null;
  const [{ database, ownPostgres }, ownNats, tasksDir, jobsDir] = await Promise.all([
    rigDatabase(options.ownPostgres ?? false),
    startOwnNats({ authorization: users?.authorization }),
    mkdtemp(path.join(os.tmpdir(), 'thr-faults-tasks-')),
    mkdtemp(path.join(os.tmpdir(), 'thr-faults-jobs-')),
  ]);
  const api = await startApiProcess({
    DATABASE_URL: database.url,
    NATS_URL: ownNats.url,
    ...users?.env('api'),
    NATS_PREFIX: prefix,
    TASKS_DIR: tasksDir,
    JOBS_DIR: jobsDir,
    DATA_DIR: jobsDir,
    // No web app: the API alone.
    WEB_DIR: path.join(jobsDir, 'no-web-app'),
    ...options.apiSettings,
  });
  const client = await connectNats(ownNats.url, 'fault-test', undefined, { env: users?.env('api') ?? {} });
  const runnerUrl = users ? `nats://runner:${users.passwords.runner}@127.0.0.1:${ownNats.port}` : ownNats.url;
  const target: HarnessTarget = { url: api.url, tasksDir, jobsDir, nats: { url: runnerUrl, prefix } };
  const harness = await jobHarness(target);
  return {
    ...target,
    database,
    ownPostgres,
    ownNats,
    topology: topology(prefix),
    users,
    api,
    harness,
    client,
    close: async () => {
      await harness.close();
      await api.kill('SIGKILL');
      await client.close();
      await ownNats.close();
      await database.drop();
      await ownPostgres?.close();
      await rm(tasksDir, { recursive: true, force: true });
      await rm(jobsDir, { recursive: true, force: true });
    },
  };
}

// --- counting -----------------------------------------------------------------------------------

const UUID = /^run-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:-|$)/;

export interface TrialLedger {
  /** Trials started, by run id. */
  starts: Map<string, number>;
  /** Harbor processes that ended through the shell (not on kill -9), by run id. */
  ends: Map<string, number>;
  /** Trials that ran to the end (`end … finished`), by run id: not those cancelled or aborted. */
  finishes: Map<string, number>;
}

/**
 * The simulator's ledger (HARBOR_SIM_LEDGER): "start <job_name> <ms> <pid> <ppid>" and
 * "end <job_name> <ms> <pid> <ppid> finished|cancelled|aborted", the job name being run-<runId>-…
 * (whatever the runner appends: delivery, dispatch numbers).
 */
export async function readLedger(file: string): Promise<TrialLedger> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const ledger: TrialLedger = { starts: new Map(), ends: new Map(), finishes: new Map() };
  const add = (counts: Map<string, number>, runId: string) => counts.set(runId, (counts.get(runId) ?? 0) + 1);
  for (const line of text.split('\n')) {
    const [kind, jobName, , , , how] = line.split(' ');
    const runId = UUID.exec(jobName ?? '')?.[1];
    if (!runId || (kind !== 'start' && kind !== 'end')) continue;
    add(kind === 'start' ? ledger.starts : ledger.ends, runId);
    if (kind === 'end' && how === 'finished') add(ledger.finishes, runId);
  }
  return ledger;
}

/** Harbor processes that have ended so far, however they ended. */
export async function trialsEnded(file: string): Promise<number> {
  return [...(await readLedger(file)).ends.values()].reduce((n, e) => n + e, 0);
}

/**
 * The usual mid-job start: a passing simulated task of four `phaseMs` phases, two runners of two
 * slots with `runnerSettings`, a job of `runs` runs; resolves once two of its trials run.
 */
export async function startRunningJob(
  rig: FaultRig,
  options: { name: string; runs: number; phaseMs?: number; runnerSettings?: Record<string, string> },
): Promise<string> {
  const h = rig.harness;
  const task = await h.simulatedTask(options.name, { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: String(options.phaseMs ?? 300) });
  const runners = [h.startRunner(`${options.name}-a`, 2, options.runnerSettings), h.startRunner(`${options.name}-b`, 2, options.runnerSettings)];
  await Promise.all(runners.map((r) => r.waitFor(/ready/)));
  const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: options.runs });
  await waitFor(async () => (await rig.database.db.run.count({ where: { jobId, status: 'RUNNING' } })) >= 2, {
    timeoutMs: 60_000,
    what: 'two trials running',
  });
  return jobId;
}

const FINAL_RUN = ['PASSED', 'FAILED', 'ERRORED', 'CANCELLED'];
const FINAL_JOB = ['COMPLETED', 'CANCELLED'];

/**
 * Waits until the job and all its runs are in a final state, up to `boundMs`. Resolves false at
 * the bound rather than throwing, so the counts can say what went wrong.
 */
export async function settle(db: Db, jobId: string, boundMs: number): Promise<boolean> {
  return waitFor(
    async () => {
      const job = await db.job.findUnique({ where: { id: jobId }, select: { status: true } });
      if (!job || !FINAL_JOB.includes(job.status)) return false;
      const [open] = await db.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM "Run" WHERE "jobId" = ${jobId}::uuid AND status::text <> ALL(${FINAL_RUN})`;
      return open!.n === 0;
    },
    { timeoutMs: boundMs, what: `job ${jobId} to settle`, intervalMs: 250 },
  ).then(
    () => true,
    () => false,
  );
}

/**
 * What a fault cost one job, each a count that should be 0, and `problems` in words:
 * - lost: runs that never reached a final state (or were never written) of the `expectedRuns`;
 * - recordedTwice: job counters (runs by status, total, tokens, cost) that disagree with a
 *   GROUP BY over its runs, as when an outcome is applied twice;
 * - stuck: runs still QUEUED, CLAIMED or RUNNING, plus the job if it is left CANCELLING;
 * - trialsRunTwice: runs whose trial ran to the end more than once in the simulator's ledger (a
 *   trial cut short, its runner killed, and run again elsewhere is not one: that is what redelivery is for).
 * Call it after `settle` (or its bound).
 */
export interface FaultCounts {
  lost: number;
  recordedTwice: number;
  stuck: number;
  trialsRunTwice: number;
  problems: string[];
}

export async function countFaults(db: Db, ledgerFile: string, jobId: string, expectedRuns: number): Promise<FaultCounts> {
  const problems: string[] = [];
  const job = await db.job.findUnique({ where: { id: jobId } });
  if (!job) return { lost: expectedRuns, recordedTwice: 0, stuck: 0, trialsRunTwice: 0, problems: [`job ${jobId} does not exist`] };

  const byStatus = await db.$queryRaw<{ status: string; n: number }[]>`
    SELECT status::text AS status, count(*)::int AS n FROM "Run" WHERE "jobId" = ${jobId}::uuid GROUP BY status`;
  const runs = new Map(byStatus.map((r) => [r.status, r.n]));
  const total = byStatus.reduce((n, r) => n + r.n, 0);
  const finished = FINAL_RUN.reduce((n, s) => n + (runs.get(s) ?? 0), 0);
  const lost = expectedRuns - finished;
  if (lost > 0) problems.push(`lost: ${lost} of ${expectedRuns} runs never reached a final state (${total} written)`);

  let recordedTwice = 0;
  const counters: [string, number, number][] = [
    ['runsTotal', job.runsTotal, total],
    ['runsQueued', job.runsQueued, runs.get('QUEUED') ?? 0],
    ['runsClaimed', job.runsClaimed, runs.get('CLAIMED') ?? 0],
    ['runsRunning', job.runsRunning, runs.get('RUNNING') ?? 0],
    ['runsPassed', job.runsPassed, runs.get('PASSED') ?? 0],
    ['runsFailed', job.runsFailed, runs.get('FAILED') ?? 0],
    ['runsErrored', job.runsErrored, runs.get('ERRORED') ?? 0],
    ['runsCancelled', job.runsCancelled, runs.get('CANCELLED') ?? 0],
  ];
  const [sums] = await db.$queryRaw<{ input: string; cache: string; output: string; cost: string; costAgrees: boolean }[]>`
    SELECT coalesce(sum(r."inputTokens"), 0)::text AS input, coalesce(sum(r."cacheTokens"), 0)::text AS cache,
           coalesce(sum(r."outputTokens"), 0)::text AS output, coalesce(sum(r."costUsd"), 0)::text AS cost,
           (SELECT "costUsd" FROM "Job" WHERE id = ${jobId}::uuid) = coalesce(sum(r."costUsd"), 0) AS "costAgrees"
      FROM "Run" r WHERE r."jobId" = ${jobId}::uuid`;
  const tokenCounters: [string, bigint, bigint][] = [
    ['inputTokens', job.inputTokens, BigInt(sums!.input)],
    ['cacheTokens', job.cacheTokens, BigInt(sums!.cache)],
    ['outputTokens', job.outputTokens, BigInt(sums!.output)],
  ];
  for (const [name, recorded, counted] of [...counters, ...tokenCounters]) {
    if (recorded !== counted) {
      recordedTwice += 1;
      problems.push(`recorded twice: job.${name} is ${recorded}, its runs say ${counted}`);
    }
  }
  if (!sums!.costAgrees) {
    recordedTwice += 1;
    problems.push(`recorded twice: job.costUsd is ${job.costUsd.toString()}, its runs add up to ${sums!.cost}`);
  }

  let stuck = (runs.get('QUEUED') ?? 0) + (runs.get('CLAIMED') ?? 0) + (runs.get('RUNNING') ?? 0);
  if (stuck > 0) problems.push(`stuck: ${stuck} runs QUEUED/CLAIMED/RUNNING (${[...runs].map(([s, n]) => `${s} ${n}`).join(', ')})`);
  if (job.status === 'CANCELLING') {
    stuck += 1;
    problems.push('stuck: the job is still CANCELLING');
  }

  const ledger = await readLedger(ledgerFile);
  const ids = (await db.run.findMany({ where: { jobId }, select: { id: true } })).map((r) => r.id);
  let trialsRunTwice = 0;
  for (const id of ids) {
    const finishes = ledger.finishes.get(id) ?? 0;
    if (finishes > 1) {
      trialsRunTwice += 1;
      problems.push(`trial run twice: run ${id} finished ${finishes} times (started ${ledger.starts.get(id) ?? 0})`);
    }
  }
  return { lost, recordedTwice, stuck, trialsRunTwice, problems };
}

/** The outcome every fault scenario wants, for `expect(counts).toEqual(NO_FAULTS)` with a readable diff. */
export const NO_FAULTS: FaultCounts = { lost: 0, recordedTwice: 0, stuck: 0, trialsRunTwice: 0, problems: [] };
