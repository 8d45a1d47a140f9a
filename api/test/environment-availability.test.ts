// What the New job page offers (issue 16 item 7): the environment types some live runner serves,
// the others with the reason, a Runner's capabilities, and a job on a type no runner serves
// accepted but showing what it waits for.
import { Kvm } from '@nats-io/kv';
import { encode, PROTOCOL_VERSION, RUNNER_RECORD_TTL_MS, type Capabilities, type RunnerHeartbeat } from 'runner/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createJob } from '../src/jobs/launch.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';

let api: TestApp;
beforeAll(async () => {
  api = await startTestApp();
});
afterAll(() => api?.close());

function beat(runnerId: string, capabilities: Capabilities | undefined, harborVersion = '0.22.0'): RunnerHeartbeat {
  const now = new Date().toISOString();
  return {
    v: PROTOCOL_VERSION, runnerId, host: 'h', slots: 2, busy: 0, runIds: [], harborVersion, dockerReachable: true,
    lastError: null, startedAt: now, at: now, draining: false, degraded: null, capabilities,
  };
}

it('offers the types live runners serve, says why the others are not, and a job on one of those waits for a runner', async () => {
  const kv = await new Kvm(api.nats.nc).create(api.nats.topology.runnersBucket, { ttl: RUNNER_RECORD_TTL_MS, history: 1 });
  await kv.put('local', encode(beat('local', {
    environmentTypes: ['docker'], windows: false, gpus: 0, harborTested: true,
    unavailable: [{ environmentType: 'daytona', reason: 'no DAYTONA_API_KEY or DAYTONA_JWT_TOKEN + DAYTONA_ORGANIZATION_ID is held (RUNNER_ENVIRONMENT_VARS)' }],
  })));
  await kv.put('cloud', encode(beat('cloud', {
    environmentTypes: ['modal'], windows: false, gpus: 0, harborTested: false,
    unavailable: [{ environmentType: 'docker', reason: 'Docker is not reachable (`docker info` failed)' }],
  }, '0.30.1')));

  const { data } = await graphql(api.url, `{
    environmentAvailability { environmentType available runnerIds reasons }
    runners { id environmentTypes pools harborVersion harborVersionTested unavailableEnvironments { environmentType reason } }
  }`);
  const byType = Object.fromEntries(data.environmentAvailability.map((a: { environmentType: string }) => [a.environmentType, a]));
  expect(byType.docker).toEqual({ environmentType: 'docker', available: true, runnerIds: ['local'], reasons: [] });
  expect(byType.modal.runnerIds).toEqual(['cloud']);
  expect(byType.daytona.available).toBe(false);
  expect(byType.daytona.reasons).toEqual([
    'cloud: does not serve daytona',
    'local: no DAYTONA_API_KEY or DAYTONA_JWT_TOKEN + DAYTONA_ORGANIZATION_ID is held (RUNNER_ENVIRONMENT_VARS)',
  ]);
  expect(data.runners).toEqual([
    expect.objectContaining({ id: 'cloud', environmentTypes: ['modal'], pools: ['modal', 'modal_gpu'], harborVersion: '0.30.1', harborVersionTested: false }),
    expect.objectContaining({ id: 'local', environmentTypes: ['docker'], pools: ['docker'], harborVersionTested: true }),
  ]);

  // Queued, not refused: runners come and go. The job says what it waits for.
  const task = await api.database.db.task.create({ data: { contentHash: 'a'.repeat(64), name: 'avail', instruction: 'x', sizeBytes: 1n, fileCount: 1 } });
  const waiting = await createJob({ db: api.database.db, secretsKey: null }, { taskIds: [task.id], agent: 'oracle', runsPerTask: 1, harbor: { environmentType: 'daytona' } as never });
  const served = await createJob({ db: api.database.db, secretsKey: null }, { taskIds: [task.id], agent: 'oracle', runsPerTask: 1 });
  const job = async (id: string) => (await graphql(api.url, 'query($id: ID!) { job(id: $id) { status waitingForRunner } }', { id })).data.job;
  expect(await job(waiting.id)).toEqual({ status: 'QUEUED', waitingForRunner: 'waiting for a runner that can serve daytona' });
  expect(await job(served.id)).toEqual({ status: 'QUEUED', waitingForRunner: null });

  // A runner older than capabilities served docker.
  await kv.put('old', encode(beat('old', undefined)));
  const old = (await graphql(api.url, '{ runners { id environmentTypes harborVersionTested } }')).data.runners.find((r: { id: string }) => r.id === 'old');
  expect(old).toEqual({ id: 'old', environmentTypes: ['docker'], harborVersionTested: null });
});
