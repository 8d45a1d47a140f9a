// Simulated trials on the compose stack (api/test/support/compose-stack.ts), measured like the host
// processes of platform.ts: the simulator's knobs travel in each task's .harbor-sim file (the runner
// passes no HARBOR_SIM_* to Harbor, and a container's environment is fixed by compose), and its
// ledger is one file in the stack's JOBS_DIR, bind-mounted at the same path in every runner.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ComposeStack } from '../test/support/compose-stack.js';
import { runJobToEnd, uploadBenchTasks, type FinishedJob } from './deployment.js';
import { parseLedger, scenarioFigures, type Dispatched, type Ledger, type ScenarioFigures } from './ledger.js';

export interface StackScenario {
  label: string;
  trials: number;
  /** Every runner container's slots together (compose gives each the same RUNNER_CONCURRENCY). */
  slots: number;
  phaseMs: number;
}

/** Where a scenario's ledger lives: JOBS_DIR is the only folder every runner can write. */
export const ledgerPath = (stack: ComposeStack, name: string) => path.join(stack.dataDir, 'jobs', `${name}.ledger`);

/** A task's .harbor-sim: four phases of `phaseMs`, a few log lines, start/end lines to `ledger`. */
export const harborSim = (ledger: string, phaseMs: number) => `HARBOR_SIM_PHASE_MS=${phaseMs}\nHARBOR_SIM_LOG_LINES=5\nHARBOR_SIM_LEDGER=${ledger}\n`;

export const stackUrl = (stack: ComposeStack) => `${stack.urls[0]}/graphql`;

/** Each run's dispatchedAt: not in the GraphQL API, so read with psql inside the stack's PostgreSQL. */
export function dispatchedRuns(stack: ComposeStack, jobId: string): Dispatched[] {
  if (!/^[0-9a-f-]{36}$/.test(jobId)) throw new Error(`not a job id: ${jobId}`);
  const [postgres] = stack.containers('postgres');
  if (!postgres) throw new Error(`no postgres container in ${stack.project}`);
  const sql = `SELECT id, (extract(epoch FROM "dispatchedAt") * 1000)::bigint FROM "Run" WHERE "jobId" = '${jobId}' AND "dispatchedAt" IS NOT NULL`;
  const out = execFileSync('podman', ['exec', postgres, 'psql', '-U', 'thr', '-d', 'thr', '-At', '-F', ' ', '-c', sql], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, at] = line.split(' ');
      return { id: id!, dispatched: Number(at) };
    });
}

/** Nothing lost, nothing doubled: the API's counters and the ledger's starts and ends, side by side. */
export interface TrialCounts {
  passed: number;
  total: number;
  /** Attempts the platform counted: more than `total` means runs were retried. */
  attempts: number;
  /** Distinct runs with a Harbor start in the ledger. */
  runsStarted: number;
  /** Runs whose Harbor started more than once (a redelivery ran it again). */
  runsStartedTwice: number;
  /** Trials that ended with their result written. */
  finished: number;
}

export function trialCounts(job: FinishedJob['job'], ledger: Ledger): TrialCounts {
  return {
    passed: job.runsPassed,
    total: job.runsTotal,
    attempts: job.attemptsTotal,
    runsStarted: ledger.startsByRun.size,
    runsStartedTwice: [...ledger.startsByRun.values()].filter((s) => s.length > 1).length,
    finished: ledger.endings.get('finished') ?? 0,
  };
}

export const formatCounts = (c: TrialCounts) =>
  `API: ${c.passed}/${c.total} PASSED, ${c.attempts} attempts; ledger: ${c.runsStarted} runs started, ${c.runsStartedTwice} started twice, ${c.finished} trials finished`;

/** Uploads tasks for `s`, runs one oracle job of `s.trials` to the end and measures it from the ledger. */
export async function runOnStack(stack: ComposeStack, s: StackScenario): Promise<{ figures: ScenarioFigures; counts: TrialCounts }> {
  const ledger = ledgerPath(stack, s.label);
  // At most 100 runs per task: spread the trials over enough tasks.
  const taskCount = Math.ceil(s.trials / 100);
  const taskIds = await uploadBenchTasks(stackUrl(stack), taskCount, s.label, harborSim(ledger, s.phaseMs));
  const { jobId, wall, job } = await runJobToEnd(stackUrl(stack), taskIds, s.trials / taskCount, s.label);
  const parsed = parseLedger(await readFile(ledger, 'utf8'));
  return { figures: scenarioFigures(s.label, s.trials, s.slots, wall, parsed, dispatchedRuns(stack, jobId)), counts: trialCounts(job, parsed) };
}
