// Issue 18 item 4: a real job through a real runner (the Harbor simulator), then the API's and the
// runner's /metrics scraped and held against what the job recorded; and /metrics is never public.
import { jetstreamManager } from '@nats-io/jetstream';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ensureConsumer, poolConsumer, runnersConsumerConfig } from 'runner/protocol';
import { waitFor } from 'runner/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMetricsServer } from '../src/metrics/http.js';
import { startTestApp, type TestApp } from './support/app.js';
import { anonymousFetch, authParams, bearer } from './support/auth.js';
import { jobHarness, type JobHarness } from './support/jobs.js';
import { declaredFamilies, parseExposition, sampleSum, type Sample } from './support/prometheus.js';

const TOKEN = 'metrics-token-0123456789abcdef';
let api: TestApp;
let h: JobHarness;

beforeAll(async () => {
  api = await startTestApp({ services: true, metricsToken: TOKEN });
  h = await jobHarness(api);
});
afterAll(async () => {
  await h?.close();
  await api?.close();
});

const metricsUrl = () => api.url.replace(/\/graphql$/, '/metrics');

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Sample[]> {
  const response = await anonymousFetch(url, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}
const scrapeApi = () => scrape(metricsUrl(), bearer(TOKEN));

describe('metrics', () => {
  it('count a job run through a real runner as the job recorded it, on the API and on the runner', async () => {
    const pool = poolConsumer('docker');
    // The pool's consumer, as the first runner makes it: orders published before any runner is up
    // are pending on it until one pulls them.
    await ensureConsumer(await jetstreamManager(api.nats.nc), api.nats.topology.streams.runs.name, runnersConsumerConfig(api.nats.topology, undefined, 'docker'));
    const pass = await h.simulatedTask('sim-metrics-pass', { HARBOR_SIM_SCENARIO: 'pass' });
    const fail = await h.simulatedTask('sim-metrics-fail', { HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_LOG_LINES: '12' });
    const jobId = await h.createJob({ taskIds: [pass, fail], agent: 'oracle', runsPerTask: 3 });

    // No runner known: the dispatcher publishes all six, and they wait in RUNS.
    const queued = await waitFor(
      async () => {
        const s = await scrapeApi();
        // Published inside the dispatch transaction: counted once it commits.
        return sampleSum(s, 'thr_api_runs_pending', { consumer: pool }) === 6 && sampleSum(s, 'thr_api_dispatcher_runs_dispatched_total') === 6 && s;
      },
      { what: 'six orders dispatched and pending on the pool consumer', intervalMs: 100 },
    );
    expect(sampleSum(queued, 'thr_api_runs', { status: 'QUEUED' })).toBe(6);
    expect(sampleSum(queued, 'thr_api_stream_messages', { stream: 'runs' })).toBe(6);
    expect(sampleSum(queued, 'thr_api_dispatcher_runs_waiting')).toBe(0);
    expect(sampleSum(queued, 'thr_api_dispatcher_lag_seconds')).toBe(0);

    const runner = h.startRunner('runner-metrics', 2, { RUNNER_METRICS_PORT: '0' });
    await runner.waitFor(/metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/, 60_000);
    const runnerUrl = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(runner.output())![1]!;

    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 90_000);
    expect(job).toMatchObject({ runsTotal: 6, runsPassed: 3, runsFailed: 3, runsErrored: 0 });

    // The runner: what it started and finished, by status, with durations and log volume.
    const r = await waitFor(
      async () => {
        const s = await scrape(runnerUrl);
        return sampleSum(s, 'thr_runner_trials_finished_total') === 6 && sampleSum(s, 'thr_runner_slots_busy') === 0 && s;
      },
      { what: "the runner's counters to show six finished trials and no busy slot", intervalMs: 100 },
    );
    expect(sampleSum(r, 'thr_runner_trials_started_total')).toBe(6);
    expect(sampleSum(r, 'thr_runner_trials_finished_total', { status: 'PASSED' })).toBe(job.runsPassed);
    expect(sampleSum(r, 'thr_runner_trials_finished_total', { status: 'FAILED' })).toBe(job.runsFailed);
    expect(sampleSum(r, 'thr_runner_trials_finished_total', { status: 'ERRORED' })).toBeUndefined();
    const failureKinds = new Set(r.filter((s) => s.name === 'thr_runner_trials_finished_total').map((s) => s.labels.failure_kind));
    expect([...failureKinds].every((k) => k === 'none' || k === 'AGENT' || k === 'INFRASTRUCTURE')).toBe(true);
    expect(sampleSum(r, 'thr_runner_trial_duration_seconds_count')).toBe(6);
    for (const phase of ['environment_setup', 'agent_setup', 'agent_execution', 'verifier']) {
      expect(sampleSum(r, 'thr_runner_trial_phase_duration_seconds_count', { phase }), phase).toBe(6);
    }
    // Each phase is 100 ms in the simulator: every trial took at least the four of them.
    expect(sampleSum(r, 'thr_runner_trial_duration_seconds_sum')).toBeGreaterThanOrEqual(6 * 0.4);
    expect(sampleSum(r, 'thr_runner_trial_phase_duration_seconds_sum', { phase: 'agent_execution' })).toBeGreaterThan(0);
    expect(sampleSum(r, 'thr_runner_slots')).toBe(2);
    expect(sampleSum(r, 'thr_runner_degraded')).toBe(0);
    expect(sampleSum(r, 'thr_runner_draining')).toBe(0);
    expect(r.find((s) => s.name === 'thr_runner_harbor_info')?.labels.version).toMatch(/^\d+\.\d+/);
    expect(sampleSum(r, 'thr_runner_log_lines_published_total')).toBeGreaterThan(0);
    expect(sampleSum(r, 'thr_runner_log_bytes_published_total')).toBeGreaterThan(sampleSum(r, 'thr_runner_log_lines_published_total')!);
    expect(sampleSum(r, 'process_cpu_seconds_total')).toBeGreaterThan(0);

    // The API: the queue drained, runs by status as recorded, every event recorded with its lag.
    const a = await waitFor(
      async () => {
        const s = await scrapeApi();
        return sampleSum(s, 'thr_api_runs_pending', { consumer: pool }) === 0 && sampleSum(s, 'thr_api_runs', { status: 'PASSED' }) === 3 && s;
      },
      { what: 'the pool consumer to drain and the runs to be recorded', intervalMs: 100 },
    );
    expect(sampleSum(a, 'thr_api_runs', { status: 'FAILED' })).toBe(job.runsFailed);
    expect(sampleSum(a, 'thr_api_runs', { status: 'QUEUED' })).toBe(0);
    expect(sampleSum(a, 'thr_api_jobs', { status: 'COMPLETED' })).toBe(1);
    expect(sampleSum(a, 'thr_api_stream_messages', { stream: 'runs' })).toBe(0);
    expect(sampleSum(a, 'thr_api_stream_messages', { stream: 'events' })).toBeGreaterThanOrEqual(18);
    expect(sampleSum(a, 'thr_api_stream_bytes', { stream: 'logs' })).toBeGreaterThan(0);
    expect(sampleSum(a, 'thr_api_recorder_events_total', { type: 'finished' })).toBe(6);
    expect(sampleSum(a, 'thr_api_recorder_lag_seconds_count')).toBe(sampleSum(a, 'thr_api_recorder_events_total'));
    expect(sampleSum(a, 'thr_api_recorder_pending_events')).toBe(0);
    expect(sampleSum(a, 'thr_api_dispatcher_runs_dispatched_total')).toBe(6);
    expect(sampleSum(a, 'thr_api_runners', { state: 'LIVE' })).toBe(1);
    expect(sampleSum(a, 'thr_api_runner_slots', { state: 'total' })).toBe(2);
    // The harness's GraphQL: createJob (unnamed: `anonymous`) and its job polls, over /graphql.
    expect(sampleSum(a, 'thr_api_graphql_operations_total', { operation: 'anonymous', type: 'mutation' })).toBeGreaterThanOrEqual(1);
    expect(sampleSum(a, 'thr_api_graphql_operation_duration_seconds_count', { operation: 'anonymous', type: 'query' })).toBeGreaterThanOrEqual(1);
    expect(sampleSum(a, 'thr_api_http_requests_total', { route: 'graphql', status: '2xx' })).toBeGreaterThanOrEqual(3);
    // A scrape is counted once its response has ended: the earlier ones are in this one.
    expect(sampleSum(a, 'thr_api_http_requests_total', { route: 'metrics', status: '2xx' })).toBeGreaterThanOrEqual(1);
  }, 150_000);

  it('names GraphQL operations, folds anonymous ones, and counts those with errors', async () => {
    const post = (body: unknown) => fetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await post({ query: 'query MetricsProbe { me { id } }', operationName: 'MetricsProbe' });
    await post({ query: 'query MetricsBroken { job(id: "not-an-id") { id } }' });
    const s = await scrapeApi();
    expect(sampleSum(s, 'thr_api_graphql_operations_total', { operation: 'MetricsProbe', type: 'query' })).toBe(1);
    expect(sampleSum(s, 'thr_api_graphql_operation_errors_total', { operation: 'MetricsProbe' })).toBeUndefined();
    expect(sampleSum(s, 'thr_api_graphql_operation_duration_seconds_count', { operation: 'MetricsProbe' })).toBe(1);
    expect(sampleSum(s, 'thr_api_graphql_operation_errors_total', { operation: 'MetricsBroken', type: 'query' })).toBe(1);
  });

  it('count subscriptions open over WebSocket while they are open', async () => {
    const open = async () => sampleSum(await scrapeApi(), 'thr_api_subscriptions_open');
    expect(await open()).toBe(0);
    const client = createClient({ url: api.url.replace(/^http/, 'ws'), connectionParams: authParams(api.url), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    try {
      const first: unknown[] = [];
      const dispose = client.subscribe(
        { query: 'subscription MetricsHealth { health(intervalSeconds: 60) { __typename } }', operationName: 'MetricsHealth' },
        { next: (value) => void first.push(value), error: () => {}, complete: () => {} },
      );
      await waitFor(() => first.length > 0, { what: 'the first health' });
      expect(await open()).toBe(1);
      const s = await scrapeApi();
      expect(sampleSum(s, 'thr_api_graphql_operations_total', { operation: 'MetricsHealth', type: 'subscription' })).toBe(1);
      dispose();
      await waitFor(async () => (await open()) === 0, { what: 'the subscription to be counted closed' });
    } finally {
      await client.dispose();
    }
  });

  it('are not served on the public port without the token, nor at all there without METRICS_TOKEN', async () => {
    const missing = await anonymousFetch(metricsUrl());
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await missing.text()).not.toContain('thr_api');
    // The admin's API token is not the metrics token.
    const wrong = await fetch(metricsUrl(), { headers: bearer(api.admin.token) });
    expect(wrong.status).toBe(401);
    expect((await anonymousFetch(metricsUrl(), { headers: bearer(`${TOKEN}x`) })).status).toBe(401);
    expect((await anonymousFetch(metricsUrl(), { method: 'POST', headers: bearer(TOKEN) })).status).toBe(405);

    // An app without METRICS_TOKEN has no /metrics on its port; the separate listener serves it.
    const plain = await startTestApp();
    try {
      const response = await anonymousFetch(plain.url.replace(/\/graphql$/, '/metrics'), { headers: bearer(TOKEN) });
      expect(response.status).toBe(404);
      expect(await response.text()).not.toContain('thr_api');
      const separate = await startMetricsServer(plain.metrics, { port: 0, host: '127.0.0.1' });
      try {
        expect(separate.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
        const families = declaredFamilies(await (await anonymousFetch(separate.url)).text());
        expect(families.get('thr_api_http_requests_total')).toBe('counter');
        expect(families.get('thr_api_runs')).toBe('gauge');
        expect((await anonymousFetch(separate.url.replace(/\/metrics$/, '/graphql'))).status).toBe(404);
      } finally {
        await separate.stop();
      }
      const guarded = await startMetricsServer(plain.metrics, { port: 0, host: '127.0.0.1', token: TOKEN });
      try {
        expect((await anonymousFetch(guarded.url)).status).toBe(401);
        expect((await anonymousFetch(guarded.url, { headers: bearer(TOKEN) })).status).toBe(200);
      } finally {
        await guarded.stop();
      }
    } finally {
      await plain.close();
    }
  });
});
