// A run's log as JetStream keeps it on `logs.<runId>`: replayed from any position, then followed
// live until the run has ended and everything it wrote has been read. Positions are LOGS stream
// sequences, so a client that reconnects with `after` gets exactly what it missed.
import { DeliverPolicy, jetstream, jetstreamManager, type Consumer, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Repeater } from 'graphql-yoga';
import { logChunkSchema, type LogChunk, type Topology } from 'runner/protocol';
import type { Db } from '../db/client.js';
import type { UpdatesHub } from '../live/hub.js';
import { DomainError, NotFoundError } from '../schema/errors.js';

export interface LogPage {
  /** The LOGS stream sequence of this chunk; pass it as `after` to resume behind it. */
  position: number;
  lines: LogChunk['lines'];
}

export interface LogDeps {
  db: Db;
  nats: NatsConnection;
  topology: Topology;
}

export interface FollowDeps extends LogDeps {
  /** Tells when the run ends, without a database query per subscriber per second. */
  hub: Pick<UpdatesHub, 'listen'>;
}

const FINAL = new Set(['PASSED', 'FAILED', 'ERRORED', 'CANCELLED']);
/** Runs end through the recorder's notifications; this slow re-check covers a notification lost on the way. */
const RECHECK_MS = 15_000;
/** A subscriber that takes nothing for this long is dropped; it can resume with `after`. */
export const STALL_LIMIT_MS = 30_000;
/** Chunks fetched ahead of a subscriber: bounds the memory one slow subscriber can hold. */
const READ_AHEAD = 64;
/** How long one pull request of a live subscription lasts: bounds how long a lost pull stalls it. */
const LIVE_PULL_EXPIRES_MS = 5_000;

export class SlowConsumerError extends DomainError {
  readonly code = 'SLOW_CONSUMER';
  constructor(readonly lastPosition: number) {
    super(`the log subscription fell behind and was closed; subscribe again with after: ${lastPosition} to resume`);
  }
}

async function runIsOver(db: Db, runId: string): Promise<boolean> {
  const run = await db.run.findUnique({ where: { id: runId }, select: { status: true } });
  return !run || FINAL.has(run.status);
}

/** The position of the newest chunk of a run's log, 0 when it has none. */
async function lastPosition(deps: LogDeps, runId: string): Promise<number> {
  // No API probe per call: this runs every second for every subscriber of an ended run.
  const jsm = await jetstreamManager(deps.nats, { checkAPI: false });
  const message = await jsm.streams
    .getMessage(deps.topology.streams.logs.name, { last_by_subj: deps.topology.runLog(runId) })
    .catch(() => null);
  return message?.seq ?? 0;
}

async function orderedConsumer(deps: LogDeps, runId: string, after: number): Promise<Consumer> {
  const js = jetstream(deps.nats);
  return js.consumers.get(deps.topology.streams.logs.name, {
    filter_subjects: deps.topology.runLog(runId),
    ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All }),
  });
}

export async function assertRunExists(db: Db, runId: string): Promise<void> {
  if (!(await db.run.findUnique({ where: { id: runId }, select: { id: true } }))) throw new NotFoundError('run', runId);
}

/** Replays then follows a run's log; completes once the run is over and its log fully read. */
export function followRunLog(deps: FollowDeps, runId: string, after: number, stallLimitMs = STALL_LIMIT_MS): Repeater<LogPage> {
  return new Repeater<LogPage>(async (push, stop) => {
    let last = after;
    let messages: ConsumerMessages | null = null;
    let stopped = false;
    let over = false;
    let lastCheck = Date.now();
    void stop.then(() => {
      stopped = true;
      void messages?.close();
    });
    // Listen before looking, so an end that happens in between is not missed.
    const unlisten = deps.hub.listen((n) => {
      if (n.runId === runId && FINAL.has(n.status)) over = true;
    });
    const timers: NodeJS.Timeout[] = [];
    try {
      over = await runIsOver(deps.db, runId);
      const consumer = await orderedConsumer(deps, runId, after);
      // Heartbeats every expires/2; two missed ones make the client pull again. With the default 30 s
      // a subscription whose pull went missing under load sat silent for up to 30 s (seen at 200 runs).
      messages = await consumer.consume({ max_messages: READ_AHEAD, expires: LIVE_PULL_EXPIRES_MS });
      // When nothing arrives, check whether the run is over and its last chunk was sent.
      timers.push(
        setInterval(() => {
          void (async () => {
            if (stopped) return;
            if (!over && Date.now() - lastCheck > RECHECK_MS) {
              lastCheck = Date.now();
              over = await runIsOver(deps.db, runId);
            }
            if (over && (await lastPosition(deps, runId)) <= last) void messages?.close();
          })().catch(() => {
            // A failed check is repeated at the next tick; the subscription stays open.
          });
        }, 1_000),
      );
      for await (const m of messages) {
        const chunk = logChunkSchema.safeParse(safeJson(m.data));
        // Runners validate what they publish; anything else on the subject is not a log line.
        if (!chunk.success) continue;
        // A Repeater's push settles when the subscriber asks for the value after this one, so while
        // it is pending this chunk has been handed over: `after` resumes behind it.
        const delivered = push({ position: m.seq, lines: chunk.data.lines });
        last = m.seq;
        const stalled = new Promise<'stalled'>((resolve) => setTimeout(() => resolve('stalled'), stallLimitMs).unref());
        if ((await Promise.race([delivered, stalled])) === 'stalled') throw new SlowConsumerError(last);
        if (m.info.pending === 0 && over) break;
      }
    } finally {
      unlisten();
      for (const timer of timers) clearInterval(timer);
      await messages?.close();
    }
    stop();
  });
}

/** Every line written so far, for downloads: reads to the end of what is stored now, then stops. */
export async function* readRunLog(deps: LogDeps, runId: string): AsyncGenerator<LogChunk['lines']> {
  const end = await lastPosition(deps, runId);
  if (end === 0) return;
  const consumer = await orderedConsumer(deps, runId, 0);
  const messages = await consumer.consume({ max_messages: READ_AHEAD });
  try {
    for await (const m of messages) {
      const chunk = logChunkSchema.safeParse(safeJson(m.data));
      if (chunk.success) yield chunk.data.lines;
      if (m.seq >= end) break;
    }
  } finally {
    await messages.close();
  }
}

function safeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}
