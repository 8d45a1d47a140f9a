import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support/database.js';
import { createTestNats, type TestNats } from '../../test/support/nats.js';
import { parseExposition, sampleSum } from '../../test/support/prometheus.js';
import { ApiMetrics } from './index.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let nats: TestNats;

beforeAll(async () => {
  [database, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
});
afterAll(async () => {
  await database?.drop();
});

describe('the metrics snapshot', () => {
  it('serves the run and job gauges from PostgreSQL while NATS cannot answer (a node lost, the client failing over)', async () => {
    const job = await database.db.job.create({ data: { name: 'metrics-nats-down', agent: 'oracle', model: 'none', runsPerTask: 1, runsTotal: 3, runsPassed: 2, runsFailed: 1, status: 'COMPLETED' } as never });
    expect(job.id).toBeTruthy();
    await nats.cleanup(); // the connection is closed: every NATS read fails from here on
    const metrics = new ApiMetrics({ db: database.db, nats: nats.nc, topology: nats.topology }, { defaultMetrics: false });
    const samples = parseExposition(await metrics.expose());
    expect(sampleSum(samples, 'thr_api_runs', { status: 'PASSED' })).toBe(2);
    expect(sampleSum(samples, 'thr_api_runs', { status: 'FAILED' })).toBe(1);
    expect(sampleSum(samples, 'thr_api_jobs', { status: 'COMPLETED' })).toBe(1);
    expect(sampleSum(samples, 'thr_api_metrics_snapshot_errors_total')).toBe(0);
  });
});
