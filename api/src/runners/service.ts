// Runners as their heartbeats in the `runners` KV bucket say: live while beating, lost once
// silent for LOST_AFTER_MS (a crash or a network split), gone when they shut down cleanly.
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { decode, type RunnerHeartbeat, runnerHeartbeatSchema, type Topology } from 'runner/protocol';

/** Runners beat every few seconds; this many seconds of silence means several beats were missed. */
export const LOST_AFTER_MS = 30_000;

export interface RunnerState extends RunnerHeartbeat {
  state: 'LIVE' | 'DRAINING' | 'LOST';
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
  for await (const key of await kv.keys()) {
    const entry = await kv.get(key);
    if (!entry || entry.operation !== 'PUT') continue;
    try {
      const beat = decode(runnerHeartbeatSchema, entry.value, `heartbeat of ${key}`);
      const lost = now - Date.parse(beat.at) > LOST_AFTER_MS;
      runners.push({ ...beat, state: lost ? 'LOST' : beat.draining ? 'DRAINING' : 'LIVE' });
    } catch {
      // A heartbeat we cannot read is not a runner we can show.
    }
  }
  return runners.sort((a, b) => a.runnerId.localeCompare(b.runnerId));
}
