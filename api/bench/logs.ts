// Live-log benchmark: end-to-end latency from a line written by the simulator (each batch stamped
// with its write time) to its arrival at a graphql-ws client, with 1 and with 200 concurrent runs
// each writing 50 lines/s; lines/s delivered; API RSS once 1,000 runLog subscriptions are open.
// API and runners are built and run under node, as in production. Baseline, same run: a bare
// JetStream publish → ordered-consumer round trip of one line, the floor of any NATS-based path.
//
// The pane gets a batch of 25 lines every 500 ms; an agent step (a trajectory.json rewrite) comes
// every 3 s, as a model's turn takes seconds. The full run adds the stress of a step with every
// batch (a trajectory rewrite every 500 ms per run), the simulator's default.
import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { createClient, type Client } from 'graphql-ws';
import { authParams } from '../test/support/auth.js';
import WebSocket from 'ws';
import { graphql } from '../test/support/app.js';
import type { TestNats } from '../test/support/nats.js';
import { deploy, memoryMiB, percentile } from './deployment.js';

const PHASE_MS = 15_000;
const LINES_PER_SECOND = 50;
/** One agent step per 3 s of the agent phase. */
const STEPS = PHASE_MS / 3_000;

interface Watcher {
  latencies: number[];
  /** Write → read by the runner, and read by the runner → arrival: where the time goes. */
  runnerSide: number[];
  deliverySide: number[];
  lines: number;
  /** Latency by second of writing, to tell a start-up burst from a steady state. */
  bySecond: Map<number, number[]>;
}

/** Subscribes to a run's log; records, for every stamped line written after `since`, its latency. */
function watch(client: Client, runId: string, since: number, into: Watcher): void {
  client.subscribe(
    { query: 'subscription($id: ID!) { runLog(runId: $id) { lines { text at } } }', variables: { id: runId } },
    {
      next: ({ data }) => {
        const now = Date.now();
        for (const { text, at } of (data as any).runLog.lines) {
          into.lines++;
          const stamp = / @(\d{13})$/.exec(text);
          if (stamp && Number(stamp[1]) >= since) {
            const latency = now - Number(stamp[1]);
            into.latencies.push(latency);
            into.runnerSide.push(Date.parse(at) - Number(stamp[1]));
            into.deliverySide.push(now - Date.parse(at));
            const second = Math.floor((Number(stamp[1]) - since) / 1000);
            (into.bySecond.get(second) ?? into.bySecond.set(second, []).get(second)!).push(latency);
          }
        }
      },
      error: () => {},
      complete: () => {},
    },
  );
}

