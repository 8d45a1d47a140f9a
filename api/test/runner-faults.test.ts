// Runner faults end to end: a runner killed mid-trial takes its Harbor with it and the next delivery
// cleans up after it; a cancelled order is dropped unstarted; a sick runner hands its orders back and
// degrades instead of failing them; a runner that stops a trial unfinished hands its run back.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openCancellations, PROTOCOL_VERSION } from 'runner/protocol';
import { waitFor } from 'runner/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { countFaults, NO_FAULTS } from './support/faults.js';
import { JOB_QUERY, jobHarness, readLedger, type JobHarness } from './support/jobs.js';

let api: TestApp;
let h: JobHarness;
let scratch: string;
const mounts: string[] = [];

beforeAll(async () => {
  api = await startTestApp({ services: true });
  h = await jobHarness(api);
  scratch = await mkdtemp(path.join(os.tmpdir(), 'thr-runner-faults-'));
});
afterAll(async () => {
  await h?.close();
  for (const dir of mounts) execFileSync('umount', ['-l', dir]);
  await api?.close();
  await rm(scratch, { recursive: true, force: true });
});
afterEach(() => h.killRunners());

const until = <T>(probe: () => Promise<T>, what: string, timeoutMs = 30_000) => waitFor(probe, { what, timeoutMs, intervalMs: 100 });

/** What the faults of a test cost its job (support/faults.ts): NO_FAULTS when nothing was lost, doubled or stuck. */
const faultsOf = (jobId: string, runs: number) => countFaults(api.database.db, h.ledger, jobId, runs);

const alive = (pid: number) =>
  readFile(`/proc/${pid}/stat`, 'utf8').then(
    (text) => text.slice(text.lastIndexOf(')') + 2)[0] !== 'Z',
    () => false,
  );

async function runnerState(id: string) {
  const { data } = await graphql(api.url, '{ runners { id state busy degradedReason degradedSince } }');
  return data.runners.find((r: any) => r.id === id);
}

describe('a runner killed mid-trial', () => {
  it('takes its Harbor processes with it; the next delivery cleans up what they left and runs each trial to the end once', async () => {
    const task = await h.simulatedTask('sim-killed', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '800', HARBOR_SIM_CANCEL_DELAY_MS: '3000' });
    const doomed = h.startRunner('runner-killed', 2, { RUNNER_ACK_WAIT_MS: '3000' });
    await doomed.waitFor(/ready/);
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
    // Only the doomed runner is up: the first deliveries' trials are its.
    const started = await until(async () => {
      const mine = (await readLedger(h.ledger)).filter((e) => e.kind === 'start' && e.jobName.endsWith('-p1-d1'));
      return mine.length === 2 && mine;
    }, 'both trials to start on the doomed runner');
    doomed.child.kill('SIGKILL');

    // The kernel tells each Harbor, once, that its runner died; Harbor cancels its trial and tears down.
    const trialLog = async (jobName: string) => {
      const jobDir = path.join(h.jobsDir, jobName);
      const trial = (await readdir(jobDir, { withFileTypes: true })).find((d) => d.isDirectory())!.name;
      return { trial, text: await readFile(path.join(jobDir, trial, 'trial.log'), 'utf8') };
    };
    await until(async () => {
      for (const s of started) if (!(await trialLog(s.jobName)).text.includes('Trial cancelled')) return false;
      return true;
    }, 'both Harbor processes to begin cancelling', 10_000);
    // One of them has its teardown cut short (a second signal, as a stuck engine would leave it):
    // its containers stay behind, for the next delivery to take down.
    const [graceful, cutShort] = started as [(typeof started)[0], (typeof started)[0]];
    process.kill(cutShort.pid, 'SIGTERM');
    await until(async () => !(await alive(graceful.pid)) && !(await alive(cutShort.pid)), 'the dead runner’s Harbor processes to exit', 15_000);
    const ends = (await readLedger(h.ledger)).filter((e) => e.kind === 'end');
    expect(ends.find((e) => e.pid === graceful.pid)?.how).toBe('cancelled');
    expect(ends.find((e) => e.pid === cutShort.pid)?.how).toBe('aborted');

    // No engine answers, as on a machine without a daemon: the runner says so (containers.test.ts has a real one).
    const dockerHost = `unix://${scratch}/no-engine.sock`;
    const heir = h.startRunner('runner-heir', 2, { RUNNER_ACK_WAIT_MS: '3000', DOCKER_HOST: dockerHost });
    await heir.waitFor(/ready/);
    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 60_000);
    expect(await faultsOf(jobId, 2)).toEqual(NO_FAULTS);
    expect(job).toMatchObject({ runsTotal: 2, runsPassed: 2 });
    for (const e of job.runs.edges) expect(e.node).toMatchObject({ runnerId: 'runner-heir', deliveryCount: 2 });

    // Each run's trial started twice (killed once, re-run once); the one that ran to the end is the heir's.
    const ledger = await readLedger(h.ledger);
    for (const e of job.runs.edges) {
      const runId = e.node.id as string;
      expect(ledger.filter((l) => l.runId === runId && l.kind === 'start')).toHaveLength(2);
      expect(ledger.filter((l) => l.runId === runId && l.how === 'finished').map((l) => l.jobName)).toEqual([`run-${runId}-p1-d2`]);
    }
    // The dead deliveries' directories are marked abandoned, and only the trial whose teardown was
    // cut short has its compose project taken down (Harbor tears down before it writes a result).
    for (const s of started) {
      const marker = JSON.parse(await readFile(path.join(h.jobsDir, s.jobName, 'abandoned.json'), 'utf8'));
      expect(marker).toMatchObject({ runnerId: 'runner-heir', takenOverBy: s.jobName.replace(/-d1$/, '-d2') });
    }
    const { trial } = await trialLog(cutShort.jobName);
    expect(heir.output().match(/cannot take down the containers of trial/g)).toHaveLength(1);
    expect(heir.output()).toContain(
      `cannot take down the containers of trial ${trial} (left by ${cutShort.jobName}) through the Docker engine at ${dockerHost}: connect ENOENT`,
    );
  }, 120_000);
});

