// The runners' capacity for the dispatcher's fair share, kept in memory from their heartbeats: read
// once at start, then followed with a KV watch. The dispatcher asks every round (several times a
// second); listing the bucket each time would cost a NATS round trip per runner, and a listing that
// races a heartbeat can see a key twice.
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { decode, RUNNER_RECORD_TTL_MS, runnerHeartbeatSchema, type RunnerHeartbeat, type Topology } from 'runner/protocol';
import { listRunners, LOST_AFTER_MS, runnerPools } from './service.js';

/** A runner taking orders now: its slots and the pools (runner/protocol pools.ts) it pulls from. */
export interface RunnerSlots {
  runnerId: string;
  slots: number;
  pools: ReadonlySet<string>;
}

export interface CapacityTracker {
  /**
   * The runners that take orders now (not draining, degraded or silent); null when no runner has
   * beaten within LOST_AFTER_MS, so there is no capacity to share.
   */
  capacity(now?: number): RunnerSlots[] | null;
  stop(): void;
}

/**
 * Free slots per pool, from the runners' slots and the runs in flight per pool. Runners share their
 * slots between the pools they serve, so the runs in flight are laid on the runners that can hold
 * them (pools served by the fewest runners first, onto the runner with the most room), and each
 * grant takes its slots off the runners serving that pool. An estimate — which runner holds what is
 * the runners' business — that never offers a pool more than its runners' free slots together.
 */
export class SlotPlan {
  private readonly room = new Map<string, number>();

  constructor(
    private readonly runners: readonly RunnerSlots[],
    inFlight: ReadonlyMap<string, number>,
  ) {
    for (const r of runners) this.room.set(r.runnerId, r.slots);
    const byScarcity = [...inFlight].sort(([a], [b]) => this.serving(a).length - this.serving(b).length);
    for (const [pool, n] of byScarcity) this.take(pool, n);
  }

  /** How many of `wanted` runs of `pool` may be published now; those slots are taken. */
  grant(pool: string, wanted: number): number {
    return this.take(pool, wanted);
  }

  free(pool: string): number {
    return this.serving(pool).reduce((sum, r) => sum + this.room.get(r.runnerId)!, 0);
  }

  private serving(pool: string): RunnerSlots[] {
    return this.runners.filter((r) => r.pools.has(pool));
  }

  private take(pool: string, wanted: number): number {
    let left = wanted;
    for (const r of this.serving(pool).sort((a, b) => this.room.get(b.runnerId)! - this.room.get(a.runnerId)!)) {
      const n = Math.min(left, this.room.get(r.runnerId)!);
      this.room.set(r.runnerId, this.room.get(r.runnerId)! - n);
      left -= n;
      if (left === 0) break;
    }
    return wanted - left;
  }
}

export async function trackRunnerCapacity(nats: NatsConnection, topology: Topology): Promise<CapacityTracker> {
  const beats = new Map<string, RunnerHeartbeat>();
  const kv = await new Kvm(nats).create(topology.runnersBucket, { ttl: RUNNER_RECORD_TTL_MS, history: 1 });
  let stopped = false;
  // Watch first, then list: a beat landing in between is seen at least once, and a runner's later
  // beat replaces its entry. The first opening is awaited, so the dispatcher's first round already
  // knows the runners (an empty map would read as "no runner" and publish every waiting run).
  const open = async () => {
    const iterator = await kv.watch({ include: 'updates' });
    for (const runner of await listRunners(nats, topology)) beats.set(runner.runnerId, runner);
    return iterator;
  };
  let watcher = await open();
  // Should the watch end (NATS gone for long), it is opened again: a stale map would turn every
  // runner LOST after LOST_AFTER_MS, and the dispatcher would stop sharing.
  void (async () => {
    while (!stopped) {
      try {
        for await (const entry of watcher) apply(beats, entry);
      } catch {
        // The watch failed; reopened below.
      }
      while (!stopped) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        if (stopped) break;
        try {
          watcher = await open();
          break;
        } catch {
          // NATS still unreachable: try again.
        }
      }
    }
  })();
  return {
    capacity: (now = Date.now()) => {
      const heard = [...beats.values()].filter((b) => now - Date.parse(b.at) <= LOST_AFTER_MS);
      if (heard.length === 0) return null;
      return heard.filter((b) => !b.draining && !b.degraded).map((b) => ({ runnerId: b.runnerId, slots: b.slots, pools: new Set(runnerPools(b)) }));
    },
    stop: () => {
      stopped = true;
      watcher.stop();
    },
  };
}

type KvEntry = Awaited<ReturnType<KV['get']>> & {};

function apply(beats: Map<string, RunnerHeartbeat>, entry: KvEntry): void {
  if (entry.operation !== 'PUT') {
    beats.delete(entry.key);
    return;
  }
  try {
    const beat = decode(runnerHeartbeatSchema, entry.value, `heartbeat of ${entry.key}`);
    beats.set(beat.runnerId, beat);
  } catch {
    // A heartbeat we cannot read is not capacity we can count on.
  }
}
