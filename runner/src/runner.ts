// A runner: pulls from the consumers of the pools it serves (protocol/pools.ts), each shared with
// every other runner serving that pool, only while it has a free slot and is healthy, so it never
// holds more orders than it can run. Each order becomes a Trial; its events go to EVENTS, and the
// order is acked only after the outcome is published.
import os from 'node:os';
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { RunnerConfig } from './config.js';
import { Breaker, checkHealth, DOCKER_UNREACHABLE, RunnerFault } from './health.js';
import { RunnerMetrics } from './metrics/index.js';
import { outcomesIn, type FinishedEvent } from './outcomes.js';
import type { Probe } from './probe.js';
import {
  decode,
  encode,
  ensureLegacyConsumer,
  ensureStreams,
  untilAnswered,
  openCancellations,
  PROTOCOL_VERSION,
  ProtocolError,
  RUNNER_RECORD_TTL_MS,
  runOrderSchema,
  type CancelReply,
  type Capabilities,
  type RunnerHeartbeat,
  type RunOrder,
  type Topology,
} from './protocol/index.js';
import { PoolPuller, PULL_EXPIRES_MS } from './pulls.js';
import { eventPublisher, PublishAborted } from './publish.js';
import { hostPathPlaceholders } from './secrets/host-paths.js';
import { createScrubber } from './secrets/scrub.js';
import { Slots } from './slots.js';
import { startTrial, type Trial } from './trial.js';

export interface RunnerDeps {
  config: RunnerConfig;
  nats: NatsConnection;
  topology: Topology;
  /** Facts about this machine for the heartbeat, found at start-up. */
  probe: Probe;
  /** What it serves now (capabilities.ts); read every pull round, so a Docker that comes up later is served. */
  capabilities: () => Capabilities;
  /** Sandbox credentials for an order's environment type (capabilities.ts sandboxEnv). */
  sandboxEnv?: (order: RunOrder) => Readonly<Record<string, string>>;
  log: (line: string) => void;
}

export interface Runner {
  /** Stop pulling; running trials continue. Resolves when they have all finished or `drainTimeoutMs` passed and they were stopped. */
  drain(): Promise<void>;
  /** Stop everything now: running trials are stopped and their orders go back to the queue. */
  stop(): Promise<void>;
  busy(): number;
  /** This runner's metrics (metrics/index.ts), served by main.ts on RUNNER_METRICS_PORT. */
  metrics: RunnerMetrics;
}

/** A released order waits this long before redelivery: long enough for this runner to have stopped pulling. */
const RELEASE_NAK_DELAY_MS = 2_000;
/** How long a `released` event is retried: the run shows QUEUED sooner, but a shutdown does not wait on NATS for ever. */
const RELEASE_PUBLISH_MS = 10_000;

