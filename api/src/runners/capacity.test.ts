import { Kvm } from '@nats-io/kv';
import { encode, PROTOCOL_VERSION, RUNNER_RECORD_TTL_MS, type RunnerHeartbeat } from 'runner/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNats, type TestNats } from '../../test/support/nats.js';
import { waitFor } from 'runner/test-support';
import { SlotPlan, trackRunnerCapacity, type RunnerSlots } from './capacity.js';
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
  const slots = (tracker: { capacity(now?: number): RunnerSlots[] | null }) => tracker.capacity()?.reduce((sum, r) => sum + r.slots, 0);

  it('counts the slots of runners taking orders, follows heartbeats, and is null with no runner heard from', async () => {
    const kv = await new Kvm(nats.nc).create(nats.topology.runnersBucket, { ttl: RUNNER_RECORD_TTL_MS, history: 1 });
    await kv.put('before', encode(beat('before', 3)));
    const tracker = await trackRunnerCapacity(nats.nc, nats.topology);
    try {
      // Read at start: the first dispatch round must not mistake "not read yet" for "no runner".
      expect(slots(tracker)).toBe(3);
      await kv.put('after', encode(beat('after', 2)));
      await waitFor(() => slots(tracker) === 5, { what: 'the new runner to count' });
      await kv.put('draining', encode(beat('draining', 4, { draining: true })));
      await kv.put('degraded', encode(beat('degraded', 4, { degraded: { reason: 'no docker', since: new Date().toISOString() } })));
      await kv.put('after', encode(beat('after', 6)));
      await waitFor(() => slots(tracker) === 9, { what: 'the changed heartbeat' });
      await kv.delete('after');
      await waitFor(() => slots(tracker) === 3, { what: 'the runner that left' });
      // Every runner silent for longer than LOST_AFTER_MS: nobody to share with.
      expect(tracker.capacity(Date.now() + LOST_AFTER_MS + 1_000)).toBeNull();
    } finally {
      tracker.stop();
    }
  });
});

describe('SlotPlan', () => {
  const runner = (runnerId: string, slots: number, pools: string[]): RunnerSlots => ({ runnerId, slots, pools: new Set(pools) });

  it("offers a pool only its own runners' free slots, shared runners counted once", () => {
    const runners = [runner('local', 2, ['docker']), runner('cloud', 4, ['docker', 'daytona'])];
    // Two docker runs in flight sit on the runner with most room; daytona keeps what is left.
    const plan = new SlotPlan(runners, new Map([['docker', 2]]));
    expect(plan.free('docker')).toBe(4);
    expect(plan.free('modal')).toBe(0);
    // The runs in flight took 'cloud' (most room): daytona gets what 'cloud' has left, and docker loses it too.
    expect(plan.grant('daytona', 10)).toBe(2);
    expect(plan.free('docker')).toBe(2);
  });

  it('lays in-flight runs of the scarcest pool first, so a shared runner is not counted free twice', () => {
    const runners = [runner('local', 2, ['docker']), runner('cloud', 2, ['docker', 'daytona'])];
    const plan = new SlotPlan(runners, new Map([['daytona', 2], ['docker', 1]]));
    // daytona fills 'cloud'; the docker run goes to 'local'.
    expect(plan.free('daytona')).toBe(0);
    expect(plan.free('docker')).toBe(1);
    expect(plan.grant('docker', 5)).toBe(1);
    expect(plan.grant('docker', 5)).toBe(0);
  });

  it('grants nothing to a pool no runner serves', () => {
    expect(new SlotPlan([runner('local', 3, ['docker'])], new Map()).grant('docker_windows', 2)).toBe(0);
  });
});
