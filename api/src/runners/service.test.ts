import { describe, expect, it } from 'vitest';
import { heartbeatKeys } from './service.js';

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
