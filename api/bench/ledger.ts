// The Harbor simulator's ledger read as the platform benchmarks need it. Each simulated trial appends
// `start <job_name> <epoch_ms> <pid> <ppid>` when it starts and `end <job_name> <epoch_ms> … <how>`
// when it exits (runner/test/harbor-sim/harbor, HARBOR_SIM_LEDGER); several runners, on the host or
// in containers sharing the folder, append to one file. From it: each trial's own duration, the peak
// number of simultaneous trials, and when each run's Harbor started, against `Run.dispatchedAt`.
import { percentile } from './deployment.js';

export interface Ledger {
  /** Harbor job name → epoch ms of its start (the last one if a name started twice). */
  starts: Map<string, number>;
  ends: Map<string, number>;
  /** Run id → its Harbor starts, every dispatch and delivery: more than one means it ran twice. */
  startsByRun: Map<string, number[]>;
  /** How trials ended (finished, cancelled, aborted) → how many. */
  endings: Map<string, number>;
}

// Harbor's job directory is `run-<runId>-p<dispatch>-d<delivery>`.
const runIdOf = (jobName: string) => /^run-([0-9a-f-]{36})-/.exec(jobName)?.[1];

export function parseLedger(text: string): Ledger {
  const ledger: Ledger = { starts: new Map(), ends: new Map(), startsByRun: new Map(), endings: new Map() };
  for (const line of text.split('\n')) {
    const [kind, name, at, , , how] = line.split(' ');
    if (!name || !at) continue;
    if (kind === 'start') {
      ledger.starts.set(name, Number(at));
      const runId = runIdOf(name);
      if (runId) ledger.startsByRun.set(runId, [...(ledger.startsByRun.get(runId) ?? []), Number(at)]);
    } else if (kind === 'end') {
      ledger.ends.set(name, Number(at));
      ledger.endings.set(how ?? '?', (ledger.endings.get(how ?? '?') ?? 0) + 1);
    }
  }
  return ledger;
}

export interface TrialLoad {
  /** Σ of every trial's own duration, seconds. */
  trialSeconds: number;
  /** The wall time a perfect scheduler would need: Σ(trial durations) ÷ slots. */
  ideal: number;
  /** Most trials running at one moment. */
  peak: number;
}

export function trialLoad(ledger: Ledger, slots: number): TrialLoad {
  const trialSeconds = [...ledger.starts].reduce((sum, [name, at]) => sum + ((ledger.ends.get(name) ?? at) - at) / 1000, 0);
  const edges: [number, number][] = [...[...ledger.starts.values()].map((at): [number, number] => [at, 1]), ...[...ledger.ends.values()].map((at): [number, number] => [at, -1])];
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (running += d));
  return { trialSeconds, ideal: trialSeconds / slots, peak };
}

/** A run's `dispatchedAt` (epoch ms), stamped right after its order's batch was published. */
export interface Dispatched {
  id: string;
  dispatched: number;
}

/**
 * Dispatch latency (order published → Harbor started), sorted. With `firstWave`, only runs that
 * found a free slot: those whose first start came before the first trial ended (the figure the
 * platform benchmark has always printed). Without it, every run: the dispatcher publishes an order
 * only for a free runner slot (issue 15's fair share), so a later run's latency is dispatch too,
 * not queueing, and a p99 over every run rests on more than one wave. Throws when no run matched
 * the ledger (the names changed) rather than report nothing.
 */
export function dispatchLatencies(ledger: Ledger, runs: Dispatched[], label: string, firstWave = true): number[] {
  const firstEnd = firstWave ? Math.min(...ledger.ends.values()) : Infinity;
  const latencies = runs
    .map((r) => ({ start: ledger.startsByRun.get(r.id)?.reduce((a, b) => Math.min(a, b)), dispatched: r.dispatched }))
    .filter((r): r is { start: number; dispatched: number } => r.start !== undefined && r.start < firstEnd)
    .map((r) => r.start - r.dispatched)
    .sort((a, b) => a - b);
  if (latencies.length === 0) throw new Error(`${label}: no run's Harbor start matched the ledger (${ledger.starts.size} starts)`);
  return latencies;
}

/** What the overhead and scale scenarios print, for host processes and containers alike. */
export interface ScenarioFigures {
  label: string;
  trials: number;
  slots: number;
  wall: number;
  ideal: number;
  overheadPct: number;
  utilisationPct: number;
  peak: number;
  dispatchP50: number;
  dispatchP99: number;
  /** How many runs the dispatch percentiles are over. */
  dispatchRuns: number;
  /** The same over every run of the job (see dispatchLatencies). */
  dispatchAllP50: number;
  dispatchAllP99: number;
}

export function scenarioFigures(label: string, trials: number, slots: number, wall: number, ledger: Ledger, runs: Dispatched[]): ScenarioFigures {
  const load = trialLoad(ledger, slots);
  const latencies = dispatchLatencies(ledger, runs, label);
  const all = dispatchLatencies(ledger, runs, label, false);
  return {
    label,
    trials,
    slots,
    wall,
    ideal: load.ideal,
    overheadPct: ((wall - load.ideal) / load.ideal) * 100,
    utilisationPct: (load.trialSeconds / (slots * wall)) * 100,
    peak: load.peak,
    dispatchP50: percentile(latencies, 50),
    dispatchP99: percentile(latencies, 99),
    dispatchRuns: latencies.length,
    dispatchAllP50: percentile(all, 50),
    dispatchAllP99: percentile(all, 99),
  };
}

export function printFigures(f: ScenarioFigures): void {
  console.log(
    `    wall ${f.wall.toFixed(2)} s   ideal Σtrial/slots ${f.ideal.toFixed(2)} s   overhead ${f.overheadPct.toFixed(1)}%   ` +
      `slot utilisation ${f.utilisationPct.toFixed(1)}%   peak concurrent ${f.peak}`,
  );
  console.log(
    `    dispatch latency (published → Harbor started, ${f.dispatchRuns} runs with a free slot) p50 ${f.dispatchP50} ms  p99 ${f.dispatchP99} ms; ` +
      `every run p50 ${f.dispatchAllP50} ms  p99 ${f.dispatchAllP99} ms`,
  );
}
