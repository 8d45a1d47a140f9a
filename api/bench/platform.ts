// Platform benchmark: simulated trials of fixed length across runner processes, everything built
// and run as in production (API and runners under plain node, Harbor replaced by the simulator).
//   overhead: more trials than slots; wall time against the ideal Σ(trial time) ÷ slots, measured
//             in the same run from the simulator's own ledger; slot utilisation.
//   scale:    600 trials on 600 slots at once; peak concurrency (from the ledger), dispatch
//             latency (order published → Harbor started) p50/p99, RSS and CPU per trial.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { deploy, memoryMiB, runJobToEnd } from './deployment.js';
import { parseLedger, printFigures, scenarioFigures, type ScenarioFigures } from './ledger.js';

export interface Scenario {
  label: string;
  runners: number;
  slotsPerRunner: number;
  trials: number;
  phaseMs: number;
}

const CLK_TCK = 100;

async function procStat(pid: number): Promise<{ cpuSeconds: number; peakRssMiB: number }> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // Fields after the command: utime is the 12th, stime the 13th (0-based 11 and 12).
  const cpuSeconds = (Number(stat[11]) + Number(stat[12])) / CLK_TCK;
  return { cpuSeconds, peakRssMiB: (await memoryMiB(pid)).peak };
}

/** Runs one scenario on host processes, prints its figures and returns them (the container benchmark compares). */
export async function runScenario(s: Scenario): Promise<ScenarioFigures> {
  const d = await deploy(s.label);
  const ledger = path.join(d.scratch, 'ledger.txt');
  const { url, api } = d;
  try {
    // At most 100 runs per task: spread the trials over enough tasks.
    const taskCount = Math.ceil(s.trials / 100);
    const taskIds = await d.uploadTasks(taskCount, 'bench');
    const runners = await d.startRunners(s.runners, s.slotsPerRunner, {
      HARBOR_SIM_PHASE_MS: String(s.phaseMs),
      HARBOR_SIM_LOG_LINES: '5',
      HARBOR_SIM_LEDGER: ledger,
    });
    const cpuBefore = await Promise.all(runners.map((r) => procStat(r.child.pid!)));

    const { jobId, wall } = await runJobToEnd(url, taskIds, s.trials / taskCount, s.label);

    const cpuAfter = await Promise.all(runners.map((r) => procStat(r.child.pid!)));
    const apiStat = await procStat(api.child.pid!);

    // Dispatch latency: dispatchedAt (stamped right after the batch was published) → Harbor started.
    const client = new (await import('pg')).default.Client({ connectionString: d.databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ id: string; dispatched: string }>(
      `SELECT id, (extract(epoch FROM "dispatchedAt") * 1000)::bigint AS dispatched FROM "Run" WHERE "jobId" = $1`,
      [jobId],
    );
    await client.end();
    const slots = s.runners * s.slotsPerRunner;
    const ledgerText = await readFile(ledger, 'utf8');
    const figures = scenarioFigures(s.label, s.trials, slots, wall, parseLedger(ledgerText), rows.map((r) => ({ id: r.id, dispatched: Number(r.dispatched) })));

    const runnerCpu = cpuAfter.reduce((sum, c, i) => sum + c.cpuSeconds - cpuBefore[i]!.cpuSeconds, 0);
    const runnerRss = cpuAfter.map((c) => c.peakRssMiB);
    console.log(`  ${s.label}: ${s.trials} trials, ${s.runners} runners × ${s.slotsPerRunner} slots, phases ${s.phaseMs} ms`);
    printFigures(figures);
    console.log(
      `    runner peak RSS ${Math.round(Math.max(...runnerRss))} MiB (max of ${s.runners})   API peak RSS ${Math.round(apiStat.peakRssMiB)} MiB   ` +
        `runner CPU ${((runnerCpu / s.trials) * 1000).toFixed(1)} ms per trial   API CPU ${((apiStat.cpuSeconds / s.trials) * 1000).toFixed(1)} ms per trial (incl. start-up)`,
    );
    return figures;
  } finally {
    await d.stop();
  }
}

export async function benchPlatform(): Promise<void> {
  console.log('platform benchmark (API and runners built, under node; Harbor simulated)');
  await runScenario({ label: 'overhead', runners: 4, slotsPerRunner: 5, trials: 100, phaseMs: 1_000 });
  if (!process.argv.includes('--quick')) await runScenario({ label: 'scale', runners: 4, slotsPerRunner: 150, trials: 600, phaseMs: 2_500 });
}
