// Platform benchmark: simulated trials of fixed length across runner processes, everything built
// and run as in production (API and runners under plain node, Harbor replaced by the simulator).
//   overhead: more trials than slots; wall time against the ideal Σ(trial time) ÷ slots, measured
//             in the same run from the simulator's own ledger; slot utilisation.
//   scale:    600 trials on 600 slots at once; peak concurrency (from the ledger), dispatch
//             latency (order published → Harbor started) p50/p99, RSS and CPU per trial.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { graphql } from '../test/support/app.js';
import { deploy, memoryMiB, percentile } from './deployment.js';

interface Scenario {
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

async function runScenario(s: Scenario): Promise<void> {
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

    const started = performance.now();
    const created = await graphql(
      url,
      `mutation($input: CreateJobInput!) { createJob(input: $input) { ... on MutationCreateJobSuccess { data { id } } ... on Error { message } } }`,
      { input: { taskIds, agent: 'oracle', runsPerTask: s.trials / taskCount } },
    );
    const jobId = created.data?.createJob?.data?.id;
    if (!jobId) throw new Error(`${s.label}: createJob failed: ${JSON.stringify(created)}`);
    let job: any;
    for (;;) {
      job = (await graphql(url, `query($id: ID!) { job(id: $id) { status runsPassed runsTotal } }`, { id: jobId })).data.job;
      if (job.status === 'COMPLETED') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const wall = (performance.now() - started) / 1000;
    if (job.runsPassed !== s.trials) throw new Error(`${s.label}: ${job.runsPassed} of ${s.trials} passed`);

    const cpuAfter = await Promise.all(runners.map((r) => procStat(r.child.pid!)));
    const apiStat = await procStat(api.child.pid!);

    // The simulator's ledger: when each Harbor process started and ended.
    const lines = (await readFile(ledger, 'utf8')).trim().split('\n').map((l) => l.split(' '));
    const starts = new Map(lines.filter((l) => l[0] === 'start').map((l) => [l[1]!, Number(l[2])]));
    const ends = new Map(lines.filter((l) => l[0] === 'end').map((l) => [l[1]!, Number(l[2])]));
    const trialSeconds = [...starts].reduce((sum, [name, at]) => sum + ((ends.get(name) ?? at) - at) / 1000, 0);
    const slots = s.runners * s.slotsPerRunner;
    const ideal = trialSeconds / slots;
    const edges: [number, number][] = [...[...starts.values()].map((at): [number, number] => [at, 1]), ...[...ends.values()].map((at): [number, number] => [at, -1])];
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let peak = 0;
    for (const [, d] of edges) peak = Math.max(peak, (running += d));

    // Dispatch latency: dispatchedAt (stamped right after the batch was published) → Harbor started.
    const client = new (await import('pg')).default.Client({ connectionString: d.databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ id: string; dispatched: string }>(
      `SELECT id, (extract(epoch FROM "dispatchedAt") * 1000)::bigint AS dispatched FROM "Run" WHERE "jobId" = $1`,
      [jobId],
    );
    await client.end();
    const firstEnd = Math.min(...ends.values());
    // Harbor's job directory is `run-<runId>-p<dispatch>-d<delivery>`: a run's first Harbor start is its
    // earliest entry under any dispatch or delivery.
    const firstStart = new Map<string, number>();
    for (const [name, at] of starts) {
      const runId = /^run-([0-9a-f-]{36})-/.exec(name)?.[1];
      if (runId && at < (firstStart.get(runId) ?? Infinity)) firstStart.set(runId, at);
    }
    const latencies = rows
      .map((r) => ({ start: firstStart.get(r.id), dispatched: Number(r.dispatched) }))
      // Only runs that found a free slot: later ones waited for a slot, which is queueing, not dispatch.
      .filter((r): r is { start: number; dispatched: number } => r.start !== undefined && r.start < firstEnd)
      .map((r) => r.start - r.dispatched)
      .sort((a, b) => a - b);

    const runnerCpu = cpuAfter.reduce((sum, c, i) => sum + c.cpuSeconds - cpuBefore[i]!.cpuSeconds, 0);
    const runnerRss = cpuAfter.map((c) => c.peakRssMiB);
    console.log(`  ${s.label}: ${s.trials} trials, ${s.runners} runners × ${s.slotsPerRunner} slots, phases ${s.phaseMs} ms`);
    console.log(
      `    wall ${wall.toFixed(2)} s   ideal Σtrial/slots ${ideal.toFixed(2)} s   overhead ${(((wall - ideal) / ideal) * 100).toFixed(1)}%   ` +
        `slot utilisation ${((trialSeconds / (slots * wall)) * 100).toFixed(1)}%   peak concurrent ${peak}`,
    );
    // No latency at all means the ledger's names no longer match the runs: say so rather than skip the figure.
    if (latencies.length === 0) throw new Error(`${s.label}: no run's Harbor start matched the ledger (${starts.size} starts)`);
    console.log(
      `    dispatch latency (published → Harbor started, ${latencies.length} runs with a free slot) p50 ${percentile(latencies, 50)} ms  p99 ${percentile(latencies, 99)} ms`,
    );
    console.log(
      `    runner peak RSS ${Math.round(Math.max(...runnerRss))} MiB (max of ${s.runners})   API peak RSS ${Math.round(apiStat.peakRssMiB)} MiB   ` +
        `runner CPU ${((runnerCpu / s.trials) * 1000).toFixed(1)} ms per trial   API CPU ${((apiStat.cpuSeconds / s.trials) * 1000).toFixed(1)} ms per trial (incl. start-up)`,
    );
  } finally {
    await d.stop();
  }
}

export async function benchPlatform(): Promise<void> {
  console.log('platform benchmark (API and runners built, under node; Harbor simulated)');
  await runScenario({ label: 'overhead', runners: 4, slotsPerRunner: 5, trials: 100, phaseMs: 1_000 });
  if (!process.argv.includes('--quick')) await runScenario({ label: 'scale', runners: 4, slotsPerRunner: 150, trials: 600, phaseMs: 2_500 });
}
