// The runners' capacity for the dispatcher's fair share, kept in memory from their heartbeats: read
// once at start, then followed with a KV watch. The dispatcher asks every round (several times a
// second); listing the bucket each time would cost a NATS round trip per runner, and a listing that
// races a heartbeat can see a key twice.
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { decode, RUNNER_RECORD_TTL_MS, runnerHeartbeatSchema, type RunnerHeartbeat, type Topology } from 'runner/protocol';
import { listRunners, LOST_AFTER_MS } from './service.js';

export interface CapacityTracker {
  /**
   * Slots of the runners that take orders now (not draining, degraded or silent); null when no
   * runner has beaten within LOST_AFTER_MS, so there is no capacity to share.
   */
  capacity(now?: number): number | null;
  stop(): void;
}

export async function trackRunnerCapacity(nats: NatsConnection, topology: Topology): Promise<CapacityTracker> {
  const beats = new Map<string, RunnerHeartbeat>();
  // Watch first, then list: a beat landing in between is seen at least once, and a later beat of a runner replaces its entry.
  const kv = await new Kvm(nats).create(topology.runnersBucket, { ttl: RUNNER_RECORD_TTL_MS, history: 1 });
  const watcher = await kv.watch({ include: 'updates' });
  for (const runner of await listRunners(nats, topology)) beats.set(runner.runnerId, runner);
  void (async () => {
    for await (const entry of watcher) {
      if (entry.operation !== 'PUT') {
        beats.delete(entry.key);
        continue;
      }
      try {
        const beat = decode(runnerHeartbeatSchema, entry.value, `heartbeat of ${entry.key}`);
        beats.set(beat.runnerId, beat);
      } catch {
        // A heartbeat we cannot read is not capacity we can count on.
      }
    }
  })();
  return {
    capacity: (now = Date.now()) => {
      const heard = [...beats.values()].filter((b) => now - Date.parse(b.at) <= LOST_AFTER_MS);
      if (heard.length === 0) return null;
      return heard.filter((b) => !b.draining && !b.degraded).reduce((sum, b) => sum + b.slots, 0);
    },
    stop: () => watcher.stop(),
  };
}
