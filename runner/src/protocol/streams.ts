// Creates the streams, consumers and bucket the platform needs, idempotently and with explicit
// limits; both the API and runners call it at start-up. Settings that differ from an existing
// stream are updated in place where NATS allows it.
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { CANCELLATION_TTL_MS } from './cancellations.js';
import { poolConsumer } from './pools.js';
import { z } from 'zod';
import type { Topology } from './topology.js';

const ns = (ms: number) => ms * 1_000_000;
const DAY = 24 * 60 * 60 * 1000;

export interface StreamLimits {
  /** How long run logs are kept. */
  logsMaxAgeMs: number;
  /** Total size of kept logs; the oldest go first. */
  logsMaxBytes: number;
  /** How long lifecycle events are kept (the recorder consumes them within seconds). */
  eventsMaxAgeMs: number;
  replicas: number;
}

export const defaultStreamLimits: StreamLimits = {
  logsMaxAgeMs: 14 * DAY,
  logsMaxBytes: 10 * 1024 ** 3,
  eventsMaxAgeMs: 7 * DAY,
  replicas: 1,
};

/**
 * NATS_LOGS_MAX_BYTES: how much of the JetStream store the LOGS stream may hold. The server reserves
 * a stream's max_bytes when the stream is created, so a small store (a laptop, a test server shared by
 * many throwaway prefixes) refuses a LOGS stream of the default 10 GiB with "insufficient storage
 * resources". Whole bytes, at least 1 MiB; the API sets it on the stream, a runner only when it
 * creates the stream first.
 */
export const logsMaxBytesSchema = z.coerce
  .number({ error: 'a number of bytes' })
  .int('a whole number of bytes')
  .min(1024 ** 2, 'at least 1 MiB (1048576)')
  .default(defaultStreamLimits.logsMaxBytes);

/**
 * Issue 18 (deploy): NATS_STREAM_REPLICAS, copies of RUNS, EVENTS and LOGS in a JetStream cluster. 1 on
 * one server; 3 on a 3-node cluster, so losing a node loses no order (at most 5, JetStream's limit).
 */
export const streamReplicasSchema = z.coerce
  .number({ error: 'a number of replicas' })
  .int('a whole number of replicas')
  .min(1, 'at least 1')
  .max(5, 'at most 5 (JetStream\'s limit)')
  .default(defaultStreamLimits.replicas);

export interface ConsumerSettings {
  /** How long a runner may stay silent on an order before it is redelivered; runners call working() well within it. */
  ackWaitMs: number;
  /** Deliveries of one order before it is given up and recorded as an infrastructure failure. */
  maxDeliver: number;
}

export const defaultConsumerSettings: ConsumerSettings = { ackWaitMs: 60_000, maxDeliver: 3 };

/** A runner's heartbeat record outlives its last beat this long, so a crashed runner shows as lost, then goes. */
export const RUNNER_RECORD_TTL_MS = 60 * 60 * 1000;

/**
 * The durable consumer runners shared on RUNS before pools (pools.ts); it now reads only the orders
 * published before pools, under their old subjects. The recorder's consumer on EVENTS.
 */
export const RUNNERS_CONSUMER = 'runners';
export const RECORDER_CONSUMER = 'recorder';
/** The recorder's consumer on the stream of orders that ran out of deliveries. */
export const GIVEN_UP_CONSUMER = `${RECORDER_CONSUMER}-given-up`;

function streamConfigs(t: Topology, limits: StreamLimits): (Partial<StreamConfig> & { name: string })[] {
  return [
    {
      name: t.streams.runs.name,
      subjects: t.streams.runs.subjects,
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      // Publishing with msgID = run id makes a dispatcher retry within this window a no-op.
      duplicate_window: ns(10 * 60 * 1000),
      max_msg_size: 64 * 1024,
      num_replicas: limits.replicas,
    },
    {
      name: t.streams.events.name,
      subjects: t.streams.events.subjects,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: ns(limits.eventsMaxAgeMs),
      duplicate_window: ns(2 * 60 * 1000),
      max_msg_size: 256 * 1024,
      num_replicas: limits.replicas,
    },
    {
      name: t.streams.logs.name,
      subjects: t.streams.logs.subjects,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: ns(limits.logsMaxAgeMs),
      max_bytes: limits.logsMaxBytes,
      max_msg_size: 1024 * 1024,
      num_replicas: limits.replicas,
    },
  ];
}

/**
 * JetStream announces an order that ran out of deliveries only as a core advisory; this stream keeps
 * those advisories so the recorder sees them even if no API was up at that moment.
 */
