// The platform Deployment's probes against the API process started with the manifest's own settings
// (HOST 0.0.0.0, PUBLIC_URL, METRICS_PORT…; the database, NATS and folders the test's): the probe
// request kubelet sends (path, headers, a Host of the pod's address) is answered 200, and the
// metrics port answers on its own port while the API port does not serve /metrics.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrationsDir, repoRoot } from '../src/config/paths.js';
import { deployMigrations } from '../src/db/migrate.js';
import { freePort } from '../src/platform/ports.js';
import { anonymousFetch } from './support/auth.js';
import { createEmptyDatabase, type TestDatabase } from './support/database.js';
import { startApiProcess, type ApiProcess } from './support/faults.js';
import { kustomizeBuild, podSpec } from './support/kustomize.js';

const platform = podSpec(kustomizeBuild(path.join(repoRoot, 'deploy/k8s/overlays/docker')).find((o) => o.kind === 'Deployment' && o.metadata.name === 'thr-platform')!)!;
const container = platform.containers[0]!;
type Probe = { httpGet: { path: string; port: string; httpHeaders?: { name: string; value: string }[] } };
const probes = container as unknown as { readinessProbe: Probe; livenessProbe: Probe; ports: { name: string; containerPort: number }[] };

let database: TestDatabase | undefined;
let api: ApiProcess | undefined;
let dir: string;
let metricsPort: number;

/** An address of this machine other than loopback, as a pod's IP is; loopback when it has none. */
const podAddress = Object.values(os.networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address ?? '127.0.0.1';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'thr-probes-'));
  database = await createEmptyDatabase();
  await deployMigrations(database.url, migrationsDir);
  metricsPort = await freePort();
  // PORT stays the free port startApiProcess picked (the probe's port is checked against PORT below).
  const literal = Object.fromEntries(container.env!.filter((e) => e.value !== undefined && e.name !== 'PORT').map((e) => [e.name, e.value!]));
  api = await startApiProcess({
    ...literal,
    // The cluster's addresses and ports become the test's; everything else is the manifest's.
    DATABASE_URL: database.url,
    NATS_URL: 'nats://127.0.0.1:4222',
    NATS_PREFIX: `probes${randomBytes(4).toString('hex')}`,
    NATS_STREAM_REPLICAS: '1',
    NATS_LOGS_MAX_BYTES: String(64 * 1024 * 1024),
    METRICS_PORT: String(metricsPort),
    DATA_DIR: path.join(dir, 'data'),
    TASKS_DIR: path.join(dir, 'tasks'),
    JOBS_DIR: path.join(dir, 'jobs'),
  });
}, 120_000);

afterAll(async () => {
  await api?.kill('SIGKILL');
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it.each(['readinessProbe', 'livenessProbe'] as const)('the %s, sent as kubelet sends it to the pod address, is answered 200', async (which) => {
  const { httpGet } = probes[which];
  expect(probes.ports.find((p) => p.name === httpGet.port)!.containerPort).toBe(Number(container.env!.find((e) => e.name === 'PORT')!.value));
  const headers = Object.fromEntries((httpGet.httpHeaders ?? []).map((h) => [h.name, h.value]));
  const response = await anonymousFetch(`http://${podAddress}:${api!.port}${httpGet.path}`, { headers });
  const body = (await response.json()) as { data?: { health?: { ok: boolean } } };
  expect(response.status).toBe(200);
  expect(body.data?.health?.ok).toBe(true);
});

it('/metrics answers on the metrics port only (the Ingress routes to the http port)', async () => {
  expect((await anonymousFetch(`http://${podAddress}:${metricsPort}/metrics`)).status).toBe(200);
  expect((await anonymousFetch(`http://127.0.0.1:${api!.port}/metrics`)).status).not.toBe(200);
});