async function baselineRoundTrip(nats: TestNats): Promise<number[]> {
  const js = jetstream(nats.nc);
  const runId = randomUUID();
  const consumer = await js.consumers.get(nats.topology.streams.logs.name, { filter_subjects: nats.topology.runLog(runId) });
  const messages = await consumer.consume({ max_messages: 64 });
  const samples: number[] = [];
  const reader = (async () => {
    for await (const m of messages) {
      samples.push(Date.now() - Number(m.string()));
      if (samples.length >= 200) break;
    }
  })();
  for (let i = 0; i < 200; i++) {
    await js.publish(nats.topology.runLog(runId), String(Date.now()));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await reader;
  return samples.sort((a, b) => a - b);
}

export async function benchLogs(): Promise<void> {
  const d = await deploy('logs');
  const { url, api, nats } = d;
  const clients: Client[] = [];
  try {
    const taskIds = await d.uploadTasks(2, 'logs');
    // Tasks whose simulated agent takes a step with every batch of pane lines.
    const stepEveryBatch = await d.uploadTasks(2, 'logs-steps', `HARBOR_SIM_STEPS=${(PHASE_MS / 500)}\n`);
    await d.startRunners(4, 50, {
      HARBOR_SIM_PHASE_MS: String(PHASE_MS),
      HARBOR_SIM_LOG_LINES: String((LINES_PER_SECOND * PHASE_MS) / 1000),
      HARBOR_SIM_STEPS: String(STEPS),
      HARBOR_SIM_LOG_STAMP: '1',
      // The simulator's pause inside a JSON write widens the torn-write window for tests; real
      // Harbor has none, and here it would cost one more sleep(1) exec per batch per run.
      HARBOR_SIM_WRITE_PAUSE_MS: '0',
    });
    const connection = () => {
      const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: authParams(url) });
      clients.push(client);
      return client;
    };

    const baseline = await baselineRoundTrip(nats);
    console.log(`live-log benchmark (API and 4 runners built, under node; simulator writes 50 lines/s per run, an agent step every ${PHASE_MS / STEPS / 1000} s)`);
    console.log(`  baseline JetStream publish → ordered consumer, one line: p50 ${percentile(baseline, 50)} ms  p99 ${percentile(baseline, 99)} ms`);

    const scenarios = [
      { runs: 1, copies: 1, tasks: taskIds, label: '' },
      { runs: 200, copies: 1, tasks: taskIds, label: '' },
      { runs: 200, copies: 5, tasks: taskIds, label: '' },
      { runs: 200, copies: 1, tasks: stepEveryBatch, label: ', a step every 500 ms' },
    ];
    for (const { runs, copies, tasks, label } of process.argv.includes('--quick') ? scenarios.slice(0, 2) : scenarios) {
      const perTask = runs === 1 ? 1 : runs / tasks.length;
      const created = await graphql(url, `mutation($i: CreateJobInput!) { createJob(input: $i) { ... on MutationCreateJobSuccess { data { id } } } }`, {
        // terminus-2: the simulated agent that keeps a pane and rewrites its trajectory per step.
        i: { taskIds: runs === 1 ? [tasks[0]] : tasks, agent: 'terminus-2', model: 'openrouter/anthropic/claude-sonnet-4', runsPerTask: perTask },
      });
      const jobId = created.data.createJob.data.id;
      let runIds: string[] = [];
      for (;;) {
        const { data } = await graphql(url, `query($id: ID!) { job(id: $id) { runsRunning runs(first: 1000) { edges { node { id status } } } } }`, { id: jobId });
        runIds = data.job.runs.edges.map((e: any) => e.node.id);
        if (data.job.runsRunning === runs) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // Subscribers join during environment setup, before the agent writes: every line is live.
      const since = Date.now();
      const first: Watcher = { latencies: [], runnerSide: [], deliverySide: [], lines: 0, bySecond: new Map() };
      const perConnection = 100;
      for (let i = 0; i < runIds.length; i += perConnection) {
        const client = connection();
        for (const runId of runIds.slice(i, i + perConnection)) watch(client, runId, since, first);
      }
      // More subscribers per run (copies > 1): 1,000 open runLog subscriptions in all.
      for (let copy = 1; copy < copies; copy++) {
        for (let i = 0; i < runIds.length; i += perConnection) {
          const client = connection();
          for (const runId of runIds.slice(i, i + perConnection)) watch(client, runId, since, first);
        }
      }
      let rss: { now: number; peak: number } | null = null;
      const agentStart = Date.now();
      for (;;) {
        const { data, errors } = await graphql(url, `query($id: ID!) { job(id: $id) { status } }`, { id: jobId });
        if (errors) console.log(`    (job status not read this time: ${errors[0]?.message})`);
        if (!rss && Date.now() - agentStart > PHASE_MS * 1.5) rss = await memoryMiB(api.child.pid!);
        if (data?.job?.status === 'COMPLETED') break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const sorted = [...first.latencies].sort((a, b) => a - b);
      const expected = runs * copies * (LINES_PER_SECOND * PHASE_MS) / 1000;
      // Lines that never arrived while the run lasted count as infinitely late, not as absent.
      const late = Array.from({ length: Math.max(0, expected - sorted.length) }, () => Number.POSITIVE_INFINITY);
      const withLate = [...sorted, ...late];
      console.log(
        `  ${String(runs).padStart(3)} run(s), ${runs * copies} subscriber(s)${label}: ${sorted.length}/${expected} lines delivered live, ` +
          `latency p50 ${percentile(withLate, 50)} ms  p99 ${percentile(withLate, 99)} ms, ${(sorted.length / (PHASE_MS / 1000)).toFixed(0)} lines/s, ` +
          `API RSS mid-run ${rss?.now.toFixed(0)} MiB`,
      );
      if (process.argv.includes('--profile')) {
        const seconds = [...first.bySecond.keys()].sort((a, b) => a - b);
        for (const p of [50, 99]) {
          console.log(`    p${p} by second of writing: ${seconds.map((s) => percentile(first.bySecond.get(s)!.sort((a, b) => a - b), p)).join(' ')}`);
        }
        const runner = [...first.runnerSide].sort((a, b) => a - b);
        const delivery = [...first.deliverySide].sort((a, b) => a - b);
        console.log(`    write → runner read p50 ${percentile(runner, 50)} p99 ${percentile(runner, 99)} ms; runner read → client p50 ${percentile(delivery, 50)} p99 ${percentile(delivery, 99)} ms`);
      }
      for (const client of clients.splice(0)) await client.dispose();
    }
  } catch (error) {
    // Say what the platform said before it went wrong.
    for (const p of [api, ...d.runners]) console.error(p.output().split('\n').slice(-60).join('\n'));
    throw error;
  } finally {
    for (const client of clients) await client.dispose();
    await d.stop();
  }
}