export function maxDeliveriesStream(t: Topology, replicas = 1): Partial<StreamConfig> & { name: string } {
  return {
    name: `${t.streams.runs.name}_GIVEN_UP`,
    // Every consumer on RUNS: the legacy one and each pool's.
    subjects: [`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${t.streams.runs.name}.*`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: ns(7 * DAY),
    num_replicas: replicas,
  };
}

/**
 * `owner`: the API owns the streams' settings and updates them in place; a runner only creates a
 * stream that is missing (it starts before any API), since NATS permissions keep it from updates.
 */
export async function ensureStreams(jsm: JetStreamManager, t: Topology, limits = defaultStreamLimits, owner = true): Promise<void> {
  for (const config of [...streamConfigs(t, limits), maxDeliveriesStream(t, limits.replicas)]) {
    try {
      await jsm.streams.info(config.name);
      if (owner) await jsm.streams.update(config.name, config);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      // Another process (API replica or runner) may create it between our look and our add.
      await jsm.streams.add(config).catch(async (addError: Error) => {
        if (!/already in use/i.test(addError.message)) throw addError;
        if (owner) await jsm.streams.update(config.name, config);
      });
    }
  }
  if (limits.replicas > 1) await ensureReplicatedBuckets(jsm, t, limits.replicas);
}

/**
 * Issue 18 (deploy): in a JetStream cluster the `runners` and `cancelled` buckets get the streams'
 * replicas too, or losing the node that holds one stops heartbeats or cancellations. They are made
 * here, before anything opens them: Kvm.create keeps a bucket that exists as it is, so every later
 * opening (with no replicas given) uses these.
 */
async function ensureReplicatedBuckets(jsm: JetStreamManager, t: Topology, replicas: number): Promise<void> {
  const kvm = new Kvm(jsm.jetstream());
  for (const [bucket, ttl] of [[t.runnersBucket, RUNNER_RECORD_TTL_MS], [t.cancelledBucket, CANCELLATION_TTL_MS]] as const) {
    await kvm.create(bucket, { ttl, history: 1, replicas }).catch((error: Error) => {
      // Another process made it between Kvm's look and its add.
      if (!/already in use/i.test(error.message)) throw error;
    });
  }
}

/**
 * A pool's consumer (pools.ts), or without a pool the legacy consumer, filtered to the orders of
 * before pools: a work-queue stream allows no unfiltered consumer beside filtered ones.
 */
export function runnersConsumerConfig(t: Topology, settings = defaultConsumerSettings, pool?: string): Partial<ConsumerConfig> {
  return {
    durable_name: pool === undefined ? RUNNERS_CONSUMER : poolConsumer(pool),
    filter_subject: t.poolOrders(pool),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ns(settings.ackWaitMs),
    max_deliver: settings.maxDeliver,
    // Runners pull only for free slots; this caps what all of them together may hold.
    max_ack_pending: 100_000,
  };
}

export function recorderConsumerConfig(name = RECORDER_CONSUMER): Partial<ConsumerConfig> {
  return {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ns(30_000),
    max_deliver: -1,
    max_ack_pending: 1_000,
  };
}

/**
 * Makes the consumer of before pools filtered to the old subjects, so that pool consumers can exist
 * beside it on the work-queue stream. An unfiltered one (left by older runners) is deleted and made
 * again: nats-server 2.9 accepts a filter change in place but then delivers nothing. Orders it held
 * in delivery at that moment are delivered again after the change (an upgrade's one-off cost).
 */
export async function ensureLegacyConsumer(jsm: JetStreamManager, t: Topology, settings = defaultConsumerSettings): Promise<void> {
  const config = runnersConsumerConfig(t, settings);
  const info = await jsm.consumers.info(t.streams.runs.name, RUNNERS_CONSUMER).catch((error: unknown) => {
    if (isNotFound(error)) return null;
    throw error;
  });
  if (info && info.config.filter_subject !== config.filter_subject) {
    await jsm.consumers.delete(t.streams.runs.name, RUNNERS_CONSUMER).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }
  await ensureConsumer(jsm, t.streams.runs.name, config);
}

export async function ensureConsumer(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig>): Promise<void> {
  try {
    await jsm.consumers.info(stream, config.durable_name!);
    await jsm.consumers.update(stream, config.durable_name!, config);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(stream, config).catch(async (addError: Error) => {
      if (!/already (in use|exists)/i.test(addError.message)) throw addError;
      await jsm.consumers.update(stream, config.durable_name!, config);
    });
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { code?: string | number; api_error?: { err_code?: number }; message?: string };
  return (
    e?.api_error?.err_code === 10059 || // stream not found
    e?.api_error?.err_code === 10014 || // consumer not found
    /not found/i.test(e?.message ?? '')
  );
}

/**
 * Whether NATS answered and refused (a 4xx API error: a bad config, a subject that does not fit):
 * asking again gets the same answer. Anything else — a timeout while a lost node's streams elect new
 * leaders, no responders, "temporarily unavailable" (503) — may pass on its own.
 */
export function isRefusal(error: unknown): boolean {
  // A permissions violation is the server's refusal too (a nats.conf generated for another prefix).
  if (error instanceof Error && (error.name === 'PermissionViolationError' || /permissions? violation/i.test(error.message))) return true;
  return error instanceof JetStreamApiError && error.status < 500;
}

/**
 * Runs `op` until it succeeds, retrying what is not a refusal after 1 s, doubling up to 10 s, until
 * `deadlineMs` has passed; then the last error is thrown. For set-up at start-up, which a NATS cluster
 * re-electing leaders (a node lost) can leave unanswered for tens of seconds.
 */
export async function untilAnswered<T>(op: () => Promise<T>, options: { what: string; log: (line: string) => void; deadlineMs?: number }): Promise<T> {
  const deadline = Date.now() + (options.deadlineMs ?? 120_000);
  for (let waitMs = 1_000; ; waitMs = Math.min(waitMs * 2, 10_000)) {
    try {
      return await op();
    } catch (error) {
      if (isRefusal(error) || Date.now() + waitMs > deadline) throw error;
      options.log(`${options.what}: ${(error as Error).message}; trying again in ${waitMs / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
