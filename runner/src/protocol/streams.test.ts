import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureConsumer, ensureStreams, maxDeliveriesStream, runnersConsumerConfig } from './streams.js';
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
  expect(runs.config).toMatchObject({ retention: 'workqueue', storage: 'file', subjects: [`${t.prefix}.runs.*.*`] });
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
