// The shared live feed of LOGS (src/logs/feed.ts) and runLog's replay-then-follow on top of it:
// one consumer per process, fanned out in memory, with no gap and no duplicate however a subscriber
// joins or lags. No timings are asserted: waits are on what arrived, never on the clock.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { encode, ensureStreams, PROTOCOL_VERSION, type LogChunk } from 'runner/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJob } from '../src/jobs/launch.js';
import type { Notification } from '../src/live/hub.js';
import { LiveLogFeed } from '../src/logs/feed.js';
import { followRunLog, type FollowDeps, type LogPage } from '../src/logs/service.js';
import { startTestApp, type TestApp } from './support/app.js';

let api: TestApp;
let feed: LiveLogFeed;
let taskId: string;
const listeners = new Set<(n: Notification) => void>();
/** Stands in for the recorder's notifications: `end(runId)` tells subscribers the run is over. */
const hub = {
  listen: (listener: (n: Notification) => void) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
const end = (runId: string) => {
  for (const listener of [...listeners]) listener({ jobId: '', runId, status: 'PASSED' });
};

beforeAll(async () => {
  api = await startTestApp();
  await ensureStreams(await jetstreamManager(api.nats.nc), api.nats.topology);
  feed = new LiveLogFeed(api.nats.nc, api.nats.topology);
  const task = await api.database.db.task.create({ data: { contentHash: 'f'.repeat(64), name: 'fanout', instruction: 'x', sizeBytes: 1n, fileCount: 1 } });
  taskId = task.id;
});
afterAll(async () => {
  await feed?.stop();
  await api?.close();
});

function deps(): FollowDeps {
  return { db: api.database.db, nats: api.nats.nc, topology: api.nats.topology, hub, logFeed: feed };
}

async function newRun(): Promise<string> {
  const { id: jobId } = await createJob({ db: api.database.db, secretsKey: null }, { taskIds: [taskId], agent: 'oracle', runsPerTask: 1 });
  return (await api.database.db.run.findFirstOrThrow({ where: { jobId } })).id;
}

/** Publishes lines numbered from `from` as a runner would, `perChunk` lines per chunk. */
async function writeLines(runId: string, from: number, count: number, perChunk = 10): Promise<void> {
  const js = jetstream(api.nats.nc);
  for (let i = 0; i < count; i += perChunk) {
    const lines = Array.from({ length: Math.min(perChunk, count - i) }, (_, k) => ({
      source: 'agent' as const,
      file: 'agent/pane',
      text: `line ${from + i + k}`,
      at: new Date().toISOString(),
    }));
    const chunk: LogChunk = { v: PROTOCOL_VERSION, runId, seq: from + i, lines };
    await js.publish(api.nats.topology.runLog(runId), encode(chunk));
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);

interface Reader {
  lines: string[];
  positions: number[];
  done: Promise<void>;
  /** Resolves once a line with this text has arrived. */
  seen(text: string): Promise<void>;
}

function read(log: AsyncIterable<LogPage>): Reader {
  const lines: string[] = [];
  const positions: number[] = [];
  const waiting: { text: string; resolve: () => void }[] = [];
  const done = (async () => {
    for await (const page of log) {
      positions.push(page.position);
      for (const line of page.lines) {
        lines.push(line.text);
        for (const w of waiting.filter((w) => w.text === line.text)) w.resolve();
      }
    }
  })();
  return {
    lines,
    positions,
    done,
    seen: (text) => (lines.includes(text) ? Promise.resolve() : new Promise((resolve) => waiting.push({ text, resolve }))),
  };
}

const increasing = (positions: number[]) => positions.every((p, i) => i === 0 || p > positions[i - 1]!);

describe('runLog fan-out from one live feed', () => {
  it('gives many subscribers of one run the same stream, in order, each line once', async () => {
    const runId = await newRun();
    await writeLines(runId, 1, 200);
    const readers = Array.from({ length: 25 }, () => read(followRunLog(deps(), runId, 0)));
    // Every one has replayed the history and is on the live feed before the live lines are written.
    await Promise.all(readers.map((r) => r.seen('line 200')));
    expect(feed.runs).toBe(1);
    await writeLines(runId, 201, 800);
    await Promise.all(readers.map((r) => r.seen('line 1000')));
    end(runId);
    await Promise.all(readers.map((r) => r.done));
    for (const r of readers) {
      expect(r.lines).toEqual(range(1, 1000));
      expect(increasing(r.positions)).toBe(true);
      expect(r.positions).toEqual(readers[0]!.positions);
    }
    expect(feed.runs).toBe(0);
  }, 60_000);

  it('gives a subscriber joining mid-stream the history then the live lines, no gap and no duplicate', async () => {
    const runId = await newRun();
    await writeLines(runId, 1, 1000);
    // Lines keep coming while each subscriber replays: some join before, some during, some late.
    const writing = writeLines(runId, 1001, 2000, 5);
    const readers: Reader[] = [];
    for (let i = 0; i < 8; i++) {
      readers.push(read(followRunLog(deps(), runId, 0)));
      await readers[i]!.seen(`line ${1000 + i * 200 + 1}`);
    }
    const resumed = read(followRunLog(deps(), runId, readers[0]!.positions[50]!));
    readers.push(resumed);
    await writing;
    await Promise.all(readers.map((r) => r.seen('line 3000')));
    end(runId);
    await Promise.all(readers.map((r) => r.done));
    for (const r of readers.slice(0, 8)) {
      expect(r.lines).toEqual(range(1, 3000));
      expect(increasing(r.positions)).toBe(true);
    }
    // Behind position 51 of 10-line chunks: from line 511 on.
    expect(resumed.lines).toEqual(range(511, 3000));
  }, 60_000);

  it('replays from the stream, losing nothing, when a subscriber falls past its live buffer', async () => {
    const runId = await newRun();
    await writeLines(runId, 1, 10);
    const slow = followRunLog(deps(), runId, 0, 60_000, { liveBuffer: 2 });
    const first = await slow.next();
    expect((first.value as LogPage).lines.map((l) => l.text)).toEqual(range(1, 10));
    // The slow subscriber now holds its first chunk undelivered; a fast one on the same feed shows
    // when the feed has handed every live chunk to both, i.e. when the slow one's buffer overflowed.
    const fast = read(followRunLog(deps(), runId, 0));
    await fast.seen('line 10');
    await writeLines(runId, 11, 300);
    await fast.seen('line 310');
    end(runId);
    const slowReader = read(slow);
    await Promise.all([slowReader.done, fast.done]);
    expect(['line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6', 'line 7', 'line 8', 'line 9', 'line 10', ...slowReader.lines]).toEqual(
      range(1, 310),
    );
    expect(fast.lines).toEqual(range(1, 310));
    expect(increasing([(first.value as LogPage).position, ...slowReader.positions])).toBe(true);
  }, 60_000);

  it('tells listeners nothing of runs they do not follow, and stops cleanly', async () => {
    const local = new LiveLogFeed(api.nats.nc, api.nats.topology);
    const a = await newRun();
    const b = await newRun();
    const got: number[] = [];
    const unlisten = await local.listen(a, { chunk: (c) => got.push(c.seq), gap: () => {} });
    await writeLines(b, 1, 10);
    await writeLines(a, 1, 10);
    const reader = read(followRunLog({ ...deps(), logFeed: local }, a, 0));
    await reader.seen('line 10');
    end(a);
    await reader.done;
    unlisten();
    expect(got).toHaveLength(1);
    await local.stop();
    await expect(local.listen(a, { chunk: () => {}, gap: () => {} })).rejects.toThrow('stopped');
  }, 30_000);
});
