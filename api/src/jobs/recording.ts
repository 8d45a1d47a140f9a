// The recorder's consume loops: run events from EVENTS, and orders JetStream gave up on (max
// deliveries reached) from the advisories stream. Each loop recreates its consumer after an error.
import { jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  decode,
  ensureConsumer,
  maxDeliveriesStream,
  ProtocolError,
  GIVEN_UP_CONSUMER,
  RECORDER_CONSUMER,
  recorderConsumerConfig,
  runEventSchema,
  runOrderSchema,
  type Topology,
} from 'runner/protocol';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import type { RunStatus } from '../generated/prisma/enums.js';
import { enforceBudget } from './budget-stop.js';
import { requestStop } from './cancel.js';
import { notifyJob, transition, type Applied } from '../runs/lifecycle.js';
import { applyEvent, TERMINAL } from './recorder.js';
import type { ApiMetrics } from '../metrics/index.js';

export interface RecorderDeps {
  db: Db;
  nats: NatsConnection;
  topology: Topology;
  log: (line: string) => void;
  /** A run ended: its runner slot is free, so the fair-share dispatcher can publish the next order now, not at its next poll. */
  onRunEnded?: () => void;
  /** Counts events and times event-to-record (metrics/index.ts). */
  metrics?: ApiMetrics;
}

const maxDeliveriesAdvisory = z.object({ stream: z.string(), consumer: z.string(), stream_seq: z.number().int(), deliveries: z.number().int() });

/** Starts both loops; `stop` ends them after the message in hand. */
export async function startRecorder(deps: RecorderDeps): Promise<{ stop(): Promise<void> }> {
  const jsm = await jetstreamManager(deps.nats);
  await ensureConsumer(jsm, deps.topology.streams.events.name, recorderConsumerConfig());
  const givenUp = maxDeliveriesStream(deps.topology);
  await ensureConsumer(jsm, givenUp.name, recorderConsumerConfig(GIVEN_UP_CONSUMER));
  const controller = new AbortController();
  const loops = [
    consumeLoop(deps, deps.topology.streams.events.name, RECORDER_CONSUMER, controller.signal, (m) => recordEvent(deps, m)),
    consumeLoop(deps, givenUp.name, GIVEN_UP_CONSUMER, controller.signal, (m) => recordGivenUp(deps, m)),
  ];
  return {
    stop: async () => {
      controller.abort();
      await Promise.all(loops);
    },
  };
}

async function consumeLoop(
  deps: RecorderDeps,
  stream: string,
  consumerName: string,
  signal: AbortSignal,
  handle: (m: JsMsg) => Promise<void>,
): Promise<void> {
  const js = jetstream(deps.nats);
  while (!signal.aborted) {
    try {
      const consumer = await js.consumers.get(stream, consumerName);
      const messages = await consumer.consume({ max_messages: 256 });
      const onAbort = () => void messages.close();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const m of messages) {
          await handle(m);
          if (signal.aborted) break;
        }
      } finally {
        signal.removeEventListener('abort', onAbort);
        await messages.close();
      }
    } catch (error) {
      if (signal.aborted) break;
      deps.log(`recorder (${stream}): ${(error as Error).message}; resuming in 1 s`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

async function recordEvent(deps: RecorderDeps, m: JsMsg): Promise<void> {
  let event;
  try {
    event = decode(runEventSchema, m.data, `event ${m.subject}#${m.seq}`);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    // A malformed event can never be applied; drop it loudly rather than block the stream.
    deps.log(`recorder: dropped ${error.message}`);
    m.term();
    return;
  }
  const outcome = await applyEvent(deps.db, event, m.seq);
  m.ack();
  if (deps.metrics) {
    deps.metrics.recorderEvents.inc({ type: event.type });
    // From the stream's own timestamp: the runner's clock plays no part.
    deps.metrics.recorderLag.observe(Math.max(0, Date.now() - m.time.getTime()) / 1_000);
  }
  if (outcome.applied) {
    notifyJob(deps.nats, deps.topology, outcome.applied);
    if (TERMINAL.has(outcome.applied.status)) deps.onRunEnded?.();
  }
  // Taken by a runner after it was cancelled (before its cancellation record was written, or redelivered).
  if (outcome.stop) void requestStop(deps, event.runId);
  // The reconciler completes this should the process die first (checkBudget marked the job).
  if (outcome.budgetReached) {
    deps.metrics?.budgetStops.inc();
    void enforceBudget(deps, event.jobId).catch((error: Error) => deps.log(`recorder: budget stop of job ${event.jobId}: ${error.message}`));
  }
}

/** An order no runner finished within max deliveries: an infrastructure failure, never a silent drop. */
async function recordGivenUp(deps: RecorderDeps, m: JsMsg): Promise<void> {
  const advisory = maxDeliveriesAdvisory.safeParse(m.json());
  if (!advisory.success) {
    m.term();
    return;
  }
  const jsm = await jetstreamManager(deps.nats);
  const runs = deps.topology.streams.runs.name;
  const stored = await jsm.streams.getMessage(runs, { seq: advisory.data.stream_seq }).catch(() => null);
  if (!stored) {
    m.ack();
    return;
  }
  let order;
  try {
    order = decode(runOrderSchema, stored.data, `order #${advisory.data.stream_seq}`);
  } catch {
    await jsm.streams.deleteMessage(runs, advisory.data.stream_seq).catch(() => false);
    m.ack();
    return;
  }
  const applied = await deps.db.$transaction(async (tx): Promise<Applied | null> => {
    const [run] = await tx.$queryRaw<{ id: string; jobId: string; status: RunStatus; dispatch: number }[]>`
      SELECT id, "jobId", status, dispatch FROM "Run" WHERE id = ${order.runId}::uuid FOR UPDATE`;
    // An order the reconciler has since replaced with a later dispatch says nothing about the run.
    if (!run || ['PASSED', 'FAILED', 'ERRORED', 'CANCELLED'].includes(run.status) || order.dispatch < run.dispatch) return null;
    await transition(tx, run, 'ERRORED', {
      failureKind: 'INFRASTRUCTURE',
      exceptionType: 'MaxDeliveriesExceeded',
      exceptionMessage:
        `the order was delivered ${advisory.data.deliveries} times and no runner finished it ` +
        '(runners crashed, were killed or lost contact with NATS)',
      deliveryCount: advisory.data.deliveries,
      finishedAt: new Date(),
    });
    return { jobId: run.jobId, runId: run.id, status: 'ERRORED' };
  });
  await jsm.streams.deleteMessage(runs, advisory.data.stream_seq).catch(() => false);
  m.ack();
  if (applied) notifyJob(deps.nats, deps.topology, applied);
}
