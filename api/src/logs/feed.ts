// One live feed of the LOGS stream per API process, fanned out in memory to the runLog subscribers
// of each run.
//
// Why: with one JetStream consumer per subscriber, 200 subscribers meant 200 consumers each keeping
// a pull request open; under load some pulls went missing and their subscriptions sat silent for
// seconds (p99 0.6–4.4 s at 200 runs), and at 1,000 subscribers every chunk was fetched and parsed
// 5 times. Here the process holds a single ordered *push* consumer on the whole stream: the server
// pushes (with flow control), so there is no pull to lose; each message is parsed and validated once,
// then handed to the listeners of its run. History is not this feed's job: a subscriber replays what
// came before with a short-lived consumer of its own (service.ts), so the feed starts at the stream's
// end and never replays the stream.
//
// Ordering: the client library's ordered consumer checks the delivery sequence of every message and,
// on a gap, recreates the consumer from the last stream sequence it saw, so what reaches `dispatch` is
// gap-free. If the consumer stops for good (closed by the server or the library, stream recreated),
// the feed starts a new one at the stream's end and tells every listener `gap()`: each replays from
// its own last position, so no line is lost even then.
import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { logChunkSchema, type LogChunk, type Topology } from 'runner/protocol';

export interface FeedChunk {
  /** LOGS stream sequence. */
  seq: number;
  /** Null when the message is not a valid log chunk: it still advances the subscriber's position. */
  lines: LogChunk['lines'] | null;
}

export interface FeedListener {
  /** Called synchronously, in stream order, for every chunk of the run received live. Must not block. */
  chunk(chunk: FeedChunk): void;
  /** Live chunks may have been missed (the feed restarted): replay from the last position. */
  gap(): void;
}

/** Delay before a failed feed is started again. */
const RESTART_DELAY_MS = 1_000;

export class LiveLogFeed {
  private readonly listeners = new Map<string, Set<FeedListener>>();
  private ready: Promise<void> | null = null;
  private messages: ConsumerMessages | null = null;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly nats: NatsConnection,
    private readonly topology: Topology,
  ) {}

  /**
   * Registers `listener` for the live chunks of `runId`. Resolves once the feed is running: every
   * chunk stored after that is delivered to the listener (so a replay that reads the stream's end
   * after this resolves, plus what the listener gets, misses nothing). Returns the unregister function.
   */
  async listen(runId: string, listener: FeedListener): Promise<() => void> {
    if (this.stopped) throw new Error('the live log feed is stopped');
    let set = this.listeners.get(runId);
    if (!set) this.listeners.set(runId, (set = new Set()));
    set.add(listener);
    const remove = () => {
      const current = this.listeners.get(runId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(runId);
    };
    try {
      // Lazily: an API process nobody watches a log on holds no consumer.
      await (this.ready ??= this.start());
    } catch (error) {
      remove();
      throw error;
    }
    return remove;
  }

  /** Closes the consumer; further `listen` calls fail. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const messages = this.messages;
    this.messages = null;
    await messages?.close();
  }

  /** Number of runs with listeners (for tests). */
  get runs(): number {
    return this.listeners.size;
  }

  private async start(): Promise<void> {
    try {
      const name = this.topology.streams.logs.name;
      const jsm = await jetstreamManager(this.nats, { checkAPI: false });
      // Start behind the newest message: the feed is for what comes next, replays read the past.
      const info = await jsm.streams.info(name);
      const consumer = await jetstream(this.nats).consumers.getPushConsumer(name, {
        // NATS 2.9 has one filter per consumer; the stream's single subject pattern is `logs.*`.
        filter_subjects: this.topology.streams.logs.subjects[0],
        deliver_policy: DeliverPolicy.StartSequence,
        // An explicit start, not DeliverPolicy.New: were the ordered consumer recreated before its first
        // message, it would restart from its cursor, which would be 0 — the whole stream.
        opt_start_seq: info.state.last_seq + 1,
      });
      const messages = await consumer.consume({ callback: (m) => this.dispatch(m) });
      if (this.stopped) {
        await messages.close();
        return;
      }
      this.messages = messages;
      void messages.closed().then(() => this.lost(messages));
    } catch (error) {
      this.ready = null;
      throw error;
    }
  }

  /** The consumer ended without `stop`: start a new one, then have every listener replay what it missed. */
  private lost(messages: ConsumerMessages): void {
    if (this.stopped || this.messages !== messages) return;
    this.messages = null;
    this.ready = null;
    const retry = () => {
      this.restartTimer = null;
      if (this.stopped || this.listeners.size === 0) return; // the next listen starts it
      this.ready = this.start();
      this.ready.then(
        () => {
          for (const set of [...this.listeners.values()]) for (const listener of [...set]) listener.gap();
        },
        () => {
          this.restartTimer = setTimeout(retry, RESTART_DELAY_MS);
        },
      );
    };
    retry();
  }

  private dispatch(m: JsMsg): void {
    const dot = m.subject.lastIndexOf('.');
    const set = this.listeners.get(m.subject.slice(dot + 1));
    // Most chunks of a busy stream have no subscriber in this process: not even parsed.
    if (!set) return;
    // Parsed once for every subscriber of the run. Runners validate what they publish; anything else
    // on the subject is not a log line, but still a position the subscriber has passed.
    const parsed = logChunkSchema.safeParse(safeJson(m.data));
    const chunk: FeedChunk = { seq: m.seq, lines: parsed.success ? parsed.data.lines : null };
    for (const listener of [...set]) listener.chunk(chunk);
  }
}

export function safeJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}
