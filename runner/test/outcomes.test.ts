// A finished trial is never thrown away: its outcome is kept on disk until it is published and the
// order acked, through a NATS outage, and across the runner's death, so Harbor runs once per run.
// Each test runs its own nats-server, which it stops and starts again on the same port and store.
// Also the runner's branches for a trial Harbor did not finish cleanly, in process: Harbor failing
// without a result, an unreadable result.json, SIGKILL after the cancel grace, the wall-clock guard
// (end to end through the API: api/test/outcomes-e2e.test.ts).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunnerConfig } from '../src/config.js';
import { findParentDeathWrapper } from '../src/harbor/process.js';
import { decode, encode, orderMsgId, PROTOCOL_VERSION, runEventSchema, runOrderSchema, topology, type RunEvent, type RunOrder } from '../src/protocol/index.js';
import { startTrial } from '../src/trial.js';
import { writeTaskPackage } from './support/simulator.js';
import { freePort, SIMULATOR, startNatsServer, startRunnerProcess, until, type Proc } from './support/processes.js';

const roots: string[] = [];
const procs: Proc[] = [];
const mounts: string[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
});
afterAll(async () => {
  for (const dir of mounts) execFileSync('umount', ['-l', dir]);
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

const t = topology('');
const CONTENT = 'c'.repeat(64);

async function world(sim: Record<string, string>) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'thr-outcomes-'));
  roots.push(root);
  const tasksDir = path.join(root, 'tasks');
  const jobsDir = path.join(root, 'jobs');
  const taskDir = path.join(tasksDir, CONTENT, 'sim-task');
  await mkdir(taskDir, { recursive: true });
  await mkdir(jobsDir);
  await writeTaskPackage(taskDir, '[task]\nname = "sim-task"\n');
  const ledger = path.join(root, 'ledger');
  await writeFile(path.join(taskDir, '.harbor-sim'), Object.entries({ ...sim, HARBOR_SIM_LEDGER: ledger }).map(([k, v]) => `${k}=${v}\n`).join(''));
  const order: RunOrder = runOrderSchema.parse({
    v: PROTOCOL_VERSION,
    runId: randomUUID(),
    jobId: randomUUID(),
    taskId: randomUUID(),
    taskName: 'sim-task',
    taskDir: `${CONTENT}/sim-task`,
    repeat: 1,
    attempt: 1,
    agent: 'oracle',
    model: null,
    harbor: {},
  });
  const ledgerLines = async () => (await readFile(ledger, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return { root, tasksDir, jobsDir, order, ledgerLines, kept: path.join(jobsDir, '.runner', 'outcomes', `${order.runId}.json`) };
}

const exists = (p: string) => stat(p).then(() => true, () => false);

async function natsWorld(sim: Record<string, string>) {
  const w = await world(sim);
  const port = await freePort();
  const store = path.join(w.root, 'nats');
  let server = await startNatsServer(port, store);
  procs.push(server);
  const url = `nats://127.0.0.1:${port}`;
  const runner = (id: string) => {
    const p = startRunnerProcess({ NATS_URL: url, RUNNER_ID: id, RUNNER_CONCURRENCY: '2', TASKS_DIR: w.tasksDir, JOBS_DIR: w.jobsDir, RUNNER_ACK_WAIT_MS: '3000' });
    procs.push(p);
    return p;
  };
  return {
    ...w,
    runner,
    stopNats: () => server.stop(),
    startNats: async () => {
      server = await startNatsServer(port, store);
      procs.push(server);
    },
    publishOrder: async () => {
      const nc = await connect({ servers: url });
      await jetstream(nc).publish(t.runOrder(w.order.jobId, w.order.runId, 'docker'), encode(w.order), { msgID: orderMsgId(w.order.runId, 1) });
      await nc.close();
    },
    /** Every event of the run in EVENTS, and how many orders RUNS still holds. */
    published: async (): Promise<{ events: RunEvent[]; ordersLeft: number }> => {
      const nc = await connect({ servers: url });
      try {
        const js = jetstream(nc);
        const consumer = await js.consumers.get(t.streams.events.name, { filter_subjects: t.runEvent(w.order.jobId, w.order.runId) });
        const events: RunEvent[] = [];
        const info = await consumer.info();
        if (info.num_pending > 0) {
          for await (const m of await consumer.fetch({ max_messages: info.num_pending, expires: 2_000 })) {
            events.push(decode(runEventSchema, m.data, 'event'));
            if (m.info.pending === 0) break;
          }
        }
        const ordersLeft = (await (await jetstreamManager(nc)).streams.info(t.streams.runs.name)).state.messages;
        return { events, ordersLeft };
      } finally {
        await nc.close();
      }
    },
  };
}

describe('a finished trial during a NATS outage', () => {
  it('is recorded once and not run again: the runner keeps the order alive and publishes when NATS is back', async () => {
    const w = await natsWorld({ HARBOR_SIM_PHASE_MS: '1000' });
    const runner = w.runner('runner-outage');
    await until(async () => /ready/.test(runner.output()), 'the runner to be ready');
    await w.publishOrder();
    await until(async () => (await w.ledgerLines()).some((l) => l.startsWith('start ')), 'the trial to start');
    await w.stopNats();
    await until(async () => (await w.ledgerLines()).some((l) => / finished$/.test(l)), 'the trial to finish during the outage');
    await until(() => exists(w.kept), 'the outcome to be kept on disk');
    // The outage outlasts the ack wait with the trial finished: a publish fails after the outcome was kept.
    const mark = runner.output().length;
    await until(async () => /publishing its \w+ event failed/.test(runner.output().slice(mark)), 'a failed publish after the trial finished');
    await w.startNats();

    const { events, ordersLeft } = await until(async () => {
      const p = await w.published();
      return p.ordersLeft === 0 && !(await exists(w.kept)) && p;
    }, 'the outcome to be published, the order acked and the kept copy removed', 60_000);
    const finished = events.filter((e) => e.type === 'finished');
    expect(finished.length).toBeGreaterThanOrEqual(1);
    for (const e of finished) expect(e).toMatchObject({ runnerId: 'runner-outage', result: { status: 'PASSED', reward: 1 } });
    expect(ordersLeft).toBe(0);
    expect((await w.ledgerLines()).filter((l) => l.startsWith('start '))).toHaveLength(1);
  }, 120_000);

  it('is published by a fresh runner from the kept outcome when its own runner died before publishing it', async () => {
    const w = await natsWorld({ HARBOR_SIM_PHASE_MS: '500' });
    const first = w.runner('runner-first');
    await until(async () => /ready/.test(first.output()), 'the runner to be ready');
    await w.publishOrder();
    await until(async () => (await w.ledgerLines()).some((l) => l.startsWith('start ')), 'the trial to start');
    await w.stopNats();
    await until(async () => (await w.ledgerLines()).some((l) => / finished$/.test(l)) && exists(w.kept), 'the trial to finish and its outcome to be kept');
    await first.stop('SIGKILL');
    await w.startNats();

    const second = w.runner('runner-second');
    const { events } = await until(async () => {
      const p = await w.published();
      return p.ordersLeft === 0 && !(await exists(w.kept)) && p;
    }, 'the kept outcome to be published and the order acked', 60_000);
    expect(second.output()).toMatch(new RegExp(`run ${w.order.runId}: publishing the outcome kept by runner-first instead of running the trial again`));
    const finished = events.filter((e) => e.type === 'finished');
    expect(finished).toHaveLength(1);
    // Who ran Harbor, on the delivery that published it.
    expect(finished[0]).toMatchObject({ runnerId: 'runner-first', deliveryCount: 2, result: { status: 'PASSED' } });
    expect((await w.ledgerLines()).filter((l) => l.startsWith('start '))).toHaveLength(1);
  }, 120_000);
});

describe('cleanup after a finished trial', () => {
  it.skipIf(process.getuid?.() !== 0)('never replaces the result when JOBS_DIR turns read-only under it', async () => {
    const w = await world({ HARBOR_SIM_PHASE_MS: '300' });
    const runnerFiles = path.join(w.jobsDir, '.runner');
    await mkdir(runnerFiles);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', runnerFiles]);
    mounts.push(runnerFiles);
    const config = {
      runnerId: 'runner-ro',
      tasksDir: w.tasksDir,
      jobsDir: w.jobsDir,
      harborBin: SIMULATOR,
      secretsKey: null,
      cancelGraceMs: 5_000,
      wallClockSlackMs: 60_000,
      logPollMs: 100,
      logFlushMs: 50,
    } as RunnerConfig;
    const lines: string[] = [];
    const trial = startTrial(config, w.order, 1, await findParentDeathWrapper(), {
      started: () => {},
      publishLog: async () => {},
      log: (line) => lines.push(line),
    });
    await until(async () => (await w.ledgerLines()).some((l) => l.startsWith('start ')), 'the trial to start');
    execFileSync('mount', ['-o', 'remount,ro', runnerFiles]);
    const outcome = await trial.done;
    expect(outcome).toMatchObject({ kind: 'finished', result: { status: 'PASSED', reward: 1 } });
    expect(lines.join('\n')).toMatch(/cannot remove .*\.runner\/run-.*\.json: EROFS/);
  }, 60_000);
});

describe("the runner's own branches, in process (startTrial on the simulator)", () => {
  /** Runs one trial of a world's order; `stopWhenStarted` stops it once the simulator's trial started. */
  async function runTrial(sim: Record<string, string>, opts: { maxDurationSec?: number; stopWhenStarted?: boolean; harborBin?: (root: string) => Promise<string> } = {}) {
    const w = await world({ HARBOR_SIM_PHASE_MS: '100', ...sim });
    const order = { ...w.order, maxDurationSec: opts.maxDurationSec ?? null };
    const config = {
      runnerId: 'runner-branches',
      tasksDir: w.tasksDir,
      jobsDir: w.jobsDir,
      harborBin: opts.harborBin ? await opts.harborBin(w.root) : SIMULATOR,
      secretsKey: null,
      cancelGraceMs: 800,
      wallClockSlackMs: 800,
      logPollMs: 100,
      logFlushMs: 50,
    } as RunnerConfig;
    const trial = startTrial(config, order, 1, await findParentDeathWrapper(), { started: () => {}, publishLog: async () => {}, log: () => {} });
    if (opts.stopWhenStarted) {
      await until(async () => (await w.ledgerLines()).some((l) => l.startsWith('start ')), 'the trial to start');
      trial.stop('user');
    }
    return { outcome: await trial.done, ledger: await w.ledgerLines(), root: w.root };
  }

  it('passes no HARBOR_SIM_* variable of its own environment to Harbor: production does not know the simulator', async () => {
    process.env.HARBOR_SIM_SCENARIO = 'fail';
    try {
      const { root } = await runTrial({}, {
        harborBin: async (dir) => {
          const bin = path.join(dir, 'print-env');
          await writeFile(bin, `#!/bin/sh\nenv > ${dir}/harbor-env.txt\nexit 1\n`, { mode: 0o755 });
          return bin;
        },
      });
      const env = await readFile(path.join(root, 'harbor-env.txt'), 'utf8');
      expect(env).toMatch(/^HARBOR_TELEMETRY=off$/m);
      expect(env).not.toMatch(/^HARBOR_SIM_/m);
    } finally {
      delete process.env.HARBOR_SIM_SCENARIO;
    }
  }, 30_000);

  it.concurrent('Harbor failing without a result: HarborFailed, with what it said', async ({ expect }) => {
    const { outcome } = await runTrial({ HARBOR_SIM_SCENARIO: 'preflight-crash' });
    expect(outcome).toMatchObject({ kind: 'finished', result: { status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'HarborFailed' } });
    expect(outcome.kind === 'finished' && outcome.result.exceptionMessage).toMatch(/^Harbor exited with status 1 without a trial result:\n[\s\S]*SIM_MISSING_VARIABLE/);
  }, 30_000);

  it.concurrent.each(['malformed', 'truncated'])('an unreadable result.json (%s): ResultUnreadable', async (mode) => {
    const { outcome } = await runTrial({ HARBOR_SIM_RESULT: mode });
    expect(outcome).toMatchObject({ kind: 'finished', result: { status: 'ERRORED', exceptionType: 'ResultUnreadable', exceptionMessage: expect.stringMatching(/^Harbor's trial result\.json cannot be read: /) } });
  }, 30_000);

  it.concurrent('a cancel whose cleanup outlasts the grace: SIGKILL, no trial result, CANCELLED', async ({ expect }) => {
    const { outcome, ledger } = await runTrial({ HARBOR_SIM_SCENARIO: 'hang', HARBOR_SIM_CANCEL_DELAY_MS: '60000' }, { stopWhenStarted: true });
    expect(outcome).toMatchObject({ kind: 'finished', result: { status: 'CANCELLED' } });
    expect(ledger.filter((l) => l.startsWith('end '))).toEqual([]); // killed: its exit trap never ran
  }, 30_000);

  it.concurrent.each([
    ['stopped', '200', ['cancelled']],
    ['killed', '60000', []],
  ])('the wall-clock guard: a hanging trial is %s', async (how, delay, ends) => {
    const { outcome, ledger } = await runTrial({ HARBOR_SIM_SCENARIO: 'hang', HARBOR_SIM_CANCEL_DELAY_MS: delay }, { maxDurationSec: 0.5 });
    expect(outcome).toMatchObject({
      kind: 'finished',
      result: { status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'WallClockExceeded', exceptionMessage: `the trial ran past the runner's wall-clock guard (1 s) and was ${how}` },
    });
    expect(ledger.filter((l) => l.startsWith('end ')).map((l) => l.split(' ')[5])).toEqual(ends);
  }, 30_000);
});
