import { JetStreamApiError } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { PoolPuller, retryAfter, sharePulls } from './pulls.js';
import { topology } from './protocol/index.js';

describe('sharePulls', () => {
  it('shares free slots over the pools, rotating when there are fewer slots than pools', () => {
    expect(sharePulls(5, ['a', 'b'], 0)).toEqual([['a', 3], ['b', 2]]);
    expect(sharePulls(1, ['a', 'b', 'c'], 2)).toEqual([['c', 1]]);
    expect(sharePulls(0, ['a'], 0)).toEqual([]);
  });
});

describe('a pool whose consumer set-up fails', () => {
  /** A puller whose first consumer set-up fails with `error`; later ones succeed. Counts fetches. */
  function pullerFailingOnce(error: Error) {
    let infos = 0;
    let fetches = 0;
    const faults: string[] = [];
    const consumer = { fetch: async () => ((fetches += 1), (async function* () {})()), info: async () => ({ num_pending: 0 }) };
    const puller = new PoolPuller({
      js: { consumers: { get: async () => consumer } } as never,
      jsm: {
        consumers: {
          info: async () => {
            infos += 1;
            if (infos === 1) throw error;
            return {};
          },
          update: async () => ({}),
        },
      } as never,
      topology: topology('t'),
      settings: { ackWaitMs: 60_000, maxDeliver: 5 },
      capabilities: () => ({ environmentTypes: ['docker'], unavailable: [], windows: false, gpus: 0, harborTested: true }),
      stopping: () => false,
      fault: (message) => faults.push(message),
    });
    return { puller, fetches: () => fetches, faults };
  }

  it('is set up again within seconds when the set-up went unanswered (a NATS node lost, leaders being elected)', async () => {
    const { puller, fetches, faults } = pullerFailingOnce(Object.assign(new Error('timeout'), { name: 'TimeoutError' }));
    await puller.pull('docker', 1, () => {}); // no consumer: the round idles PULL_EXPIRES_MS (2 s)
    expect(faults).toEqual(['setting up the consumer of pool docker: timeout']);
    expect(fetches()).toBe(0);
    await puller.pull('docker', 1, () => {}); // past the first backoff (1 s): set up and pulled
    expect(fetches()).toBe(1);
  }, 20_000);

  it('is left out for 30 s when the server refused it', async () => {
    const refused = new JetStreamApiError({ code: 400, err_code: 10100, description: 'consumer filter subject is not a valid subset of the interest subjects' });
    const { puller, fetches } = pullerFailingOnce(refused);
    await puller.pull('docker', 1, () => {});
    await puller.pull('docker', 1, () => {});
    expect(fetches()).toBe(0);
  }, 20_000);

  it('backs off by doubling to 30 s while the set-up keeps going unanswered', () => {
    const timeout = new Error('timeout');
    const waits: number[] = [];
    let last: number | undefined;
    for (let i = 0; i < 7; i++) waits.push((last = retryAfter(timeout, last)));
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(retryAfter(new JetStreamApiError({ code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' }))).toBe(1_000);
    // A permissions violation is a refusal: a nats.conf for another prefix does not fix itself.
    const denied = Object.assign(new Error('Permissions Violation for Publish to "$JS.API.CONSUMER.CREATE.RUNS"'), { name: 'PermissionViolationError' });
    expect(retryAfter(denied)).toBe(30_000);
  });
});
