// The platform against a nats-server that requires its users and enforces their permissions, as
// nats.conf does in production (the same generator, for this test's prefix): jobs run, logs stream,
// cancels reach runners, runners show up — with no permission violation logged. Then each role
// tries what it must not do, and the server refuses.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createClient } from 'graphql-ws';
import { encode, RECORDER_CONSUMER } from 'runner/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectNats } from '../src/nats/connection.js';
import { graphql } from './support/app.js';
import { authParams } from './support/auth.js';
import { startFaultRig, type FaultRig } from './support/faults.js';
import { giveUpOneOrder } from './support/jobs.js';
import { cleanEnv, startEntry } from './support/process.js';
import { waitFor } from 'runner/test-support';

let rig: FaultRig;
const extra: NatsConnection[] = [];

beforeAll(async () => {
  // The reconciler every second, so its reads of RUNS happen under the permissions too.
  rig = await startFaultRig({ auth: true, apiSettings: { RECONCILE_INTERVAL_MS: '1000' } });
}, 120_000);
afterAll(async () => {
  for (const nc of extra) await nc.close().catch(() => {});
  await rig?.close();
});

const violations = () => rig.ownNats.log().split('\n').filter((l) => /Violation/i.test(l));

const connectAs = async (role: 'api' | 'runner') => {
  const nc = await connectNats(rig.ownNats.url, `test-${role}`, undefined, { role, env: rig.users!.env(role) });
  extra.push(nc);
  return nc;
};

const CANCEL = `mutation($id: ID!) { cancelJob(id: $id) { __typename ... on Error { code message } } }`;

