// Runners as their heartbeats in the `runners` KV bucket say: live while beating, degraded while
// they have found a fault of their own (and take no orders), lost once silent for LOST_AFTER_MS
// (a crash or a network split), gone when they shut down cleanly.
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { Repeater } from 'graphql-yoga';
import {
  assumedCapabilities,
  decode,
  poolsServed,
  RUNNER_RECORD_TTL_MS,
  type Capabilities,
  type RunnerHeartbeat,
  runnerHeartbeatSchema,
  type Topology,
} from 'runner/protocol';

/** Runners beat every few seconds; this many seconds of silence means several beats were missed. */
export const LOST_AFTER_MS = 30_000;

/**
 * What a runner serves; a runner older than capabilities served docker (and takes pooled orders only
 * while the shared consumer it reads is still unfiltered, during an upgrade).
 */
export function runnerCapabilities(beat: RunnerHeartbeat): Capabilities {
  return beat.capabilities ?? assumedCapabilities(beat.dockerReachable);
}

export function runnerPools(beat: RunnerHeartbeat): string[] {
  return poolsServed(runnerCapabilities(beat));
}

export interface RunnerState extends RunnerHeartbeat {
  state: 'LIVE' | 'DRAINING' | 'DEGRADED' | 'LOST';
}

export async function listRunners(nats: NatsConnection, topology: Topology, now = Date.now()): Promise<RunnerState[]> {
  let kv;
  try {
    kv = await new Kvm(nats).open(topology.runnersBucket);
    await kv.status();
  } catch {
    return []; // no runner has ever started
  }
  const runners: RunnerState[] = [];
  for (const key of await heartbeatKeys(kv)) {
    const entry = await kv.get(key);
    if (!entry || entry.operation !== 'PUT') continue;
    try {
      const beat = decode(runnerHeartbeatSchema, entry.value, `heartbeat of ${key}`);
      const lost = now - Date.parse(beat.at) > LOST_AFTER_MS;
      runners.push({ ...beat, state: lost ? 'LOST' : beat.draining ? 'DRAINING' : beat.degraded ? 'DEGRADED' : 'LIVE' });
    } catch {
      // A heartbeat we cannot read is not a runner we can show.
    }
  }
  return runners.sort((a, b) => a.runnerId.localeCompare(b.runnerId));
}

/**
 * How long one listing of the bucket's keys may take. A listing takes milliseconds, but nats.js's
 * `kv.keys()` can wait forever when a heartbeat lands while it reads (about 1 in 75 listings with a
 * put every 40 ms on the shared test server): its end is the consumer's last pending message, and
 * the new one moves it. Every live job's Job.waitingForRunner lists the runners, so one stuck listing
 * froze that job's jobUpdated subscription for good.
 */
const KEYS_DEADLINE_MS = 2_000;

/** The bucket's keys; a listing cut off by the deadline is tried again (twice), then taken as it is. */
export async function heartbeatKeys(kv: Awaited<ReturnType<Kvm['open']>>): Promise<string[]> {
  for (let attempt = 1; ; attempt += 1) {
    const iterator = await kv.keys();
    let cutOff = false;
    const timer = setTimeout(() => {
      cutOff = true;
      iterator.stop();
    }, KEYS_DEADLINE_MS);
    const keys: string[] = [];
    try {
      for await (const key of iterator) keys.push(key);
    } finally {
      clearTimeout(timer);
    }
    if (!cutOff || attempt === 3) return keys;
  }
}

/**
 * The runner list now, then again after any heartbeat changes it (coalesced to one read per
 * `intervalMs`) and at least every `tickMs`, so a runner that falls silent turns LOST on screen.
 */
export function watchRunners(
  nats: NatsConnection,
  topology: Topology,
  { intervalMs = 500, tickMs = 10_000, list = listRunners }: { intervalMs?: number; tickMs?: number; list?: typeof listRunners } = {},
): Repeater<RunnerState[]> {
  return new Repeater<RunnerState[]>(async (push, stop) => {
    let pending: NodeJS.Timeout | null = null;
    let stopped = false;
    const send = async () => {
      pending = null;
      await push(await list(nats, topology));
    };
    // A refresh runs on a timer, where nobody awaits it: a read that fails (the connection draining
    // as the server shuts down, a server restart) keeps the list on screen until the next refresh,
    // rather than becoming an unhandled rejection.
    const refresh = async () => {
      try {
        await send();
      } catch {
        if (!stopped && nats.isClosed()) stop(); // the API is shutting down: the list ends with it
      }
    };
    const soon = () => {
      pending ??= setTimeout(() => void refresh(), intervalMs);
    };
    await send();
    const tick = setInterval(soon, tickMs);
    let watcher: { stop(): void } | null = null;
    try {
      const kv = await new Kvm(nats).create(topology.runnersBucket, { ttl: RUNNER_RECORD_TTL_MS, history: 1 });
      const iterator = await kv.watch({ include: 'updates' });
      watcher = iterator;
      void (async () => {
        for await (const _ of iterator) soon();
      })();
    } catch {
      // Without a bucket there is nothing to watch; the tick still refreshes the list.
    }
    await stop;
    stopped = true;
    watcher?.stop();
    clearInterval(tick);
    if (pending) clearTimeout(pending);
  });
}
