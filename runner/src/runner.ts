// A runner: one durable pull consumer on RUNS shared with every other runner, pulling only while it
// has a free slot, so it never holds more orders than it can run. Each order becomes a Trial; its
// events go to EVENTS, and the order is acked only after the outcome is published.
import os from 'node:os';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { RunnerConfig } from './config.js';
import {
  decode,
  encode,
  eventMsgId,
  ensureConsumer,
  ensureStreams,
  PROTOCOL_VERSION,
  ProtocolError,
  RUNNER_RECORD_TTL_MS,
  RUNNERS_CONSUMER,
  runnersConsumerConfig,
  runOrderSchema,
  type CancelReply,
  type RunEvent,
  type RunnerHeartbeat,
  type RunOrder,
  type RunResult,
  type Topology,
} from './protocol/index.js';
import { startTrial, type Trial } from './trial.js';

export interface RunnerDeps {
  config: RunnerConfig;
  nats: NatsConnection;
  topology: Topology;
  /** Facts about this machine for the heartbeat, found at start-up. */
  probe: { harborVersion: string | null; dockerReachable: boolean | null; lastError: string | null };
  log: (line: string) => void;
}

export interface Runner {
  /** Stop pulling; running trials continue. Resolves when they have all finished or `drainTimeoutMs` passed and they were stopped. */
  drain(): Promise<void>;
  /** Stop everything now: running trials are stopped and their orders go back to the queue. */
  stop(): Promise<void>;
  busy(): number;
}


/** Free trial slots; the pull loop waits here until at least one is free. */
class Slots {
  private free: number;
  private waiter: (() => void) | null = null;
  constructor(size: number) {
    this.free = size;
  }
  available(): number {
    return this.free;
  }
  take(): void {
    this.free--;
  }
  release(): void {
    this.free++;
    this.waiter?.();
    this.waiter = null;
  }
  /** Resolves once a slot is free (or at once if one is). */
  whenFree(): Promise<void> {
    if (this.free > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}

export async function startRunner(deps: RunnerDeps): Promise<Runner> {
  const { config, nats, topology, log } = deps;
  const jsm = await jetstreamManager(nats);
  await ensureStreams(jsm, topology);
  await ensureConsumer(jsm, topology.streams.runs.name, runnersConsumerConfig({ ackWaitMs: config.ackWaitMs, maxDeliver: config.maxDeliver }));
  const js = jetstream(nats);
  const kv: KV = await new Kvm(nats).create(topology.runnersBucket, { ttl: RUNNER_RECORD_TTL_MS, history: 1 });

  const trials = new Map<string, Trial>();
  const slots = new Slots(config.concurrency);
  const startedAt = new Date().toISOString();
  let draining = false;
  let lastError = deps.probe.lastError;

  const publishEvent = async (event: RunEvent) => {
    // Retried: an outcome that never reaches the recorder would leave the run hanging.
    for (let attempt = 1; ; attempt++) {
      try {
        await js.publish(topology.runEvent(event.jobId, event.runId), encode(event), { msgID: eventMsgId(event) });
        return;
      } catch (error) {
        if (attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** attempt) * (0.5 + Math.random())));
      }
    }
  };

  const heartbeat = async () => {
    const beat: RunnerHeartbeat = {
      v: PROTOCOL_VERSION,
      runnerId: config.runnerId,
      host: os.hostname(),
      slots: config.concurrency,
      busy: trials.size,
      runIds: [...trials.keys()],
      harborVersion: deps.probe.harborVersion,
      dockerReachable: deps.probe.dockerReachable,
      lastError,
      startedAt,
      at: new Date().toISOString(),
      draining,
      degraded: null,
    };
    await kv.put(config.runnerId, JSON.stringify(beat)).catch((error: Error) => log(`heartbeat: ${error.message}`));
  };
  await heartbeat();
  const heartbeatTimer = setInterval(() => void heartbeat(), config.heartbeatMs);

