// Each test file gets its own NATS prefix on the shared test server (TEST_NATS_URL), so its streams,
// subjects and buckets never meet another run's; cleanup deletes what the prefix created.
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { topology, type Topology } from 'runner/protocol';
import { connectNats } from '../../src/nats/connection.js';

export const testNatsUrl = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export interface TestNats {
  url: string;
  prefix: string;
  nc: NatsConnection;
  topology: Topology;
  cleanup(): Promise<void>;
}

/** `url`: a server of the test's own (fault tests stop and restart it); default the shared one. */
export async function createTestNats(url = testNatsUrl): Promise<TestNats> {
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const nc = await connectNats(url, `test-${prefix}`);
  return {
    url,
    prefix,
    nc,
    topology: topology(prefix),
    cleanup: async () => {
      const jsm = await jetstreamManager(nc);
      for await (const name of jsm.streams.names()) {
        // KV buckets are streams named KV_<bucket>.
        if (name.startsWith(`${prefix}_`) || name.startsWith(`KV_${prefix}_`)) await jsm.streams.delete(name);
      }
      await nc.drain();
    },
  };
}

/**
 * A job's orders still in RUNS, as counts by subject (one subject per run). RUNS is a work queue:
 * an order leaves once a runner acks it, which it does after publishing the run's outcome.
 */
export async function ordersInRuns(nc: NatsConnection, t: Topology, jobId: string): Promise<Record<string, number>> {
  const jsm = await jetstreamManager(nc);
  // Pooled subjects (`runs.<pool>.<job>.<run>`) and those from before pools (`runs.<job>.<run>`).
  const filters = [t.runOrder(jobId, 'x', 'x').replace(/\.x\.(.+)\.x$/, '.*.$1.*'), t.runOrder(jobId, 'x').replace(/\.x$/, '.*')];
  const found = await Promise.all(filters.map(async (f) => (await jsm.streams.info(t.streams.runs.name, { subjects_filter: f })).state.subjects ?? {}));
  return Object.assign({}, ...found);
}
