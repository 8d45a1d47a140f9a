import { randomBytes, randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openCancellations } from './cancellations.js';
import { PROTOCOL_VERSION } from './messages.js';
import { topology } from './topology.js';

const t = topology(`t${randomBytes(5).toString('hex')}`);
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connect({ servers: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222' });
});
afterAll(async () => {
  const jsm = await jetstreamManager(nc);
  for await (const name of jsm.streams.names()) if (name.startsWith(`KV_${t.prefix}_`)) await jsm.streams.delete(name);
  await nc.drain();
});

it('remembers cancelled runs for any process that opens the bucket, idempotently', async () => {
  const [api, runner] = await Promise.all([openCancellations(nc, t), openCancellations(nc, t)]);
  const jobId = randomUUID();
  const runs = Array.from({ length: 150 }, () => randomUUID());
  const at = new Date().toISOString();
  const records = runs.map((runId) => ({ v: PROTOCOL_VERSION as 1, runId, jobId, reason: 'user' as const, at }));
  await api.record(records);
  await api.record(records.slice(0, 3));
  expect(await runner.find(runs[0]!)).toEqual(records[0]);
  expect(await runner.find(runs[149]!)).toMatchObject({ jobId, reason: 'user' });
  expect(await runner.find(randomUUID())).toBeNull();
});

it('refuses a malformed record instead of writing it', async () => {
  const cancellations = await openCancellations(nc, t);
  await expect(
    cancellations.record([{ v: PROTOCOL_VERSION as 1, runId: 'not an id', jobId: randomUUID(), reason: 'user', at: new Date().toISOString() }]),
  ).rejects.toThrow();
});
