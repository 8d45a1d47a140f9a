// Runner processes driving the Harbor simulator against a test API, and small helpers to launch
// and watch jobs through GraphQL.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { waitFor } from 'runner/test-support';
import { SIMULATOR, simulatorEnv } from 'runner/test-support/simulator';
import { graphql } from './app.js';
import { cleanEnv, startEntry, type Started } from './process.js';
import { tb2Task, under, zip } from './task-zips.js';
import { uploadZips } from './upload.js';

export { SIMULATOR };

export const JOB_QUERY = `query($id: ID!) { job(id: $id) { status runsTotal runsQueued runsClaimed runsRunning runsPassed runsFailed
  runsErrored runsCancelled inputTokens outputTokens costUsd hasProviderKey
  runs(first: 100) { totalCount edges { node { id status reward exceptionType exceptionMessage failureKind repeat attempt retryOfId
    deliveryCount runnerId task { name } harborTrialDir } } } } }`;

export const CREATE_JOB = `mutation($input: CreateJobInput!) { createJob(input: $input) {
  __typename ... on MutationCreateJobSuccess { data { id status runsTotal runsQueued } } ... on Error { code message } } }`;

/**
 * A runner killed with SIGKILL cleans nothing up (as in production): its Harbor processes, each in
 * its own process group, live on. Tests kill those groups so nothing outlives them.
 */
function reapSimulators(jobsDir: string): void {
  const ps = spawnSync('ps', ['-eo', 'pgid=,args='], { encoding: 'utf8' });
  const groups = new Set(
    ps.stdout
      .split('\n')
      .filter((line) => line.includes(SIMULATOR) && line.includes(jobsDir))
      .map((line) => Number(line.trim().split(/\s+/)[0])),
  );
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export interface LedgerEntry {
  kind: 'start' | 'end';
  /** The Harbor job name, run-<runId>-p<dispatch>-d<delivery>. */
  jobName: string;
  runId: string;
  at: number;
  /** The simulator's process, and the process that started it (the runner's guard). */
  pid: number;
  ppid: number;
  /** On `end`: what became of the trial (finished, cancelled, aborted). */
  how?: 'finished' | 'cancelled' | 'aborted';
}

/** The simulator's ledger (HARBOR_SIM_LEDGER in runner/test/harbor-sim/harbor). */
export async function readLedger(file: string): Promise<LedgerEntry[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [kind, jobName, at, pid, ppid, how] = line.split(' ');
      return { kind, jobName, runId: /^run-([0-9a-f-]{36})-/.exec(jobName!)?.[1] ?? '', at: Number(at), pid: Number(pid), ppid: Number(ppid), how } as LedgerEntry;
    });
}

export interface JobHarness {
  jobsDir: string;
  ledger: string;
  runners: Started[];
  startRunner(id: string, slots: number, env?: Record<string, string>): Started;
  /** Uploads a task whose simulated Harbor behaves as `sim` says (a `.harbor-sim` file in the package). */
  simulatedTask(name: string, sim: Record<string, string>): Promise<string>;
  createJob(input: Record<string, unknown>): Promise<string>;
  waitForJob(id: string, done: (job: any) => boolean, timeoutMs?: number): Promise<any>;
  /** Kills every runner started so far, so the next test chooses who runs its orders. */
  killRunners(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where the harness's runners and requests go: an in-process test API (a TestApp fits), or an API
 * process on servers of a fault test's own (support/faults.ts).
 */
export interface HarnessTarget {
  url: string;
  tasksDir: string;
  jobsDir: string;
  nats: { url: string; prefix: string };
}

export async function jobHarness(api: HarnessTarget): Promise<JobHarness> {
  const jobsDir = api.jobsDir;
  const ledger = path.join(jobsDir, 'ledger.txt');
  const runners: Started[] = [];
  return {
    jobsDir,
    ledger,
    runners,
    startRunner: (id, slots, env = {}) => {
      // HARBOR_SIM_* knobs go into a wrapper used as HARBOR_BIN: the runner passes none to Harbor.
      const runner = startEntry(
        'runner/src/main.ts',
        simulatorEnv(cleanEnv({
          NATS_URL: api.nats.url,
          NATS_PREFIX: api.nats.prefix,
          RUNNER_ID: id,
          RUNNER_CONCURRENCY: String(slots),
          TASKS_DIR: api.tasksDir,
          JOBS_DIR: jobsDir,
          HARBOR_BIN: SIMULATOR,
          HARBOR_SIM_PHASE_MS: '100',
          HARBOR_SIM_LEDGER: ledger,
          RUNNER_HEARTBEAT_MS: '500',
          // No Docker here: the simulator stands in for it.
          RUNNER_ENVIRONMENT_TYPES: 'docker',
          ...env,
        }), jobsDir),
      );
      runners.push(runner);
      return runner;
    },
    simulatedTask: async (name, sim) => {
      const files = { ...tb2Task(name), '.harbor-sim': Object.entries(sim).map(([k, v]) => `${k}=${v}\n`).join('') };
      const { body } = await uploadZips(api.url, [{ name: `${name}.zip`, bytes: await zip(under(name, files)) }]);
      return body.data.uploadTasks.data.files[0].tasks[0].task.id;
    },
    createJob: async (input) => {
      const { data } = await graphql(api.url, CREATE_JOB, { input });
      if (data.createJob.__typename !== 'MutationCreateJobSuccess') throw new Error(JSON.stringify(data.createJob));
      return data.createJob.data.id;
    },
    waitForJob: (id, done, timeoutMs = 60_000) =>
      waitFor(async () => {
        const job = (await graphql(api.url, JOB_QUERY, { id })).data.job;
        return done(job) && job;
      }, { timeoutMs, what: `job ${id} to get there`, intervalMs: 200 }),
    killRunners: async () => {
      for (const r of runners) r.child.kill('SIGKILL');
      await Promise.all(runners.map((r) => r.exited));
      runners.length = 0;
      reapSimulators(jobsDir);
    },
    close: async () => {
      for (const r of runners) r.child.kill('SIGKILL');
      await Promise.all(runners.map((r) => r.exited));
      reapSimulators(jobsDir);
    },
  };
}

/**
 * A run whose order runs out of deliveries: two runners share the consumer with one delivery and a
 * 2 s ack wait (JetStream notices an expired order only while some runner is pulling, so one stays
 * up), the one running the hanging trial is killed. Resolves with the job once COMPLETED.
 */
export async function giveUpOneOrder(h: JobHarness, taskName: string): Promise<any> {
  const task = await h.simulatedTask(taskName, { HARBOR_SIM_SCENARIO: 'hang' });
  const settings = { RUNNER_MAX_DELIVER: '1', RUNNER_ACK_WAIT_MS: '2000' };
  const runners: Record<string, Started> = { 'giveup-a': h.startRunner('giveup-a', 1, settings), 'giveup-b': h.startRunner('giveup-b', 1, settings) };
  await Promise.all(Object.values(runners).map((r) => r.waitFor(/ready/)));
  const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 1 });
  const running = await h.waitForJob(jobId, (j) => j.runsRunning === 1, 30_000);
  runners[running.runs.edges[0].node.runnerId]!.child.kill('SIGKILL');
  return h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 30_000);
}
