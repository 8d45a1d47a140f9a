// The cancelled-runs record (DESIGN.md §2.7). Cancelling never purges RUNS: on nats-server 2.9 a
// subject purge moves the shared work-queue consumer past other jobs' orders. Instead the API writes
// one record per cancelled run into a KV bucket, and a runner that takes such an order drops it
// without starting Harbor. The bucket's max age outlives any order a healthy platform leaves queued.
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { cancellationSchema, decode, type Cancellation } from './messages.js';
import type { Topology } from './topology.js';

/** How long a cancellation is remembered; an order older than this taken by a runner runs, and the recorder stops it. */
export const CANCELLATION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** Writes in flight at once when a job's runs are cancelled together. */
const PUTS_IN_FLIGHT = 64;

export interface Cancellations {
  /** Records runs as cancelled; idempotent. */
  record(cancellations: Cancellation[]): Promise<void>;
  /** The run's cancellation, or null when it was never cancelled (or the record expired). */
  find(runId: string): Promise<Cancellation | null>;
}

export async function openCancellations(nats: NatsConnection, topology: Topology): Promise<Cancellations> {
  const kv: KV = await new Kvm(nats).create(topology.cancelledBucket, { ttl: CANCELLATION_TTL_MS, history: 1 });
  return {
    record: async (cancellations) => {
      for (let i = 0; i < cancellations.length; i += PUTS_IN_FLIGHT) {
        await Promise.all(cancellations.slice(i, i + PUTS_IN_FLIGHT).map((c) => kv.put(c.runId, JSON.stringify(cancellationSchema.parse(c)))));
      }
    },
    find: async (runId) => {
      const entry = await kv.get(runId);
      // A delete or purge marker, or nothing: not cancelled.
      if (!entry || entry.operation !== 'PUT' || entry.length === 0) return null;
      return decode(cancellationSchema, entry.value, `cancellation of ${runId}`);
    },
  };
}
