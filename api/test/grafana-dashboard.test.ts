// Issue 18: the Grafana dashboard rendered from real scraped metrics. A platform and a runner with
// the Harbor simulator run a small job while a real Prometheus scrapes both; every panel's PromQL
// then runs through Prometheus' query_range, and the render must show the job as it happened.
// The alert rules pass promtool's own check and its unit tests (deploy/prometheus/alerts.test.yaml).
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from 'runner/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../src/config/paths.js';
import { startMetricsServer } from '../src/metrics/http.js';
import { startTestApp, type TestApp } from './support/app.js';
import { renderDashboard, type PanelResult } from './support/dashboard-render.js';
import { jobHarness, type JobHarness } from './support/jobs.js';
import { ALERT_RULES, prometheusMissing, PROMTOOL, startPrometheus, type PrometheusServer } from './support/prometheus-server.js';

const DASHBOARD = path.join(repoRoot, 'deploy/grafana/dashboard.json');

describe.skipIf(prometheusMissing !== null)(`the Grafana dashboard and alert rules${prometheusMissing ? ` (skipped: ${prometheusMissing})` : ''}`, () => {
  let api: TestApp;
  let h: JobHarness;
  let apiMetrics: Awaited<ReturnType<typeof startMetricsServer>>;
  let prometheus: PrometheusServer;
  let outDir: string;

  beforeAll(async () => {
    api = await startTestApp({ services: true });
    apiMetrics = await startMetricsServer(api.metrics, { port: 0, host: '127.0.0.1' });
    h = await jobHarness(api);
    // 400 ms phases: a trial lasts over a second, so 1 s scrapes see runs RUNNING and slots busy.
    const runner = h.startRunner('runner-grafana', 2, { RUNNER_METRICS_PORT: '0', HARBOR_SIM_PHASE_MS: '400' });
    await runner.waitFor(/metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/, 60_000);
    const runnerUrl = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(runner.output())![1]!;
    // The job names of docs/metrics.md's scrape configuration.
    prometheus = await startPrometheus({ jobs: [{ job: 'thr-api', targets: [apiMetrics.url] }, { job: 'thr-runner', targets: [runnerUrl] }] });
    outDir = await mkdtemp(path.join(os.tmpdir(), 'thr-dashboard-'));
  });
  afterAll(async () => {
    await prometheus?.stop();
    await h?.close();
    await apiMetrics?.stop();
    await api?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  const scalar = async (expr: string) => Number((await prometheus.query(expr))[0]?.value[1] ?? NaN);

  it('shows a real job in every core panel, with the numbers the job recorded', async () => {
    await waitFor(async () => (await scalar('sum(up{job=~"thr-api|thr-runner"})')) === 2, { what: 'prometheus to scrape the API and the runner', timeoutMs: 30_000, intervalMs: 200 });
    // The render starts at the first scrape: nothing was stored before.
    const from = new Date();
    const pass = await h.simulatedTask('sim-grafana-pass', { HARBOR_SIM_SCENARIO: 'pass' });
    const fail = await h.simulatedTask('sim-grafana-fail', { HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_LOG_LINES: '12' });
    const jobId = await h.createJob({ taskIds: [pass, fail], agent: 'oracle', runsPerTask: 3 });
    const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 60_000);
    expect(job).toMatchObject({ runsTotal: 6, runsPassed: 3, runsFailed: 3, runsErrored: 0 });

    // Prometheus has the job's end once its own storage says so, not after some guessed delay.
    await waitFor(
      async () =>
        (await scalar('sum(thr_runner_trials_finished_total)')) === 6 &&
        (await scalar('max(thr_api_jobs{status="COMPLETED"})')) === 1 &&
        (await scalar('sum(thr_runner_slots_busy)')) === 0 &&
        (await scalar('max(thr_api_runs{status="RUNNING"})')) === 0,
      { what: "prometheus to have scraped the job's end", timeoutMs: 30_000, intervalMs: 200 },
    );
    // The counters as stored, by status: what the finished-by-status panel is a rate of.
    const finished = Object.fromEntries((await prometheus.query('sum by (status) (thr_runner_trials_finished_total)')).map((s) => [s.metric.status, Number(s.value[1])]));
    expect(finished).toEqual({ PASSED: job.runsPassed, FAILED: job.runsFailed });

    // DASHBOARD_PNG keeps the render (docs/images/grafana-dashboard.png is one).
    const outFile = process.env.DASHBOARD_PNG ? path.resolve(repoRoot, process.env.DASHBOARD_PNG) : path.join(outDir, 'dashboard.png');
    const panels = await renderDashboard({ prometheusUrl: prometheus.url, dashboardFile: DASHBOARD, from, to: new Date(), stepSeconds: 1, scrapeIntervalSeconds: 1, outFile });
    expect((await stat(outFile)).size).toBeGreaterThan(50_000);

    // Every query of every panel is one Prometheus accepts.
    expect(panels.filter((p) => p.errors.length).map((p) => `${p.title}: ${p.errors.join('; ')}`)).toEqual([]);
    const drawn = (JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: { type: string }[] }).panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBe(drawn.length);

    const panel = (title: string): PanelResult => panels.find((p) => p.title === title) ?? expect.fail(`no panel ${title}`);
    const series = (title: string, name: string) => panel(title).series.find((s) => s.name === name) ?? expect.fail(`no series ${name} in ${title}: ${panel(title).series.map((s) => s.name)}`);
    for (const core of ['Runner slots', 'Trials finished per minute by status', 'Trial duration', 'Runs by live status', 'HTTP latency p95 by route', 'Phase duration p90']) {
      expect(panel(core).points, core).toBeGreaterThan(0);
    }

    // Slots: the runner's two, busy while the job ran and idle at its end, as heartbeats said too.
    expect(series('Runner slots', 'total').last).toBe(2);
    expect(series('Runner slots', 'busy').max).toBe(2);
    expect(series('Runner slots', 'busy').last).toBe(0);
    expect(series('Runner slots', 'total (heartbeats)').last).toBe(2);
    // Runs: some seen RUNNING, none left live; the job seen RUNNING.
    expect(series('Runs by live status', 'RUNNING').max).toBeGreaterThanOrEqual(1);
    expect(series('Runs by live status', 'RUNNING').max).toBeLessThanOrEqual(2);
    expect(series('Runs by live status', 'QUEUED').last).toBe(0);
    expect(series('Jobs by status', 'RUNNING').max).toBe(1);
    // Finished trials by status: exactly the job's two outcomes, none errored.
    expect(panel('Trials finished per minute by status').series.map((s) => s.name).sort()).toEqual(['FAILED', 'PASSED']);
    expect(panel('Errored trials per minute by failure kind').points).toBe(0);
    // Four phases of 400 ms: every trial lands in the 1–5 s bucket, so every quantile does too.
    for (const q of ['p50', 'p90', 'p99']) {
      expect(series('Trial duration', q).last, q).toBeGreaterThan(1);
      expect(series('Trial duration', q).last, q).toBeLessThanOrEqual(5);
    }
    expect(panel('Phase duration p90').series.map((s) => s.name).sort()).toEqual(['agent_execution', 'agent_setup', 'environment_setup', 'verifier']);
    // The harness's GraphQL polls; Prometheus scrapes the separate listener, which is not the API's HTTP.
    expect(series('HTTP latency p95 by route', 'graphql').last).toBeGreaterThan(0);
    expect(series('Runners by state', 'LIVE').last).toBe(1);
    expect(series('Log lines published per second', 'lines/s').max).toBeGreaterThan(0);
    expect(series('Process memory (API and runners)', apiMetrics.url.replace(/^http:\/\/|\/metrics$/g, '')).last).toBeGreaterThan(0);
  }, 90_000);

  it('has alert rules promtool accepts and whose unit tests pass', () => {
    const check = spawnSync(PROMTOOL, ['check', 'rules', ALERT_RULES], { encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/SUCCESS: 11 rules found/);
    const tests = spawnSync(PROMTOOL, ['test', 'rules', 'alerts.test.yaml'], { cwd: path.dirname(ALERT_RULES), encoding: 'utf8' });
    expect(tests.status, tests.stdout + tests.stderr).toBe(0);
    expect(tests.stdout).toMatch(/SUCCESS/);
  });
});
