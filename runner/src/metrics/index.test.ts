import { describe, expect, it } from 'vitest';
import { readRunnerConfig } from '../config.js';
import { RunnerMetrics } from './index.js';
import { startRunnerMetricsServer } from './server.js';

const state = { slots: 4, busy: () => 1, draining: () => false, degraded: () => true, harborVersion: '0.1.45' };

describe('runner metrics', () => {
  it("count a trial's outcome, its phases and log chunks without per-line labels", async () => {
    const metrics = new RunnerMetrics(state, { defaultMetrics: false });
    metrics.finished({ status: 'ERRORED', failureKind: 'INFRASTRUCTURE', environmentSetupMs: 2_500, agentSetupMs: null, agentExecutionMs: null, verifierMs: null }, 3.2);
    metrics.finished({ status: 'PASSED', failureKind: null, environmentSetupMs: 1_000, agentSetupMs: 500, agentExecutionMs: 60_000, verifierMs: 4_000 }, 66);
    metrics.logChunk(3, 420);
    const text = await metrics.expose();
    expect(text).toContain('thr_runner_trials_finished_total{status="ERRORED",failure_kind="INFRASTRUCTURE"} 1');
    expect(text).toContain('thr_runner_trials_finished_total{status="PASSED",failure_kind="none"} 1');
    expect(text).toContain('thr_runner_trial_phase_duration_seconds_count{phase="environment_setup"} 2');
    expect(text).toContain('thr_runner_trial_phase_duration_seconds_count{phase="agent_execution"} 1');
    expect(text).toContain('thr_runner_trial_phase_duration_seconds_bucket{le="60",phase="agent_execution"} 1');
    expect(text).toContain('thr_runner_trial_duration_seconds_bucket{le="5",status="ERRORED"} 1');
    expect(text).toContain('thr_runner_log_lines_published_total 3');
    expect(text).toContain('thr_runner_log_bytes_published_total 420');
    expect(text).toContain('thr_runner_slots 4');
    expect(text).toContain('thr_runner_slots_busy 1');
    expect(text).toContain('thr_runner_degraded 1');
    expect(text).toContain('thr_runner_harbor_info{version="0.1.45"} 1');
  });

  it('are served on 127.0.0.1 by default, only at /metrics', async () => {
    const config = readRunnerConfig({ NATS_URL: 'nats://127.0.0.1:4222', RUNNER_METRICS_PORT: '0' });
    expect(config.metrics).toEqual({ port: 0, host: '127.0.0.1' });
    expect(readRunnerConfig({ NATS_URL: 'nats://127.0.0.1:4222' }).metrics).toBeNull();
    expect(() => readRunnerConfig({ NATS_URL: 'nats://127.0.0.1:4222', RUNNER_METRICS_PORT: 'x' })).toThrow(/RUNNER_METRICS_PORT must be a port number/);
    const server = await startRunnerMetricsServer(new RunnerMetrics(state, { defaultMetrics: false }), config.metrics!);
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const response = await fetch(server.url);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('thr_runner_slots 4');
      expect((await fetch(server.url.replace(/metrics$/, ''))).status).toBe(404);
      expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.stop();
    }
  });
});