export async function startRunner(deps: RunnerDeps): Promise<Runner> {
  const { config, nats, topology, log } = deps;
  // A runner starting while a NATS node is lost waits for the cluster's new leaders (services.ts does the same).
  const jsm = await untilAnswered(() => jetstreamManager(nats), { what: 'JetStream does not answer yet', log });
  // Settings are the API's to change; a runner only creates what is missing.
  await untilAnswered(() => ensureStreams(jsm, topology, config.streamLimits, false), { what: 'setting up the streams', log });
  const settings = { ackWaitMs: config.ackWaitMs, maxDeliver: config.maxDeliver };
  // Before any pool consumer: none can be made while the unfiltered one of older runners exists.
  await ensureLegacyConsumer(jsm, topology, settings).catch((error: Error) => log(`cannot filter the consumer of orders from before pools: ${error.message}`));
  const js = jetstream(nats);
  const kv: KV = await new Kvm(nats).create(topology.runnersBucket, { ttl: RUNNER_RECORD_TTL_MS, history: 1 });
  const cancellations = await openCancellations(nats, topology);
  const outcomes = outcomesIn(config.jobsDir, log);
  const publishEvent = eventPublisher(js, topology, log);

  const trials = new Map<string, Trial>();
  const orders = new Set<Promise<void>>();
  const slots = new Slots(config.concurrency);
  const startedAt = new Date().toISOString();
  /** Aborted on stop: retries of publishes give up, leaving kept outcomes for the next delivery. */
  const closing = new AbortController();
  let draining = false;
  let lastError = deps.probe.lastError;

  // What a trial reports is scrubbed of its keys at the source (trial.ts); the runner's own faults
  // (a TASKS_DIR it cannot read, …) name host paths, which the heartbeat shows as placeholders.
  const hostPaths = createScrubber([], hostPathPlaceholders(config));
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
      lastError: lastError === null ? null : hostPaths.scrub(lastError),
      startedAt,
      at: new Date().toISOString(),
      draining,
      degraded: breaker.degraded && { ...breaker.degraded, reason: hostPaths.scrub(breaker.degraded.reason) },
      capabilities: deps.capabilities(),
    };
    await kv.put(config.runnerId, JSON.stringify(beat)).catch((error: Error) => log(`heartbeat: ${error.message}`));
  };
  const breaker = new Breaker((options) => checkHealth(config, options), log, () => void heartbeat());
  const sick = await checkHealth(config, { docker: false });
  if (sick) breaker.trip(sick);
  else if (waitsForDocker(deps.capabilities())) {
    // Left to find out what it can serve, it serves nothing, for want of Docker (a runner without the
    // Docker socket mounted): that is the runner's fault to show, until `docker info` answers.
    breaker.trip(`${DOCKER_UNREACHABLE}; this runner serves no other environment type`, { docker: true });
  }
  await heartbeat();
  const metrics = new RunnerMetrics({
    slots: config.concurrency,
    busy: () => trials.size,
    draining: () => draining,
    degraded: () => breaker.degraded !== null,
    harborVersion: deps.probe.harborVersion,
  });
  const heartbeatTimer = setInterval(() => void heartbeat(), config.heartbeatMs);

  /** Publishes an outcome, then acks; the kept copy goes only once the ack is confirmed. */
  const finish = async (m: JsMsg, event: FinishedEvent) => {
    try {
      await publishEvent(event, closing.signal);
    } catch (error) {
      if (!(error instanceof PublishAborted)) throw error;
      log(`${error.message}; the outcome stays in JOBS_DIR for the next delivery`);
      m.nak();
      return;
    }
    if (await m.ackAck().catch(() => false)) {
      await outcomes.forget(event.runId).catch((error: Error) => log(`run ${event.runId}: cannot remove its kept outcome: ${error.message}`));
    }
  };

  /** `freeSlot` gives the trial slot back once no Harbor runs for this order any more; the order itself
   *  stays in `orders` (and alive with `working()`) until its outcome is acked. */
  const runOrder = async (m: JsMsg, order: RunOrder, freeSlot: () => void) => {
    const base = { v: PROTOCOL_VERSION, runId: order.runId, jobId: order.jobId, runnerId: config.runnerId, dispatch: order.dispatch, deliveryCount: m.info.deliveryCount } as const;
    const at = () => new Date().toISOString();
    const kept = await outcomes.find(order.runId);
    if (kept) {
      // Harbor already finished this run (an outage or a dead runner kept the outcome from being published).
      log(`run ${order.runId}: publishing the outcome kept by ${kept.runnerId} instead of running the trial again`);
      freeSlot();
      await finish(m, { ...kept, dispatch: base.dispatch, deliveryCount: base.deliveryCount });
      return;
    }
    if (await cancellations.find(order.runId)) {
      log(`run ${order.runId}: cancelled before it started; dropping the order`);
      await publishEvent({ ...base, type: 'dropped', reason: 'cancelled', at: at() }, closing.signal);
      m.ack();
      return;
    }
    // Harbor starts without waiting for the claim to be acknowledged; later events of this run are
    // chained after it, so the recorder still sees them in order.
    let events = publishEvent({ ...base, type: 'claimed', at: at() }, closing.signal);
    const trial = startTrial(config, order, m.info.deliveryCount, deps.probe.parentDeath, {
      started: (trialDir) => {
        events = events.then(() => publishEvent({ ...base, type: 'started', trialDir, at: at() }, closing.signal));
      },
      publishLog: async (chunk) => {
        const data = encode(chunk);
        await js.publish(topology.runLog(order.runId), data);
        metrics.logChunk(chunk.lines.length, data.byteLength);
      },
      log,
    }, deps.sandboxEnv?.(order));
    trials.set(order.runId, trial);
    metrics.trialsStarted.inc();
    const startedAtMs = performance.now();
    // Only the runner holding the run listens for its cancel, so every reply is authoritative.
    const cancelSub: Subscription = nats.subscribe(topology.cancelRun(order.runId), {
      callback: (_err, msg) => {
        trial.stop('user');
        const reply: CancelReply = { ok: true, runId: order.runId, state: 'stopping' };
        msg.respond(JSON.stringify(reply));
      },
    });
    void heartbeat();
    const outcome = await trial.done.finally(() => {
      cancelSub.unsubscribe();
      trials.delete(order.runId);
    });
    if (outcome.kind === 'released') {
      metrics.trialsReleased.inc({ reason: outcome.reason });
      await events.catch(() => {});
      if (outcome.reason === 'runner-unhealthy') breaker.trip(outcome.message, { docker: outcome.fault.docker });
      // Before the nak, so the run shows QUEUED again rather than held by a runner that let it go.
      await publishEvent({ ...base, type: 'released', reason: outcome.reason, message: outcome.message, at: at() }, AbortSignal.timeout(RELEASE_PUBLISH_MS)).catch(
        (error: Error) => log(error.message),
      );
      if (outcome.reason === 'runner-unhealthy') m.nak(RELEASE_NAK_DELAY_MS);
      else m.nak(); // the runner is going away: another runner takes it now rather than after ack wait
      return;
    }
    const result = outcome.result;
    metrics.finished(result, (performance.now() - startedAtMs) / 1_000);
    if (result.status === 'ERRORED' && result.failureKind === 'INFRASTRUCTURE') lastError = result.exceptionMessage;
    const event: FinishedEvent = { ...base, type: 'finished', result, at: at() };
    // Kept before anything else waits on NATS: from here on, no delivery runs this trial again.
    await outcomes.keep(event).catch((error: Error) => {
      log(`run ${order.runId}: cannot keep its outcome on disk (${error.message}); publishing it anyway`);
      if (error instanceof RunnerFault) breaker.trip(error.message);
    });
    // Harbor is done and its outcome is safe on disk: the slot can take the next trial while this
    // outcome is published and acked, so publishing is not on the path of slot turnover.
    freeSlot();
    await events.catch(() => {});
    await finish(m, event);
  };

  const handle = async (m: JsMsg, freeSlot: () => void) => {
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
    // Kept alive from the first look to the ack: through Harbor and through publishing the outcome.
    const keepAlive = setInterval(() => m.working(), Math.min(10_000, config.ackWaitMs / 3));
    try {
      await runOrder(m, order, freeSlot);
    } catch (error) {
      if (error instanceof RunnerFault) breaker.trip(error.message);
      log(`run ${order.runId}: ${(error as Error).message}; returning the order to the queue`);
      m.nak(5_000);
    } finally {
      clearInterval(keepAlive);
      void heartbeat();
    }
  };

  const accept = (m: JsMsg) => {
    if (draining || breaker.degraded) {
      m.nak(); // arrived after the runner began to drain or fell sick: another runner takes it
      return;
    }
    slots.take();
    let slotFreed = false;
    const freeSlot = () => {
      if (slotFreed) return;
      slotFreed = true;
      slots.release();
    };
    const order = handle(m, freeSlot).finally(() => {
      freeSlot();
      orders.delete(order);
    });
    orders.add(order);
  };

  const puller = new PoolPuller({
    js,
    jsm,
    topology,
    settings,
    capabilities: deps.capabilities,
    stopping: () => draining,
    fault: (message) => {
      lastError = message;
      log(message);
    },
  });

  const pulling = (async () => {
    while (!draining) {
      await breaker.healthy();
      await slots.whenFree();
      if (draining || breaker.degraded) continue;
      try {
        // Exactly as many orders as there are free slots, spread over the pools: never more than it can run.
        const plan = await puller.plan(slots.available());
        if (plan.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, PULL_EXPIRES_MS)); // serves nothing now; capabilities may change
          continue;
        }
        await Promise.all(plan.map(([pool, max]) => puller.pull(pool, max, accept)));
      } catch (error) {
        if (draining) break;
        lastError = `pulling run orders: ${(error as Error).message}`;
        log(lastError);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  })();

  const waitForOrders = () => Promise.all([...orders]);
  const stopTrials = () => {
    for (const trial of trials.values()) trial.stop('shutdown');
    closing.abort();
  };

  let stopping: Promise<void> | undefined;
  const finishUp = async () => {
    breaker.close();
    clearInterval(heartbeatTimer);
    // Let the last acks and events leave before the connection closes.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await kv.delete(config.runnerId).catch(() => {});
  };

  return {
    busy: () => trials.size,
    metrics,
    drain: async () => {
      draining = true;
      breaker.close();
      await pulling;
      void heartbeat();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), config.drainTimeoutMs);
      });
      if ((await Promise.race([waitForOrders(), timedOut])) === 'timeout') {
        log(`drain timeout: stopping ${trials.size} trial(s); their orders go back to the queue`);
        stopTrials();
        await waitForOrders();
      }
      clearTimeout(timer);
      await finishUp();
    },
    stop: () =>
      (stopping ??= (async () => {
        draining = true;
        breaker.close();
        stopTrials();
        await pulling;
        await waitForOrders();
        await finishUp();
      })()),
  };
}

/** Whether Docker being unreachable is all that keeps this runner from serving anything. */
export function waitsForDocker(capabilities: Capabilities): boolean {
  return (
    capabilities.environmentTypes.length === 0 &&
    capabilities.unavailable.some((u) => u.environmentType === 'docker' && u.reason === DOCKER_UNREACHABLE)
  );
}
