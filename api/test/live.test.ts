import { jetstream } from '@nats-io/jetstream';
import { createClient, type Client } from 'graphql-ws';
import { encode, ensureStreams, PROTOCOL_VERSION, type LogChunk } from 'runner/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { jetstreamManager } from '@nats-io/jetstream';
import { waitFor } from 'runner/test-support';
import { buildApp } from '../src/app.js';
import { createJob } from '../src/jobs/launch.js';
import { notifyJob } from '../src/runs/lifecycle.js';
import { applyEvent } from '../src/jobs/recorder.js';
import { followRunLog, SlowConsumerError } from '../src/logs/service.js';
import { connectNats } from '../src/nats/connection.js';
import { TaskStore } from '../src/tasks/store.js';
import { defaultUploadLimits, graphql, startTestApp, type TestApp } from './support/app.js';
import { authParams } from './support/auth.js';

let api: TestApp;
let jobId: string;
let runId: string;
let seq = 0;

beforeAll(async () => {
  api = await startTestApp({ services: true });
  await ensureStreams(await jetstreamManager(api.nats.nc), api.nats.topology);
  const task = await api.database.db.task.create({ data: { contentHash: 'c'.repeat(64), name: 'live', instruction: 'x', sizeBytes: 1n, fileCount: 1 } });
  ({ id: jobId } = await createJob({ db: api.database.db, secretsKey: null }, { taskIds: [task.id], agent: 'oracle', runsPerTask: 1 }));
  runId = (await api.database.db.run.findFirstOrThrow({ where: { jobId } })).id;
});
afterAll(() => api?.close());

/** Publishes lines as a runner would: `count` lines numbered from `from`, 50 per chunk. */
async function writeLines(from: number, count: number): Promise<void> {
  const js = jetstream(api.nats.nc);
  for (let i = 0; i < count; i += 50) {
    const lines = Array.from({ length: Math.min(50, count - i) }, (_, k) => ({
      source: 'agent' as const,
      file: 'agent/terminus_2.pane',
      text: `line ${from + i + k}`,
      at: new Date().toISOString(),
    }));
    const chunk: LogChunk = { v: PROTOCOL_VERSION, runId, seq: ++seq, lines };
    await js.publish(api.nats.topology.runLog(runId), encode(chunk));
  }
}

