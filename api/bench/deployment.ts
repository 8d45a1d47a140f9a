// A whole platform for a benchmark, built and run as in production: the API under plain node
// (`api/dist/main.js`) against a throwaway database and NATS prefix, runners likewise with the
// Harbor simulator, and a scratch folder for TASKS_DIR and JOBS_DIR. `stop` removes it all.
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { newSecret, TOKEN_PREFIX } from '../src/auth/secrets.js';
import { freePort } from '../src/platform/ports.js';
import { graphql } from '../test/support/app.js';
import { useToken } from '../test/support/auth.js';
import { createTestDatabase } from '../test/support/database.js';
import { SIMULATOR, simulatorEnv } from 'runner/test-support/simulator';
import { createTestNats, type TestNats } from '../test/support/nats.js';
import { cleanEnv, startBuilt, type Started } from '../test/support/process.js';
import { tb2Task, under, zip } from '../test/support/task-zips.js';
import { uploadZips } from '../test/support/upload.js';

export interface Deployment {
  url: string;
  api: Started;
  runners: Started[];
  nats: TestNats;
  databaseUrl: string;
  scratch: string;
  /** Starts `count` runners with `slots` each and the simulator configured by `env`; waits until they are ready. */
  startRunners(count: number, slots: number, env?: Record<string, string>): Promise<Started[]>;
  /** Uploads `count` synthetic tasks, each with `harborSim` as its .harbor-sim file if given; returns their ids. */
  uploadTasks(count: number, prefix: string, harborSim?: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function deploy(label: string): Promise<Deployment> {
  const [database, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  await database.db.$disconnect();
  const scratch = await mkdtemp(path.join(os.tmpdir(), `thr-bench-${label}-`));
  const port = await freePort();
  const common = {
    NATS_URL: nats.url,
    NATS_PREFIX: nats.prefix,
    TASKS_DIR: path.join(scratch, 'tasks'),
    JOBS_DIR: path.join(scratch, 'jobs'),
    NODE_ENV: 'production',
  };
  // The platform requires sign-in: the benchmark acts as the first ADMIN, with a token seeded at start.
  const adminToken = newSecret(TOKEN_PREFIX);
  const api = startBuilt(
    'api/dist/main.js',
    cleanEnv({ ...common, DATABASE_URL: database.url, PORT: String(port), DATA_DIR: path.join(scratch, 'data'), ADMIN_TOKEN: adminToken }),
  );
  const runners: Started[] = [];
  const url = `http://127.0.0.1:${port}/graphql`;
  useToken(url, adminToken);
  const stop = async () => {
    // Runners get SIGTERM twice: stop their trials now rather than drain them.
    for (const p of [...runners, api].reverse()) {
      p.child.kill('SIGTERM');
      p.child.kill('SIGTERM');
    }
    await Promise.all([...runners, api].map((p) => p.exited));
    await nats.cleanup();
    await database.drop();
    await rm(scratch, { recursive: true, force: true });
  };
  try {
    await api.waitFor(/GraphQL \(HTTP and WebSocket\) at/, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    api,
    runners,
    nats,
    databaseUrl: database.url,
    scratch,
    startRunners: async (count, slots, env = {}) => {
      const started = Array.from({ length: count }, (_, i) =>
        startBuilt(
          'runner/dist/main.js',
          // HARBOR_SIM_* knobs go into a wrapper used as HARBOR_BIN: the runner passes none to Harbor. The
          // simulator needs no Docker, so the runners serve docker without one.
          simulatorEnv(cleanEnv({ ...common, RUNNER_ID: `${label}-${runners.length + i}`, RUNNER_CONCURRENCY: String(slots), HARBOR_BIN: SIMULATOR, RUNNER_ENVIRONMENT_TYPES: 'docker', ...env }), scratch),
        ),
      );
      runners.push(...started);
      await Promise.all(started.map((r) => r.waitFor(/ready/, 60_000)));
      return started;
    },
    uploadTasks: (count, prefix, harborSim) => uploadBenchTasks(url, count, prefix, harborSim),
    stop,
  };
}

/** Peak and current resident memory of a process, from /proc. */
export async function memoryMiB(pid: number): Promise<{ now: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  return { now: kb('VmRSS'), peak: kb('VmHWM') };
}

export const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

/** Uploads `count` synthetic TB2-shaped tasks to the API at `url`, each with `harborSim` as its .harbor-sim file if given; returns their ids. */
export async function uploadBenchTasks(url: string, count: number, prefix: string, harborSim?: string): Promise<string[]> {
  const tree = (name: string) => (harborSim === undefined ? tb2Task(name) : { ...tb2Task(name), '.harbor-sim': harborSim });
  const zips = await Promise.all(
    Array.from({ length: count }, async (_, i) => ({ name: `${prefix}-${i}.zip`, bytes: await zip(under(`${prefix}-${i}`, tree(`${prefix}-${i}`))) })),
  );
  const { body } = await uploadZips(url, zips, 'files { tasks { task { id } } }');
  return body.data.uploadTasks.data.files.map((f: any) => f.tasks[0].task.id);
}

export interface FinishedJob {
  jobId: string;
  /** Seconds from createJob to the job seen COMPLETED (polled every 100 ms). */
  wall: number;
  job: { status: string; runsPassed: number; runsTotal: number; attemptsTotal: number };
}

/**
 * Creates an oracle job of `runsPerTask` runs on each task, waits for it to complete and checks that
 * every run passed. Gives up after `timeoutMs`: a job that never completes is a failed benchmark.
 */
export async function runJobToEnd(url: string, taskIds: string[], runsPerTask: number, label: string, timeoutMs = 600_000): Promise<FinishedJob> {
  const started = performance.now();
  const created = await graphql(
    url,
    `mutation($input: CreateJobInput!) { createJob(input: $input) { ... on MutationCreateJobSuccess { data { id } } ... on Error { message } } }`,
    { input: { taskIds, agent: 'oracle', runsPerTask } },
  );
  const jobId = created.data?.createJob?.data?.id;
  if (!jobId) throw new Error(`${label}: createJob failed: ${JSON.stringify(created)}`);
  let job: FinishedJob['job'];
  for (;;) {
    job = (await graphql(url, `query($id: ID!) { job(id: $id) { status runsPassed runsTotal attemptsTotal } }`, { id: jobId })).data.job;
    if (job.status === 'COMPLETED') break;
    if (performance.now() - started > timeoutMs) throw new Error(`${label}: job ${jobId} not completed after ${timeoutMs / 1000} s: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const wall = (performance.now() - started) / 1000;
  const expected = runsPerTask * taskIds.length;
  if (job.runsPassed !== expected) throw new Error(`${label}: ${job.runsPassed} of ${expected} passed`);
  return { jobId, wall, job };
}
