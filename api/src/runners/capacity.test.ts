import { Kvm } from '@nats-io/kv';
import { encode, PROTOCOL_VERSION, RUNNER_RECORD_TTL_MS, type RunnerHeartbeat } from 'runner/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNats, type TestNats } from '../../test/support/nats.js';
import { waitFor } from 'runner/test-support';
import { trackRunnerCapacity } from './capacity.js';
import { LOST_AFTER_MS } from './service.js';

let nats: TestNats;
beforeAll(async () => {
  nats = await createTestNats();
});
afterAll(() => nats?.cleanup());

function beat(runnerId: string, slots: number, extra: Partial<RunnerHeartbeat> = {}): RunnerHeartbeat {
  const now = new Date().toISOString();
  return {
    v: PROTOCOL_VERSION,
    runnerId,
    host: 'h',
    slots,
    busy: 0,
    runIds: [],
    harborVersion: null,
    dockerReachable: true,
    lastError: null,
    startedAt: now,
    at: now,
    draining: false,
    degraded: null,
    ...extra,
  };
}

describe('runner capacity', () => {
  it('counts the slots of runners taking orders, follows heartbeats, and is null with no runner heard from', async () => {
    const kv = await new Kvm(nats.nc).create(nats.topology.runnersBucket, { ttl: RUNNER_RECORD_TTL_MS, history: 1 });
    await kv.put('before', encode(beat('before', 3)));
    const tracker = await trackRunnerCapacity(nats.nc, nats.topology);
    try {
      // Read at start: the first dispatch round must not mistake "not read yet" for "no runner".
      expect(tracker.capacity()).toBe(3);
      await kv.put('after', encode(beat('after', 2)));
      await waitFor(() => tracker.capacity() === 5, { what: 'the new runner to count' });
      await kv.put('draining', encode(beat('draining', 4, { draining: true })));
      await kv.put('degraded', encode(beat('degraded', 4, { degraded: { reason: 'no docker', since: new Date().toISOString() } })));
      await kv.put('after', encode(beat('after', 6)));
      await waitFor(() => tracker.capacity() === 9, { what: 'the changed heartbeat' });
      await kv.delete('after');
      await waitFor(() => tracker.capacity() === 3, { what: 'the runner that left' });
      // Every runner silent for longer than LOST_AFTER_MS: nobody to share with.
      expect(tracker.capacity(Date.now() + LOST_AFTER_MS + 1_000)).toBeNull();
    } finally {
      tracker.stop();
    }
  });
});