describe('a cancelled order', () => {
  it('is dropped by the runner that takes it, without starting Harbor', async () => {
    const task = await h.simulatedTask('sim-dropped', { HARBOR_SIM_SCENARIO: 'pass' });
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
    const runs = (await h.waitForJob(jobId, (j) => j.runs.totalCount === 2)).runs.edges.map((e: any) => e.node.id as string);
    const cancellations = await openCancellations(api.nats.nc, api.nats.topology);
    await cancellations.record([{ v: PROTOCOL_VERSION, runId: runs[0]!, jobId, reason: 'user', at: new Date().toISOString() }]);

    const runner = h.startRunner('runner-dropper', 2);
    const job = await h.waitForJob(jobId, (j) => j.runsQueued === 0 && j.runsRunning === 0 && j.runsClaimed === 0, 30_000);
    const byId = new Map(job.runs.edges.map((e: any) => [e.node.id, e.node]));
    expect(byId.get(runs[0])).toMatchObject({ status: 'CANCELLED', exceptionMessage: 'cancelled before it started', harborTrialDir: null });
    expect(byId.get(runs[1])).toMatchObject({ status: 'PASSED' });
    expect(runner.output()).toMatch(new RegExp(`run ${runs[0]}: cancelled before it started; dropping the order`));
    expect((await readLedger(h.ledger)).filter((e) => e.runId === runs[0])).toEqual([]);
    expect(await faultsOf(jobId, 2)).toEqual(NO_FAULTS);
  }, 60_000);
});