function wsClient(): Client {
  return createClient({ url: api.url.replace(/^http/, 'ws'), connectionParams: authParams(api.url), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
}

interface Collected {
  lines: string[];
  positions: number[];
  done: Promise<void>;
  unsubscribe(): void;
}

function collect(client: Client, after?: number): Collected {
  const lines: string[] = [];
  const positions: number[] = [];
  let unsubscribe = () => {};
  const done = new Promise<void>((resolve, reject) => {
    unsubscribe = client.subscribe(
      { query: 'subscription($id: ID!, $after: Float) { runLog(runId: $id, after: $after) { position lines { text source file } } }', variables: { id: runId, after } },
      {
        next: ({ data, errors }) => {
          if (errors) return reject(new Error(JSON.stringify(errors)));
          const chunk = (data as any).runLog;
          positions.push(chunk.position);
          for (const l of chunk.lines) lines.push(l.text);
        },
        error: reject,
        complete: resolve,
      },
    );
  });
  return { lines, positions, done, unsubscribe: () => unsubscribe() };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);

describe('runLog', () => {
  it('replays what was written, follows live, each line once and in order, then completes when the run ends', async () => {
    await writeLines(1, 1000);
    const client = wsClient();
    const seen = collect(client);
    // Keep writing while the subscriber catches up, then once it follows live.
    await writeLines(1001, 500);
    await waitFor(() => seen.lines.includes('line 1500'), { what: 'the subscriber to catch up with line 1500' });
    await writeLines(1501, 100);
    // The run ends: the recorder commits and notifies; the subscription completes once everything is read.
    const outcome = await applyEvent(api.database.db, { v: 1, type: 'finished', runId, jobId, runnerId: 'r', dispatch: 1, deliveryCount: 1, at: new Date().toISOString(), result: {
      status: 'PASSED', reward: 1, rewards: { reward: 1 }, exceptionType: null, exceptionMessage: null, failureKind: null, inputTokens: null,
      cacheTokens: null, outputTokens: null, costUsd: null, environmentSetupMs: null, agentSetupMs: null, agentExecutionMs: null, verifierMs: null, trialDir: null } }, 1);
    notifyJob(api.nats.nc, api.nats.topology, outcome.applied!);
    await seen.done;
    await client.dispose();
    expect(seen.lines).toEqual(range(1, 1600));
    expect([...seen.positions].sort((a, b) => a - b)).toEqual(seen.positions);

    // Reconnecting behind a position gives exactly what came after it.
    const again = wsClient();
    const resumed = collect(again, seen.positions[9]);
    await resumed.done;
    await again.dispose();
    expect(resumed.lines).toEqual(range(501, 1600));
  }, 30_000);

  it('answers an unknown run with a coded error', async () => {
    const client = wsClient();
    const result = await new Promise<any>((resolve) =>
      client.subscribe(
        { query: 'subscription { runLog(runId: "00000000-0000-4000-8000-000000000009") { position } }' },
        { next: resolve, error: resolve, complete: () => {} },
      ),
    );
    await client.dispose();
    const errors = Array.isArray(result) ? result : result.errors;
    expect(errors[0]).toMatchObject({ message: 'no run with id 00000000-0000-4000-8000-000000000009', extensions: { code: 'NOT_FOUND' } });
  });

  it('drops a subscriber that stops reading, telling it where to resume', async () => {
    const log = followRunLog({ db: api.database.db, nats: api.nats.nc, topology: api.nats.topology, hub: { listen: () => () => {} } }, runId, 0, 200);
    const first = await log.next();
    expect(first.done).toBe(false);
    const position = (first.value as any).position;
    // Not reading is the subject: the pause must outlast the stall limit. That 200 ms timer started
    // when the first chunk was handed over, before this 500 ms one, so it fires first however late.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const error = await log.next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlowConsumerError);
    expect((error as Error).message).toBe(`the log subscription fell behind and was closed; subscribe again with after: ${position} to resume`);
  });

  it('downloads the whole log as plain text', async () => {
    const response = await fetch(new URL(`/runs/${runId}/log`, api.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const lines = (await response.text()).trim().split('\n');
    expect(lines).toHaveLength(1600);
    expect(lines[0]).toMatch(/^\S+ \[agent:agent\/terminus_2\.pane\] line 1$/);
    expect((await fetch(new URL('/runs/00000000-0000-4000-8000-000000000009/log', api.url))).status).toBe(404);
  });
});

describe('updates across API replicas', () => {
  it('shows a subscriber on replica B what the recorder on replica A committed', async () => {
    // Replica B: its own NATS connection and no recorder, as another API process would be.
    const natsB = await connectNats(api.nats.url, 'replica-b');
    const replicaB = buildApp({
      db: api.database.db,
      nats: natsB,
      topology: api.nats.topology,
      taskStore: new TaskStore(api.tasksDir),
      uploadLimits: defaultUploadLimits,
      secretsKey: null,
      jobsDir: api.jobsDir,
      shutdownGraceMs: 500,
    });
    const urlB = await replicaB.start(0, '127.0.0.1');
    const client = createClient({ url: urlB.replace(/^http/, 'ws'), connectionParams: authParams(api.url), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    try {
      const task = await api.database.db.task.create({ data: { contentHash: 'd'.repeat(64), name: 'replicas', instruction: 'x', sizeBytes: 1n, fileCount: 1 } });
      const created = await graphql(api.url, `mutation($i: CreateJobInput!) { createJob(input: $i) { ... on MutationCreateJobSuccess { data { id } } } }`, {
        i: { taskIds: [task.id], agent: 'oracle', runsPerTask: 1 },
      });
      const id = created.data.createJob.data.id;
      const run = await api.database.db.run.findFirstOrThrow({ where: { jobId: id } });
      const statuses: string[] = [];
      const claimed = new Promise<void>((resolve, reject) => {
        client.subscribe(
          { query: 'subscription($id: ID!) { jobUpdated(id: $id) { status runsClaimed } }', variables: { id } },
          {
            next: ({ data }) => {
              statuses.push(`${(data as any).jobUpdated.status}/${(data as any).jobUpdated.runsClaimed}`);
              if ((data as any).jobUpdated.runsClaimed === 1) resolve();
            },
            error: reject,
            complete: () => {},
          },
        );
      });
      // The current state comes first; once it is here, the subscription listens for changes.
      await waitFor(() => statuses.length > 0, { what: "replica B's first jobUpdated" });
      // A runner's claim goes through replica A's recorder (the only one running services).
      const js = jetstream(api.nats.nc);
      await js.publish(api.nats.topology.runEvent(id, run.id), encode({ v: 1, type: 'claimed', runId: run.id, jobId: id, runnerId: 'r', deliveryCount: 1, at: new Date().toISOString() }));
      await claimed;
      expect(statuses[0]).toBe('QUEUED/0');
      expect(statuses.at(-1)).toBe('RUNNING/1');
    } finally {
      await client.dispose();
      await replicaB.stop();
      await natsB.drain();
    }
  });
});
