import { describe, expect, it } from 'vitest';
import { heartbeatKeys, watchRunners } from './service.js';

/** A kv whose key listings hang after their first key until stopped, as nats.js's may when a heartbeat lands mid-listing. */
function hangingKv(listingsThatHang: number) {
  let listings = 0;
  return {
    listings: () => listings,
    kv: {
      keys: async () => {
        const hangs = ++listings <= listingsThatHang;
        let stop!: () => void;
        const stopped = new Promise<void>((resolve) => (stop = resolve));
        return {
          stop,
          async *[Symbol.asyncIterator]() {
            yield 'runner-a';
            if (hangs) await stopped;
            else yield 'runner-b';
          },
        };
      },
    },
  };
}

describe('heartbeatKeys', () => {
  it('gives up on a listing that hangs and lists again', async () => {
    const { kv, listings } = hangingKv(1);
    const started = Date.now();
    expect(await heartbeatKeys(kv as never)).toEqual(['runner-a', 'runner-b']);
    expect(listings()).toBe(2);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 20_000);

  it('returns what it has after three listings that hang, never waiting for ever', async () => {
    const { kv, listings } = hangingKv(Infinity);
    expect(await heartbeatKeys(kv as never)).toEqual(['runner-a']);
    expect(listings()).toBe(3);
  }, 20_000);
});

describe('watchRunners', () => {
  it('survives a refresh that fails on its timer, and ends once the connection is closed', async () => {
    const { createTestNats } = await import('../../test/support/nats.js');
    const nats = await createTestNats();
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      let lists = 0;
      // The first listing answers; every later one fails as a read does while the connection drains.
      const list = async () => {
        lists += 1;
        if (lists === 1) return [];
        throw new Error('connection draining');
      };
      const runners = watchRunners(nats.nc, nats.topology, { intervalMs: 10, tickMs: 20, list });
      expect(await runners.next()).toEqual({ done: false, value: [] });
      const ended = runners.next();
      await expect.poll(() => lists, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
      await nats.cleanup(); // drains and closes the connection
      expect(await ended).toEqual({ done: true, value: undefined });
      // Node reports an unhandled rejection after the microtask queue settles; give it a turn.
      await new Promise((resolve) => setImmediate(resolve));
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  }, 30_000);
});