  const runOrder = async (m: JsMsg, order: RunOrder) => {
    const base = { v: PROTOCOL_VERSION, runId: order.runId, jobId: order.jobId, runnerId: config.runnerId, dispatch: order.dispatch, deliveryCount: m.info.deliveryCount } as const;
    const at = () => new Date().toISOString();
    // Harbor starts without waiting for the claim to be acknowledged; later events of this run are
    // chained after it, so the recorder still sees them in order.
    let events = publishEvent({ ...base, type: 'claimed', at: at() });
    const trial = startTrial(config, order, m.info.deliveryCount, {
      started: (trialDir) => {
        events = events.then(() => publishEvent({ ...base, type: 'started', trialDir, at: at() }));
      },
      working: () => m.working(),
      publishLog: async (chunk) => {
        await js.publish(topology.runLog(order.runId), encode(chunk));
      },
      log,
    });
    trials.set(order.runId, trial);
    // Only the runner holding the run listens for its cancel, so every reply is authoritative.
    const cancelSub: Subscription = nats.subscribe(topology.cancelRun(order.runId), {
      callback: (_err, msg) => {
        trial.stop('user');
        const reply: CancelReply = { ok: true, runId: order.runId, state: 'stopping' };
        msg.respond(JSON.stringify(reply));
      },
    });
    void heartbeat();
    let result: RunResult | null;
    try {
      ({ result } = await trial.done);
    } finally {
      cancelSub.unsubscribe();
      trials.delete(order.runId);
    }
    if (result === null) {
      // The runner is going away: hand the order to another runner now rather than after ack wait.
      m.nak();
      return;
    }
    if (result.status === 'ERRORED' && result.failureKind === 'INFRASTRUCTURE') lastError = result.exceptionMessage;
    await events.catch(() => {});
    await publishEvent({ ...base, type: 'finished', result, at: at() });
    m.ack();
    void heartbeat();
  };

  const handle = async (m: JsMsg) => {
    let order: RunOrder;
    try {
      order = decode(runOrderSchema, m.data, `order ${m.subject}`);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      // It can never run: terminate it so it is not redelivered, and say so.
      log(`dropped ${error.message}`);
      m.term();
      return;
    }
    try {
      await runOrder(m, order);
    } catch (error) {
      log(`run ${order.runId}: ${(error as Error).message}; returning the order to the queue`);
      m.nak(5_000);
    }
  };

  const pulling = (async () => {
    while (!draining) {
      try {
        const consumer = await js.consumers.get(topology.streams.runs.name, RUNNERS_CONSUMER);
        while (!draining) {
          await slots.whenFree();
          if (draining) break;
          // Ask for exactly as many orders as there are free slots: never more than it can run.
          const batch = await consumer.fetch({ max_messages: slots.available(), expires: 2_000 });
          for await (const m of batch) {
            if (draining) {
              m.nak(); // arrived after the runner began to drain: another runner takes it
              continue;
            }
            slots.take();
            void handle(m).finally(() => slots.release());
          }
        }
      } catch (error) {
        if (draining) break;
        lastError = `pulling run orders: ${(error as Error).message}`;
        log(lastError);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  })();

  const waitForTrials = () => Promise.all([...trials.values()].map((t) => t.done));

  let stopping: Promise<void> | undefined;
  const finish = async () => {
    clearInterval(heartbeatTimer);
    await kv.delete(config.runnerId).catch(() => {});
  };

  return {
    busy: () => trials.size,
    drain: async () => {
      draining = true;
      await pulling;
      void heartbeat();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), config.drainTimeoutMs);
      });
      if ((await Promise.race([waitForTrials(), timedOut])) === 'timeout') {
        log(`drain timeout: stopping ${trials.size} trial(s); their orders go back to the queue`);
        for (const trial of trials.values()) trial.stop('shutdown');
        await waitForTrials();
      }
      clearTimeout(timer);
      // Let the last acks and events leave before the connection closes.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await finish();
    },
    stop: () =>
      (stopping ??= (async () => {
        draining = true;
        for (const trial of trials.values()) trial.stop('shutdown');
        await pulling;
        await waitForTrials();
        await new Promise((resolve) => setTimeout(resolve, 100));
        await finish();
      })()),
  };
}
