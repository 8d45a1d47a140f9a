// A run's log as JetStream keeps it on `logs.<runId>`: replayed from any position, then followed
// live until the run has ended and everything it wrote has been read. Positions are LOGS stream
// sequences, so a client that reconnects with `after` gets exactly what it missed.
import { DeliverPolicy, jetstream, jetstreamManager, type Consumer, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Repeater } from 'graphql-yoga';
import { logChunkSchema, type LogChunk, type Topology } from 'runner/protocol';
import type { Db } from '../db/client.js';
import type { UpdatesHub } from '../live/hub.js';
import { LiveLogFeed, safeJson, type FeedChunk } from './feed.js';
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
  /** This process's shared live feed of LOGS; absent, a subscription opens a feed of its own. */
  logFeed?: LiveLogFeed;
}

const FINAL = new Set(['PASSED', 'FAILED', 'ERRORED', 'CANCELLED']);
/** Runs end through the recorder's notifications; this slow re-check covers a notification lost on the way. */
const RECHECK_MS = 15_000;
/** A subscriber that takes nothing for this long is dropped; it can resume with `after`. */
export const STALL_LIMIT_MS = 30_000;
/** Chunks fetched ahead of a subscriber: bounds the memory one slow subscriber can hold. */
const READ_AHEAD = 64;
/** How long one pull request of a replay lasts: bounds how long a lost pull stalls it. */
const LIVE_PULL_EXPIRES_MS = 5_000;
/**
 * Live chunks queued for one subscriber (while it replays history, or reads slower than the run
 * writes). Past it the queue is dropped and replayed from the stream: memory per subscriber stays
 * bounded whatever it does, and nothing is lost. At ~7 chunks/s per run this is ~20 s of writing.
 */
export const LIVE_BUFFER = 128;

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

/**
 * Replays then follows a run's log; completes once the run is over and its log fully read.
 *
 * Live chunks come from the process's shared feed (feed.ts), history from a short-lived consumer:
 * 1. register with the feed first, so every chunk stored from then on reaches this subscriber's queue;
 * 2. replay from `after` to the run's newest position read *after* registering, so replay and queue
 *    overlap rather than leave a hole between them;
 * 3. deliver the queue, skipping every position already passed: in order, no gap, no duplicate.
 * The queue is bounded (`liveBuffer` chunks): past it, a subscriber that reads slower than the run
 * writes drops the queue and replays again from its position, so memory stays bounded and no line is
 * lost. A feed restart is handled the same way.
 */
export function followRunLog(
  deps: FollowDeps,
  runId: string,
  after: number,
  stallLimitMs = STALL_LIMIT_MS,
  options: { liveBuffer?: number } = {},
): Repeater<LogPage> {
  const liveBuffer = options.liveBuffer ?? LIVE_BUFFER;
  return new Repeater<LogPage>(async (push, stop) => {
    /** The highest position passed: delivered, or skipped as not a log chunk. */
    let seen = after;
    /** The highest position delivered: where a dropped subscriber resumes. */
    let last = after;
    let queue: FeedChunk[] = [];
    /** Chunks between `seen` and the queue may be missing: replay before taking from the queue. */
    let behind = true;
    let stopped = false;
    let over = false;
    let complete = false;
    let checkedSinceChunk = false;
    let lastCheck = Date.now();
    let replay: ConsumerMessages | null = null;
    let wake: (() => void) | null = null;
    const poke = () => {
      const resolve = wake;
      wake = null;
      resolve?.();
    };
    void stop.then(() => {
      stopped = true;
      poke();
      void replay?.close();
    });
    // Listen before looking, so an end that happens in between is not missed.
    const unlisten = deps.hub.listen((n) => {
      if (n.runId === runId && FINAL.has(n.status)) {
        over = true;
        poke();
      }
    });
    // Without the process's feed (direct callers in tests), one of its own for this subscription.
    const ownFeed = deps.logFeed ? null : new LiveLogFeed(deps.nats, deps.topology);
    const feed = deps.logFeed ?? ownFeed!;
    let unfeed = () => {};
    const timers: NodeJS.Timeout[] = [];

    const deliver = async (seq: number, lines: LogPage['lines'] | null) => {
      if (seq <= seen) return;
      seen = seq;
      checkedSinceChunk = false;
      if (!lines) return;
      // A Repeater's push settles when the subscriber asks for the value after this one, so while
      // it is pending this chunk has been handed over: `after` resumes behind it.
      const delivered = push({ position: seq, lines });
      last = seq;
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<'stalled'>((resolve) => {
        timer = setTimeout(() => resolve('stalled'), stallLimitMs);
      });
      const outcome = await Promise.race([delivered, stalled]);
      clearTimeout(timer);
      if (outcome === 'stalled') throw new SlowConsumerError(last);
    };

    /** Replays from `seen` up to the newest position stored now. */
    const catchUp = async () => {
      const end = await lastPosition(deps, runId);
      if (end <= seen || stopped) return;
      const consumer = await orderedConsumer(deps, runId, seen);
      replay = await consumer.consume({ max_messages: READ_AHEAD, expires: LIVE_PULL_EXPIRES_MS });
      if (stopped) void replay.close();
      try {
        for await (const m of replay) {
          const chunk = logChunkSchema.safeParse(safeJson(m.data));
          await deliver(m.seq, chunk.success ? chunk.data.lines : null);
          // pending 0 before `end`: the rest was removed from the stream meanwhile (limits).
          if (m.seq >= end || m.info.pending === 0 || stopped) break;
        }
      } finally {
        await replay.close();
        replay = null;
      }
      queue = queue.filter((c) => c.seq > seen);
    };

    /** Whether the run is over and everything it wrote has been passed. */
    const check = async () => {
      checkedSinceChunk = true;
      if (!over && Date.now() - lastCheck > RECHECK_MS) {
        lastCheck = Date.now();
        over = await runIsOver(deps.db, runId);
      }
      if (!over) return;
      if ((await lastPosition(deps, runId)) <= seen) complete = true;
      // Stored but neither replayed nor received live: replay rather than wait for it.
      else if (queue.length === 0) behind = true;
      poke();
    };

    try {
      over = await runIsOver(deps.db, runId);
      unfeed = await feed.listen(runId, {
        chunk: (chunk) => {
          if (chunk.seq <= seen) return;
          if (queue.length >= liveBuffer) {
            // Too far behind to hold more: drop what is queued and replay it from the stream instead.
            queue = [];
            behind = true;
          }
          queue.push(chunk);
          poke();
        },
        gap: () => {
          behind = true;
          poke();
        },
      });
      // When nothing arrives, check whether the run is over and its last chunk was sent.
      timers.push(
        setInterval(() => {
          if (stopped || complete) return;
          check().catch(() => {
            // A failed check is repeated at the next tick; the subscription stays open.
          });
        }, 1_000),
      );
      while (!stopped) {
        if (behind) {
          behind = false;
          await catchUp();
          continue;
        }
        const next = queue.shift();
        if (next) {
          await deliver(next.seq, next.lines);
          continue;
        }
        if (complete) break;
        // Queue drained after the run ended: see at once whether that was all, not at the next tick.
        if (over && !checkedSinceChunk) {
          await check().catch(() => {});
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      unlisten();
      unfeed();
      for (const timer of timers) clearInterval(timer);
      await (replay as ConsumerMessages | null)?.close();
      await ownFeed?.stop();
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
