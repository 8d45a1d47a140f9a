// The Grafana dashboard and the Prometheus alert rules (deploy/) against the registries: every
// metric they query must be one the API or a runner exposes, so a rename cannot leave a panel or an
// alert silently empty; and the rules file must be what Prometheus loads (rule groups).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RunnerMetrics } from 'runner/metrics';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { readConfig } from '../src/config/env.js';
import { repoRoot } from '../src/config/paths.js';
import { ApiMetrics, routeClass } from '../src/metrics/index.js';

/** Every series name the two registries expose (a histogram is its _bucket, _sum and _count). */
function exposedNames(): Set<string> {
  // No scrape happens here: the source is never read.
  const api = new ApiMetrics({} as never);
  const runner = new RunnerMetrics({ slots: 1, busy: () => 0, draining: () => false, degraded: () => false, harborVersion: null });
  const names = new Set<string>();
  for (const metric of [...api.registry.getMetricsAsArray(), ...runner.registry.getMetricsAsArray()]) {
    const { name, type } = metric as unknown as { name: string; type: string };
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

const PROMQL_WORDS = new Set([
  'sum', 'max', 'min', 'avg', 'count', 'topk', 'bottomk', 'rate', 'irate', 'increase', 'delta', 'histogram_quantile', 'vector',
  'and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'abs', 'clamp_min',
]);

/** The metric names a PromQL expression selects: what is left once strings, matchers, groupings, ranges and words are gone. */
function metricsIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b\d+(\.\d+)?\b/g, ' ');
  return [...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((word) => !PROMQL_WORDS.has(word));
}

const dashboardSchema = z.object({
  title: z.string().min(1),
  uid: z.string().min(1),
  panels: z
    .array(
      z.object({
        id: z.number().int(),
        type: z.string(),
        title: z.string().min(1),
        gridPos: z.object({ h: z.number(), w: z.number(), x: z.number(), y: z.number() }),
        targets: z.array(z.object({ expr: z.string().min(1), refId: z.string() })).optional(),
      }),
    )
    .min(1),
});

const duration = z.string().regex(/^(\d+(ms|s|m|h|d|w|y))+$/, 'a Prometheus duration like 5m');
const rulesSchema = z
  .object({
    groups: z
      .array(
        z
          .object({
            name: z.string().min(1),
            interval: duration.optional(),
            rules: z
              .array(
                z
                  .object({
                    alert: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/),
                    expr: z.string().min(1),
                    for: duration.optional(),
                    keep_firing_for: duration.optional(),
                    labels: z.record(z.string(), z.string()).optional(),
                    annotations: z.record(z.string(), z.string()).optional(),
                  })
                  .strict(),
              )
              .min(1),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

describe('deploy/grafana and deploy/prometheus', () => {
  const names = exposedNames();

  it('reads metric names out of PromQL', () => {
    expect(metricsIn('sum by (le, phase) (rate(thr_runner_trial_phase_duration_seconds_bucket{status="PASSED"}[30m])) * 60')).toEqual([
      'thr_runner_trial_phase_duration_seconds_bucket',
    ]);
    expect(metricsIn('max(a_b) > 0 and on() (sum(increase(c_total[15m])) or on() vector(0)) == 0')).toEqual(['a_b', 'c_total']);
  });

  it('the dashboard queries only metrics the API and the runners expose', async () => {
    const dashboard = dashboardSchema.parse(JSON.parse(await readFile(path.join(repoRoot, 'deploy/grafana/dashboard.json'), 'utf8')));
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    expect(exprs.length).toBeGreaterThan(20);
    const used = new Set(exprs.flatMap(metricsIn));
    expect([...used].filter((name) => !names.has(name))).toEqual([]);
    // The panels: queue, slots, throughput, trial durations, error rates, log volume, lags.
    for (const name of [
      'thr_api_runs_pending',
      'thr_api_dispatcher_runs_waiting',
      'thr_runner_slots',
      'thr_runner_slots_busy',
      'thr_runner_trials_finished_total',
      'thr_runner_trial_duration_seconds_bucket',
      'thr_runner_trial_phase_duration_seconds_bucket',
      'thr_api_http_requests_total',
      'thr_api_graphql_operation_errors_total',
      'thr_runner_log_lines_published_total',
      'thr_runner_log_bytes_published_total',
      'thr_api_dispatcher_lag_seconds',
      'thr_api_recorder_lag_seconds_bucket',
      'thr_api_stream_bytes',
    ]) {
      expect(used, name).toContain(name);
    }
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('the alert rules are a Prometheus rule file over metrics that exist', async () => {
    const rules = rulesSchema.parse(parse(await readFile(path.join(repoRoot, 'deploy/prometheus/alerts.yaml'), 'utf8')));
    const alerts = rules.groups.flatMap((g) => g.rules);
    expect(new Set(alerts.map((a) => a.alert)).size).toBe(alerts.length);
    const used = new Set(alerts.flatMap((a) => metricsIn(a.expr)));
    expect([...used].filter((name) => !names.has(name))).toEqual([]);
    for (const alert of ['ThrRunnerLost', 'ThrQueueNotDraining', 'ThrApiErrorRateHigh', 'ThrBudgetStop', 'ThrRecorderLagHigh']) {
      expect(alerts.map((a) => a.alert)).toContain(alert);
    }
    for (const alert of alerts) expect(alert.labels?.severity, alert.alert).toMatch(/^(critical|warning|info)$/);
  });
});

describe('metric labels', () => {
  it('fold GraphQL operation names past the cap, and name anonymous operations', () => {
    const metrics = new ApiMetrics({} as never, { operationNameCap: 2, defaultMetrics: false });
    expect(metrics.operationLabel(undefined)).toBe('anonymous');
    expect(metrics.operationLabel('')).toBe('anonymous');
    expect(metrics.operationLabel('A')).toBe('A');
    expect(metrics.operationLabel('B')).toBe('B');
    expect(metrics.operationLabel('C')).toBe('other');
    expect(metrics.operationLabel('A')).toBe('A');
  });

  it('class routes by what they serve, never by ids', () => {
    const run = '0b0e4f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
    expect(routeClass('/graphql?x=1', false)).toBe('graphql');
    expect(routeClass(`/runs/${run}/log`, true)).toBe('run_log');
    expect(routeClass(`/runs/${run}/files/agent/x.txt`, true)).toBe('trial_file');
    expect(routeClass('/jobs/abc/runs.csv', true)).toBe('export');
    expect(routeClass('/datasets/abc/leaderboard.csv', true)).toBe('leaderboard_export');
    expect(routeClass('/metrics', false)).toBe('metrics');
    expect(routeClass('/jobs/abc', true)).toBe('web');
    expect(routeClass('/jobs/abc', false)).toBe('other');
  });
});

describe('metrics settings', () => {
  it('are off by default, bind the separate port to 127.0.0.1, and want a real token', () => {
    expect(readConfig({}).metrics).toEqual({ port: null, host: '127.0.0.1', token: null });
    expect(readConfig({ METRICS_PORT: '9464', METRICS_TOKEN: 'a'.repeat(16) }).metrics).toEqual({ port: 9464, host: '127.0.0.1', token: 'a'.repeat(16) });
    expect(readConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics.host).toBe('0.0.0.0');
    expect(() => readConfig({ METRICS_TOKEN: 'short' })).toThrow(/^METRICS_TOKEN must be at least 16 characters/);
    expect(() => readConfig({ METRICS_PORT: '70000' })).toThrow(/^METRICS_PORT must be a port from 0 to 65535/);
  });
});
