// Live-log benchmark: end-to-end latency from a line written by the simulator (each batch stamped
// with its write time) to its arrival at a graphql-ws client, with 1 and with 200 concurrent runs
// each writing 50 lines/s; lines/s delivered; API RSS once 1,000 runLog subscriptions are open.
// API and runners are built and run under node, as in production. Baseline, same run: a bare
// JetStream publish → ordered-consumer round trip of one line, the floor of any NATS-based path.
import { randomUUID } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { freePort } from '../src/platform/ports.js';
import { graphql } from '../test/support/app.js';
import { createTestDatabase } from '../test/support/database.js';
import { SIMULATOR } from '../test/support/jobs.js';
import { createTestNats } from '../test/support/nats.js';
import { cleanEnv, startBuilt, type Started } from '../test/support/process.js';
import { tb2Task, under, zip } from '../test/support/task-zips.js';
import { uploadZips } from '../test/support/upload.js';

const PHASE_MS = 15_000;
const LINES_PER_SECOND = 50;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function rssMiB(pid: number): Promise<{ now: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  return { now: kb('VmRSS'), peak: kb('VmHWM') };
}

interface Watcher {
  latencies: number[];
  lines: number;
  /** Latency by second of writing, to tell a start-up burst from a steady state. */
  bySecond: Map<number, number[]>;
}

/** Subscribes to a run's log; records, for every stamped line written after `since`, its latency. */
function watch(client: Client, runId: string, since: number, into: Watcher): void {
  client.subscribe(
    { query: 'subscription($id: ID!) { runLog(runId: $id) { lines { text } } }', variables: { id: runId } },
    {
      next: ({ data }) => {
        const now = Date.now();
        for (const { text } of (data as any).runLog.lines) {
          into.lines++;
          const stamp = / @(\d{13})$/.exec(text);
          if (stamp && Number(stamp[1]) >= since) {
            const latency = now - Number(stamp[1]);
            into.latencies.push(latency);
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

async function baselineRoundTrip(nats: Awaited<ReturnType<typeof createTestNats>>): Promise<number[]> {
  const jsm = await jetstreamManager(nats.nc);
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
  void jsm;
  return samples.sort((a, b) => a - b);
}

export async function benchLogs(): Promise<void> {
  const [database, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  await database.db.$disconnect();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'thr-bench-logs-'));
  const port = await freePort();
  const common = { NATS_URL: nats.url, NATS_PREFIX: nats.prefix, TASKS_DIR: path.join(scratch, 'tasks'), JOBS_DIR: path.join(scratch, 'jobs'), NODE_ENV: 'production' };
  const processes: Started[] = [];
  const clients: Client[] = [];

  try {
    const api = startBuilt('api/dist/main.js', cleanEnv({ ...common, DATABASE_URL: database.url, PORT: String(port) }));
    processes.push(api);
    await api.waitFor(/GraphQL \(HTTP and WebSocket\) at/, 60_000);
    const url = `http://127.0.0.1:${port}/graphql`;
    const sim = { HARBOR_SIM_PHASE_MS: String(PHASE_MS), HARBOR_SIM_LOG_LINES: String((LINES_PER_SECOND * PHASE_MS) / 1000), HARBOR_SIM_LOG_STAMP: '1' };
    const zips = await Promise.all(
      [0, 1].map(async (i) => ({ name: `logs-${i}.zip`, bytes: await zip(under(`logs-${i}`, tb2Task(`logs-${i}`))) })),
    );
    const uploaded = await uploadZips(url, zips);
    const taskIds: string[] = uploaded.body.data.uploadTasks.data.files.map((f: any) => f.tasks[0].task.id);
    for (let i = 0; i < 4; i++) {
      processes.push(
        startBuilt('runner/dist/main.js', cleanEnv({ ...common, RUNNER_ID: `logs-${i}`, RUNNER_CONCURRENCY: '50', HARBOR_BIN: SIMULATOR, ...sim })),
      );
    }
    await Promise.all(processes.slice(1).map((r) => r.waitFor(/ready/, 60_000)));
    const connection = () => {
      const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      clients.push(client);
      return client;
    };

    const baseline = await baselineRoundTrip(nats);
    console.log('live-log benchmark (API and 4 runners built, under node; simulator writes 50 lines/s per run)');
    console.log(`  baseline JetStream publish → ordered consumer, one line: p50 ${percentile(baseline, 50)} ms  p99 ${percentile(baseline, 99)} ms`);

    for (const [runs, copies] of [
      [1, 1],
      [200, 1],
      [200, 5],
    ] as const) {
      const perTask = runs === 1 ? 1 : runs / taskIds.length;
      const created = await graphql(url, `mutation($i: CreateJobInput!) { createJob(input: $i) { ... on MutationCreateJobSuccess { data { id } } } }`, {
        i: { taskIds: runs === 1 ? [taskIds[0]] : taskIds, agent: 'oracle', runsPerTask: perTask },
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
      const first: Watcher = { latencies: [], lines: 0, bySecond: new Map() };
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
        const { data } = await graphql(url, `query($id: ID!) { job(id: $id) { status } }`, { id: jobId });
        if (!rss && Date.now() - agentStart > PHASE_MS * 1.5) rss = await rssMiB(api.child.pid!);
        if (data.job.status === 'COMPLETED') break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const sorted = [...first.latencies].sort((a, b) => a - b);
      const expected = runs * copies * (LINES_PER_SECOND * PHASE_MS) / 1000;
      console.log(
        `  ${String(runs).padStart(3)} run(s), ${runs * copies} subscriber(s): ${sorted.length}/${expected} lines delivered live, ` +
          `latency p50 ${percentile(sorted, 50)} ms  p99 ${percentile(sorted, 99)} ms, ${(sorted.length / (PHASE_MS / 1000)).toFixed(0)} lines/s, ` +
          `API RSS mid-run ${rss?.now.toFixed(0)} MiB`,
      );
      if (process.argv.includes('--profile')) {
        const seconds = [...first.bySecond.keys()].sort((a, b) => a - b);
        console.log(`    p50 by second of writing: ${seconds.map((s) => percentile(first.bySecond.get(s)!.sort((a, b) => a - b), 50)).join(' ')}`);
      }
      for (const client of clients.splice(0)) await client.dispose();
    }
  } catch (error) {
    // Say what the platform said before it went wrong.
    for (const p of processes) console.error(p.output().split('\n').slice(-60).join('\n'));
    throw error;
  } finally {
    for (const client of clients) await client.dispose();
    for (const p of processes.reverse()) {
      p.child.kill('SIGTERM');
      p.child.kill('SIGTERM');
    }
    await Promise.all(processes.map((p) => p.exited));
    await nats.cleanup();
    await database.drop();
    await rm(scratch, { recursive: true, force: true });
  }
}
