// A 3-node JetStream cluster as deploy/k8s runs it: the API process with NATS_URL naming all three
// and NATS_STREAM_REPLICAS=3 makes replicated streams, `npm run health` reports each stream's leader
// with every follower current, and after one node is killed it warns of the follower that is gone.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { waitFor } from 'runner/test-support';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runHealthChecks, type CheckLine } from '../src/health/cli.js';
import { freePort } from '../src/platform/ports.js';
import { anonymousFetch, tokenFor } from './support/auth.js';
import { createEmptyDatabase, type TestDatabase } from './support/database.js';
import { startApiProcess, startOwnNats, type ApiProcess, type OwnNats } from './support/faults.js';

let nodes: OwnNats[] = [];
let database: TestDatabase | undefined;
let api: ApiProcess | undefined;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'thr-health-cluster-'));
  const routes = await Promise.all([0, 1, 2].map(() => freePort()));
  const routeList = routes.map((p) => `nats-route://127.0.0.1:${p}`).join('\n    ');
  nodes = await Promise.all(
    routes.map((port, i) =>
      startOwnNats({ config: `server_name: thr-nats-${i}\ncluster {\n  name: thr\n  listen: 127.0.0.1:${port}\n  routes: [\n    ${routeList}\n  ]\n}` }),
    ),
  );
  // JetStream answers once the three have elected a meta leader.
  const nc = await connect({ servers: nodes[0]!.url });
  try {
    await waitFor(async () => (await jetstreamManager(nc, { timeout: 2_000 }).then((jsm) => jsm.getAccountInfo()).catch(() => null)) !== null, {
      timeoutMs: 60_000,
      what: 'the JetStream cluster to elect a meta leader',
    });
  } finally {
    await nc.close();
  }
  database = await createEmptyDatabase();
  const { deployMigrations } = await import('../src/db/migrate.js');
  const { migrationsDir } = await import('../src/config/paths.js');
  await deployMigrations(database.url, migrationsDir);
  api = await startApiProcess({
    DATABASE_URL: database.url,
    NATS_URL: nodes.map((n) => n.url).join(','),
    NATS_STREAM_REPLICAS: '3',
    NATS_LOGS_MAX_BYTES: String(64 * 1024 * 1024),
    DATA_DIR: path.join(dir, 'data'),
    TASKS_DIR: path.join(dir, 'tasks'),
    JOBS_DIR: path.join(dir, 'jobs'),
  });
}, 180_000);

afterAll(async () => {
  await api?.kill('SIGKILL');
  await Promise.all(nodes.map((n) => n.close()));
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const check = async () => runHealthChecks({ api: api!.url, token: tokenFor(api!.url), queueAgeMinutes: 30, fetch: anonymousFetch });
const streamLines = (lines: CheckLine[]) => lines.filter((l) => l.check.startsWith('stream '));

it('reports each stream with a leader and 3 current replicas, then warns when a node is gone', async () => {
  const healthy = await waitFor(
    async () => {
      const lines = await check();
      const streams = streamLines(lines);
      return streams.length === 3 && streams.every((l) => l.level === 'OK') ? lines : null;
    },
    { timeoutMs: 60_000, what: 'three streams with every follower current' },
  );
  for (const line of streamLines(healthy)) expect(line.message).toMatch(/^leader thr-nats-[012], 3 replicas, all current/);
  expect(healthy.find((l) => l.check === 'nats')!.level).toBe('OK');
  // The heartbeat and cancellation buckets are replicated like the streams (streams.ts).
  const nc = await connect({ servers: nodes[0]!.url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const bucket of ['KV_runners', 'KV_cancelled', 'RUNS_GIVEN_UP']) expect((await jsm.streams.info(bucket)).config.num_replicas, bucket).toBe(3);
  } finally {
    await nc.close();
  }

  await nodes[2]!.stop('SIGKILL');
  const degraded = await waitFor(
    async () => {
      const lines = await check();
      return streamLines(lines).some((l) => l.level === 'WARN' && /offline or behind/.test(l.message)) ? lines : null;
    },
    { timeoutMs: 90_000, what: 'a WARN for the follower on the killed node' },
  );
  // Two of three nodes keep a quorum: every stream still has a leader, so nothing FAILs.
  expect(degraded.filter((l) => l.level === 'FAIL')).toEqual([]);
}, 240_000);
