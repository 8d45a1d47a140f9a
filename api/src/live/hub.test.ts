import type { NatsConnection } from '@nats-io/transport-node';
import { topology } from 'runner/protocol';
import { describe, expect, it } from 'vitest';
import { UpdatesHub } from './hub.js';

/** A connection whose one subscription hands its callback to the test, so notifications arrive on demand. */
function fakeNats() {
  let deliver: ((data: unknown) => void) | null = null;
  const nats = {
    subscribe: (_subject: string, opts: { callback: (err: unknown, msg: { string(): string }) => void }) => {
      deliver = (data) => opts.callback(null, { string: () => JSON.stringify(data) });
      return { unsubscribe: () => undefined };
    },
  } as unknown as NatsConnection;
  return { nats, notify: (data: unknown) => deliver!(data) };
}

describe('UpdatesHub.changes', () => {
  it('delivers a change that arrives while the subscriber is still reading the initial state', async () => {
    const { nats, notify } = fakeNats();
    const hub = new UpdatesHub(nats, topology('hubtest'));
    hub.start();
    const changes = hub.changes((n) => n.runId, { initial: ['current'], intervalMs: 5 });
    const first = changes.next();
    expect((await first).value).toBe('current');
    // The subscriber has not asked for the next value yet: a commit lands now.
    notify({ jobId: 'j', runId: 'changed-meanwhile', status: 'RUNNING' });
    const next = await Promise.race([changes.next(), new Promise((resolve) => setTimeout(() => resolve('missed'), 10_000))]);
    expect(next).toEqual({ value: 'changed-meanwhile', done: false });
    await changes.return();
    hub.stop();
  });
});