describe('the platform on an authenticated nats-server with least-privilege users', () => {
  it('runs a job end to end, streams its log, lists the runner and cancels a running job, all within its permissions', async () => {
    const h = rig.harness;
    h.startRunner('runner-auth', 2);
    const task = await h.simulatedTask('sim-auth', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_LOG_LINES: '20' });
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
    const done = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 60_000);
    expect(done).toMatchObject({ runsPassed: 2, runsTotal: 2 });

    // The log, replayed from LOGS through the API's own consumer.
    const runId = done.runs.edges[0].node.id;
    const client = createClient({ url: rig.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: authParams(rig.url) });
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) =>
      client.subscribe(
        { query: 'subscription($id: ID!) { runLog(runId: $id) { lines { text } } }', variables: { id: runId } },
        { next: ({ data, errors }) => (errors ? reject(new Error(JSON.stringify(errors))) : lines.push(...(data as any).runLog.lines.map((l: any) => l.text))), error: reject, complete: resolve },
      ),
    );
    await client.dispose();
    expect(lines.length).toBeGreaterThan(10);

    // Heartbeats, read by the API from the runners bucket.
    const runners = await waitFor(async () => {
      const { data } = await graphql(rig.url, '{ runners { id state } }');
      return data.runners.length > 0 && data.runners;
    }, { timeoutMs: 10_000, what: 'the runner in `runners`' });
    expect(runners).toEqual([{ id: 'runner-auth', state: 'LIVE' }]);

    // A cancel: the `cancelled` record and the request to the runner holding the run.
    const slow = await h.simulatedTask('sim-auth-slow', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '20000' });
    const slowJob = await h.createJob({ taskIds: [slow], agent: 'oracle', runsPerTask: 3 });
    await h.waitForJob(slowJob, (j) => j.runsRunning === 2, 30_000);
    expect((await graphql(rig.url, CANCEL, { id: slowJob })).data.cancelJob.__typename).toBe('MutationCancelJobSuccess');
    const cancelled = await h.waitForJob(slowJob, (j) => j.status === 'CANCELLED', 60_000);
    expect(cancelled).toMatchObject({ runsCancelled: 3, runsRunning: 0 });

    expect(violations()).toEqual([]);
  }, 180_000);

  it('records an order that ran out of deliveries (the recorder reads the advisory, removes the order), within its permissions', async () => {
    const h = rig.harness;
    await h.killRunners();
    const job = await giveUpOneOrder(h, 'sim-auth-giveup');
    expect(job.runs.edges[0].node).toMatchObject({ status: 'ERRORED', exceptionType: 'MaxDeliveriesExceeded' });
    expect(violations()).toEqual([]);
  }, 90_000);

  it('refuses a client without credentials, or with a wrong password', async () => {
    await expect(connect({ servers: rig.ownNats.url, timeout: 5_000, reconnect: false })).rejects.toThrow(/Authorization Violation/i);
    await expect(
      connect({ servers: rig.ownNats.url, user: 'runner', pass: 'not-the-password', timeout: 5_000, reconnect: false }),
    ).rejects.toThrow(/Authorization Violation/i);
    // The runner's password is not the API's.
    await expect(
      connect({ servers: rig.ownNats.url, user: 'api', pass: rig.users!.passwords.runner, timeout: 5_000, reconnect: false }),
    ).rejects.toThrow(/Authorization Violation/i);
  });

  it('stops an API or runner with a wrong password with one line that names the refusal, never the password', async () => {
    const wrong = `nats://api:hunter2-${Date.now()}@127.0.0.1:${rig.ownNats.port}`;
    const api = startEntry('api/src/main.ts', cleanEnv({ DATABASE_URL: rig.database.url, NATS_URL: wrong, PORT: '0' }));
    const runner = startEntry('runner/src/main.ts', cleanEnv({ NATS_URL: wrong.replace('api:', 'runner:'), HARBOR_BIN: 'true' }));
    for (const [name, p] of [['api', api], ['runner', runner]] as const) {
      expect((await p.exited).code, p.output()).toBe(1);
      expect(p.output()).toContain(`[${name}] cannot connect to NATS at nats://127.0.0.1:${rig.ownNats.port}: `);
      expect(p.output()).toMatch(/Authorization Violation/i);
      expect(p.output()).not.toContain('hunter2');
    }
  }, 60_000);

  it('keeps a runner from publishing orders or updates, writing cancellations and changing streams', async () => {
    const runner = await connectAs('runner');
    const api = await connectAs('api');
    const jsm = await jetstreamManager(api);
    const runs = rig.topology.streams.runs.name;
    const before = (await jsm.streams.info(runs)).state.last_seq;

    const forged = rig.topology.runOrder('00000000-0000-4000-8000-000000000000', '00000000-0000-4000-8000-000000000001');
    await expect(jetstream(runner).publish(forged, encode({ forged: true } as never), { timeout: 3_000 })).rejects.toThrow(/permission/i);
    expect((await jsm.streams.info(runs)).state.last_seq).toBe(before);

    // A core publish fails silently for the publisher: the API, subscribed, must never see it.
    const seen: string[] = [];
    const sub = api.subscribe(rig.topology.updates, { callback: (_, m) => void seen.push(m.subject) });
    await api.flush();
    runner.publish(rig.topology.jobUpdate('forged'), '{}');
    await runner.flush();
    api.publish(rig.topology.jobUpdate('genuine'), '{}');
    await waitFor(async () => seen.includes(rig.topology.jobUpdate('genuine')), { timeoutMs: 5_000, what: 'the genuine update' });
    expect(seen).toEqual([rig.topology.jobUpdate('genuine')]);
    sub.unsubscribe();

    const runnerJsm = await jetstreamManager(runner);
    await expect(runnerJsm.streams.purge(runs)).rejects.toThrow(/permission/i);
    await expect(runnerJsm.streams.delete(rig.topology.streams.events.name)).rejects.toThrow(/permission/i);
    await expect(runnerJsm.streams.update(runs, { subjects: [...rig.topology.streams.runs.subjects, 'elsewhere.>'] })).rejects.toThrow(/permission/i);
    await expect(runnerJsm.consumers.delete(rig.topology.streams.events.name, RECORDER_CONSUMER)).rejects.toThrow(/permission/i);
    expect((await jsm.streams.info(rig.topology.streams.events.name)).config.name).toBe(rig.topology.streams.events.name);

    const cancelled = await new Kvm(runner).open(rig.topology.cancelledBucket);
    await expect(cancelled.put('00000000-0000-4000-8000-000000000002', '{}', { timeout: 3_000 } as never)).rejects.toThrow(/permission/i);

    const logged = violations().join('\n');
    expect(logged).toContain(forged);
    expect(logged).toContain(rig.topology.jobUpdate('forged'));
  }, 60_000);

  it('keeps a runner user bound to one runner id from writing any other runner\'s heartbeat', async () => {
    const { user, runnerId } = rig.users!.soloRunner;
    const solo = await connectNats(rig.ownNats.url, 'test-solo', undefined, { role: 'runner', env: { NATS_USER: user, NATS_PASSWORD: rig.users!.passwords.runner } });
    extra.push(solo);
    const heartbeats = await new Kvm(solo).create(rig.topology.runnersBucket);
    await heartbeats.put(runnerId, JSON.stringify({ runnerId }));
    await expect(heartbeats.put('runner-auth', JSON.stringify({ runnerId: 'runner-auth' }))).rejects.toThrow(/permission/i);
    // The shared runner user is not bound: any runner id.
    const shared = await new Kvm(await connectAs('runner')).create(rig.topology.runnersBucket);
    await shared.put('any-runner', '{}');
  }, 30_000);

  it('keeps the API from putting a heartbeat or publishing a runner event', async () => {
    const api = await connectAs('api');
    const heartbeats = await new Kvm(api).create(rig.topology.runnersBucket);
    await expect(heartbeats.put('impostor', JSON.stringify({ runnerId: 'impostor' }))).rejects.toThrow(/permission/i);
    expect(await heartbeats.get('impostor')).toBeNull();

    const event = rig.topology.runEvent('00000000-0000-4000-8000-000000000000', '00000000-0000-4000-8000-000000000001');
    await expect(jetstream(api).publish(event, '{}', { timeout: 3_000 })).rejects.toThrow(/permission/i);
    expect(violations().join('\n')).toContain(`$KV.${rig.topology.runnersBucket}.impostor`);
  }, 60_000);
});
