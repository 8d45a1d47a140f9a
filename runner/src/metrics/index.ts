// A runner's Prometheus metrics (issue 18 item 4), every name declared here; runner.ts reports
// through this object. A registry of its own per runner (never prom-client's global one).
// Cheap on the hot path: a log chunk adds two numbers, whatever its lines; labels are enums
// (status, failure kind, phase, release reason), never run ids or log sources.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RunResult } from '../protocol/index.js';

export { listenForScrapes, type MetricsServer } from './server.js';

/**
 * Trials last seconds (a cached image, a quick agent) to hours (a long agent run on a big task):
 * buckets spread over that range, finer at the short end where a failed setup lands.
 */
export const TRIAL_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 14_400, 28_800];

export const TRIAL_PHASES = ['environment_setup', 'agent_setup', 'agent_execution', 'verifier'] as const;

export interface RunnerMetricsState {
  slots: number;
  busy: () => number;
  draining: () => boolean;
  degraded: () => boolean;
  harborVersion: string | null;
}

export class RunnerMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;

  readonly trialsStarted = new Counter({
    name: 'thr_runner_trials_started_total',
    help: 'Trials this runner started Harbor for.',
    registers: [this.registry],
  });
  readonly trialsFinished = new Counter({
    name: 'thr_runner_trials_finished_total',
    help: 'Trials finished with an outcome, by status (PASSED, FAILED, ERRORED, CANCELLED) and failure kind (none when it has none).',
    labelNames: ['status', 'failure_kind'] as const,
    registers: [this.registry],
  });
  readonly trialsReleased = new Counter({
    name: 'thr_runner_trials_released_total',
    help: 'Orders given back unfinished (shutdown, runner unhealthy, …), by reason: they are redelivered.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly trialDuration = new Histogram({
    name: 'thr_runner_trial_duration_seconds',
    help: 'Wall-clock time of a trial on this runner, from start to outcome, by status.',
    labelNames: ['status'] as const,
    buckets: TRIAL_DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly phaseDuration = new Histogram({
    name: 'thr_runner_trial_phase_duration_seconds',
    help: "Time of each phase of a trial as Harbor reports it: environment_setup, agent_setup, agent_execution, verifier.",
    labelNames: ['phase'] as const,
    buckets: TRIAL_DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly logLines = new Counter({
    name: 'thr_runner_log_lines_published_total',
    help: 'Log lines of trials published to LOGS.',
    registers: [this.registry],
  });
  readonly logBytes = new Counter({
    name: 'thr_runner_log_bytes_published_total',
    help: 'Bytes of log chunks published to LOGS (encoded messages).',
    registers: [this.registry],
  });

  constructor(state: RunnerMetricsState, options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'thr_runner_slots',
      help: 'Trial slots of this runner (RUNNER_CONCURRENCY).',
      registers: [this.registry],
      collect() {
        this.set(state.slots);
      },
    });
    new Gauge({
      name: 'thr_runner_slots_busy',
      help: 'Slots running a trial now.',
      registers: [this.registry],
      collect() {
        this.set(state.busy());
      },
    });
    new Gauge({
      name: 'thr_runner_degraded',
      help: 'Whether the runner found a fault of its own and takes no orders (1) or not (0).',
      registers: [this.registry],
      collect() {
        this.set(state.degraded() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'thr_runner_draining',
      help: 'Whether the runner is draining for a shutdown (1) or not (0).',
      registers: [this.registry],
      collect() {
        this.set(state.draining() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'thr_runner_harbor_info',
      help: 'The Harbor version this runner runs (always 1; the version is the label, "missing" when none was found).',
      labelNames: ['version'],
      registers: [this.registry],
    }).set({ version: state.harborVersion ?? 'missing' }, 1);
  }

  /** A trial's outcome: its count, its duration and Harbor's phase timings. */
  finished(result: Pick<RunResult, 'status' | 'failureKind' | 'environmentSetupMs' | 'agentSetupMs' | 'agentExecutionMs' | 'verifierMs'>, seconds: number | null): void {
    this.trialsFinished.inc({ status: result.status, failure_kind: result.failureKind ?? 'none' });
    if (seconds !== null) this.trialDuration.observe({ status: result.status }, seconds);
    const phases: [(typeof TRIAL_PHASES)[number], number | null | undefined][] = [
      ['environment_setup', result.environmentSetupMs],
      ['agent_setup', result.agentSetupMs],
      ['agent_execution', result.agentExecutionMs],
      ['verifier', result.verifierMs],
    ];
    for (const [phase, ms] of phases) if (typeof ms === 'number') this.phaseDuration.observe({ phase }, ms / 1_000);
  }

  /** One published log chunk: its lines and encoded size. */
  logChunk(lines: number, bytes: number): void {
    this.logLines.inc(lines);
    this.logBytes.inc(bytes);
  }

  async expose(): Promise<string> {
    return this.registry.metrics();
  }
}
