import { randomBytes } from 'node:crypto';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { defaultStreamLimits, ensureConsumer, ensureLegacyConsumer, ensureStreams, maxDeliveriesStream, runnersConsumerConfig } from './streams.js';
import { topology } from './topology.js';

const t = topology(`t${randomBytes(5).toString('hex')}`);
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connect({ servers: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222' });
});
afterAll(async () => {
  const jsm = await jetstreamManager(nc);
  for await (const name of jsm.streams.names()) if (name.startsWith(`${t.prefix}_`)) await jsm.streams.delete(name);
  await nc.drain();
});

it('creates the streams and the runners consumer with explicit limits, idempotently and concurrently', async () => {
  const jsm = await jetstreamManager(nc);
  await Promise.all([ensureStreams(jsm, t), ensureStreams(jsm, t)]);
  await ensureStreams(jsm, t);
  const runs = await jsm.streams.info(t.streams.runs.name);
  expect(runs.config).toMatchObject({ retention: 'workqueue', storage: 'file', subjects: [`${t.prefix}.runs.*.*`, `${t.prefix}.runs.*.*.*`] });
  const logs = await jsm.streams.info(t.streams.logs.name);
  expect(logs.config.max_age).toBeGreaterThan(0);
  expect(logs.config.max_bytes).toBeGreaterThan(0);
  expect((await jsm.streams.info(maxDeliveriesStream(t).name)).config.subjects[0]).toContain(`MAX_DELIVERIES.${t.streams.runs.name}.`);

  const settings = { ackWaitMs: 5_000, maxDeliver: 4 };
  await Promise.all([
    ensureConsumer(jsm, t.streams.runs.name, runnersConsumerConfig(t, settings)),
    ensureConsumer(jsm, t.streams.runs.name, runnersConsumerConfig(t, settings)),
  ]);
  const consumer = await jsm.consumers.info(t.streams.runs.name, 'runners');
  expect(consumer.config).toMatchObject({ ack_policy: 'explicit', max_deliver: 4, ack_wait: 5_000_000_000 });
});

it('gives LOGS the configured size, and the owner shrinks a LOGS stream an older setting made larger', async () => {
  const v = topology(`v${randomBytes(5).toString('hex')}`);
  const jsm = await jetstreamManager(nc);
  try {
    // A runner that starts first creates the streams with its own setting; it never updates them.
    await ensureStreams(jsm, v, { ...defaultStreamLimits, logsMaxBytes: 8 * 1024 ** 2 }, false);
    expect((await jsm.streams.info(v.streams.logs.name)).config.max_bytes).toBe(8 * 1024 ** 2);
    await ensureStreams(jsm, v, { ...defaultStreamLimits, logsMaxBytes: 4 * 1024 ** 2 });
    expect((await jsm.streams.info(v.streams.logs.name)).config.max_bytes).toBe(4 * 1024 ** 2);
  } finally {
    for await (const name of jsm.streams.names()) if (name.startsWith(`${v.prefix}_`)) await jsm.streams.delete(name);
  }
});

it("upgrades the shared consumer of before pools: filtered to the old subjects, it still delivers their orders beside the pools' consumers", async () => {
  const u = topology(`u${randomBytes(5).toString('hex')}`);
  const jsm = await jetstreamManager(nc);
  // As an older API and runner left it: RUNS with the old subjects only, one unfiltered consumer.
  await jsm.streams.add({ name: u.streams.runs.name, subjects: [u.poolOrders()], retention: RetentionPolicy.Workqueue });
  await jsm.consumers.add(u.streams.runs.name, { durable_name: 'runners', ack_policy: AckPolicy.Explicit });
  const js = jetstream(nc);
  await js.publish(u.runOrder('job1', 'old'), 'old order');
  // The new API updates the stream; a new runner filters the legacy consumer, then makes its pools'.
  await ensureStreams(jsm, u);
  await ensureLegacyConsumer(jsm, u);
  await ensureLegacyConsumer(jsm, u); // again, as every runner does at start: nothing changes
  await ensureConsumer(jsm, u.streams.runs.name, runnersConsumerConfig(u, undefined, 'docker'));
  await ensureConsumer(jsm, u.streams.runs.name, runnersConsumerConfig(u, undefined, 'daytona'));
  await js.publish(u.runOrder('job1', 'new', 'daytona'), 'daytona order');

  const next = async (name: string) => {
    const m = await (await js.consumers.get(u.streams.runs.name, name)).next({ expires: 1_000 });
    m?.ack();
    return m?.string() ?? null;
  };
  expect(await next('runners')).toBe('old order');
  expect(await next('runners-docker')).toBeNull();
  expect(await next('runners-daytona')).toBe('daytona order');
  expect(await next('runners')).toBeNull();
  for (const name of [u.streams.runs.name, maxDeliveriesStream(u).name, `${u.streams.events.name}`, u.streams.logs.name]) await jsm.streams.delete(name).catch(() => {});
});