describe('a runner with a read-only JOBS_DIR', () => {
  it.skipIf(process.getuid?.() !== 0)(
    'hands its orders back and degrades; every run completes on the healthy runner; it resumes once writable again',
    async () => {
      const sickDir = await mkdtemp(path.join(scratch, 'sick-jobs-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', sickDir]);
      mounts.push(sickDir);
      const task = await h.simulatedTask('sim-sick', { HARBOR_SIM_SCENARIO: 'pass' });
      // A short ack wait: an order the killed healthy runner had pulled in its last moment comes back soon.
      const sick = h.startRunner('runner-sick', 2, { JOBS_DIR: sickDir, RUNNER_ACK_WAIT_MS: '3000' });
      await sick.waitFor(/ready/);
      execFileSync('mount', ['-o', 'remount,ro', sickDir]);

      const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 10 });
      await sick.waitFor(/degraded: JOBS_DIR .* is not usable: .*read-only file system/, 30_000);
      const degraded = await until(async () => {
        const r = await runnerState('runner-sick');
        return r?.state === 'DEGRADED' && r;
      }, 'the sick runner to show DEGRADED');
      // The heartbeat names the runner's JOBS_DIR by its placeholder, never by its path on the host.
      expect(degraded.degradedReason).toMatch(/JOBS_DIR \(\$JOBS_DIR\) is not usable: EROFS/);
      expect(degraded.degradedReason).not.toContain(sickDir);
      expect(degraded.degradedSince).toBeTruthy();

      const healthy = h.startRunner('runner-healthy', 2, { RUNNER_ACK_WAIT_MS: '3000' });
      const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 90_000);
      expect(await faultsOf(jobId, 10)).toEqual(NO_FAULTS);
      expect(job).toMatchObject({ runsTotal: 10, runsPassed: 10, runsErrored: 0, runsFailed: 0 });
      const runs = job.runs.edges.map((e: any) => e.node);
      expect(runs.filter((r: any) => r.failureKind === 'INFRASTRUCTURE')).toEqual([]);
      for (const r of runs) expect(r.runnerId).toBe('runner-healthy');
      // What the sick runner had taken went back to the queue and was delivered again.
      expect(runs.some((r: any) => r.deliveryCount > 1)).toBe(true);
      expect(await runnerState('runner-sick')).toMatchObject({ state: 'DEGRADED' });

      execFileSync('mount', ['-o', 'remount,rw', sickDir]);
      await until(async () => {
        const r = await runnerState('runner-sick');
        return r?.state === 'LIVE' && r.degradedReason === null;
      }, 'the sick runner to find itself healthy again', 60_000);
      expect(sick.output()).toMatch(/healthy again after: JOBS_DIR/);
      // It takes runs again.
      healthy.child.kill('SIGKILL');
      await healthy.exited;
      const next = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
      const after = await h.waitForJob(next, (j) => j.status === 'COMPLETED', 60_000);
      expect(await faultsOf(next, 2)).toEqual(NO_FAULTS);
      expect(after.runs.edges.map((e: any) => [e.node.status, e.node.runnerId])).toEqual([
        ['PASSED', 'runner-sick'],
        ['PASSED', 'runner-sick'],
      ]);
    },
    180_000,
  );
});

describe('a runner that cannot reach Docker', () => {
  it('reports DEGRADED with the reason when Docker is all it could serve, and fails no run', async () => {
    const task = await h.simulatedTask('sim-no-docker', { HARBOR_SIM_SCENARIO: 'pass' });
    // No RUNNER_ENVIRONMENT_TYPES: it serves what it finds, and a socket nobody listens on gives it nothing.
    const blind = h.startRunner('runner-no-docker', 2, { RUNNER_ENVIRONMENT_TYPES: undefined as unknown as string, DOCKER_HOST: `unix://${scratch}/no-docker.sock` });
    await blind.waitFor(/degraded: Docker is not reachable/, 30_000);
    const degraded = await until(async () => {
      const r = await runnerState('runner-no-docker');
      return r?.state === 'DEGRADED' && r;
    }, 'the runner without Docker to show DEGRADED');
    expect(degraded.degradedReason).toMatch(/Docker is not reachable .*serves no other environment type/);

    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
    // A healthy runner takes the job: nothing was failed or held by the degraded one.
    h.startRunner('runner-with-docker', 2);
    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 60_000);
    expect(job.runs.edges.map((e: any) => [e.node.status, e.node.runnerId])).toEqual([
      ['PASSED', 'runner-with-docker'],
      ['PASSED', 'runner-with-docker'],
    ]);
    expect(await faultsOf(jobId, 2)).toEqual(NO_FAULTS);
  }, 120_000);
});

describe('a runner stopped with a trial unfinished', () => {
  it('hands the run back: it shows QUEUED, not RUNNING on a runner that is gone, and another runner completes it', async () => {
    const task = await h.simulatedTask('sim-stopped', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '2000', HARBOR_SIM_CANCEL_DELAY_MS: '100' });
    const stopping = h.startRunner('runner-stopping', 1, { RUNNER_ACK_WAIT_MS: '60000' });
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 1 });
    await h.waitForJob(jobId, (j) => j.runsRunning === 1, 30_000);
    stopping.child.kill('SIGTERM');
    await stopping.waitFor(/SIGTERM: finishing 1 running trial/);
    stopping.child.kill('SIGTERM');
    expect((await stopping.exited).code).toBe(0);

    const released = (await graphql(api.url, JOB_QUERY, { id: jobId })).data.job;
    expect(released).toMatchObject({ runsQueued: 1, runsRunning: 0, runsClaimed: 0 });
    expect(released.runs.edges[0].node).toMatchObject({ status: 'QUEUED', runnerId: null });

    // The nak hands it to the next runner at once, not after the minute of ack wait.
    h.startRunner('runner-after-stop', 1);
    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 40_000);
    expect(await faultsOf(jobId, 1)).toEqual(NO_FAULTS);
    expect(job.runs.edges[0].node).toMatchObject({ status: 'PASSED', runnerId: 'runner-after-stop' });
  }, 90_000);
});
