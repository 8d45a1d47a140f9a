// `npm run bench -- containers [--images=<tag>]`: the platform in containers (deploy/compose.yaml,
// brought up by api/test/support/compose-stack.ts) next to host processes, in one run (issue 18):
//   1. overhead: 100 trials of four 1 s phases on 20 slots, as host processes (platform.ts, 2
//      runners × 10 slots) and on the stack (2 runner containers × 10 slots, 2 platform replicas, a
//      3-node NATS cluster with 3-replica streams), in two rounds (host, stack, stack, host) to show
//      the spread; wall, ideal, overhead, dispatch p50/p99 and the ratios container/host per round;
//   2. NATS node loss, on the same stack: kill the RUNS leader mid-job, time the re-election and the
//      next dispatched run (nats-loss.ts);
//   3. scale: 600 trials at once on 3 runners × 200 slots, host processes then containers: all
//      PASSED, none lost or run twice (the API's counters and the ledger), peak concurrency, wall.
//      The host run tells what the 600 simulators' start-up on 2 cores costs on its own.
// Images are built from this checkout first (seconds when cached); --images=<tag> reuses built ones.
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { useToken } from '../test/support/auth.js';
import { buildImages, composeMissing, upStack, type ComposeStack, type StackOptions } from '../test/support/compose-stack.js';
import { printFigures, type ScenarioFigures } from './ledger.js';
import { natsNodeLoss, printNatsLoss, type NatsLossFigures } from './nats-loss.js';
import { runScenario } from './platform.js';
import { formatCounts, runOnStack, type TrialCounts } from './stack-trials.js';

const OVERHEAD = { trials: 100, phaseMs: 1_000, runners: 2, slotsPerRunner: 10 };
// Trials of about 40 s: 600 simulators take 30–40 s of the 2 cores to start, and all 600 should
// overlap (with 2.5 s phases, as platform.ts's scale run, only about half did in containers).
const SCALE = { trials: 600, phaseMs: 10_000, runners: 3, slotsPerRunner: 200 };
// Fewer trials than the overhead scenario: enough to be mid-job when the node goes, and to see it finish.
const NATS_LOSS = { trials: 100, killAfterStarts: 30 };

/** What else shares the machine: the load average and containers of other stacks. */
function machineLoad(): string {
  const others = execFileSync('podman', ['ps', '-q'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  return `load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${others} container(s) running`;
}

async function withStack<T>(images: StackOptions['images'], replicas: number, slots: number, use: (stack: ComposeStack) => Promise<T>): Promise<T> {
  const started = performance.now();
  const stack = await upStack({ images, runnerReplicas: replicas, runnerConcurrency: slots });
  console.log(`  stack ${stack.project} up in ${((performance.now() - started) / 1000).toFixed(1)} s: 2 platforms, 3 NATS nodes, ${replicas} runners × ${slots} slots (${machineLoad()})`);
  try {
    // uploadZips and runJobToEnd use the test fetch, which signs requests for registered origins.
    for (const url of stack.urls) useToken(`${url}/graphql`, stack.adminToken);
    return await use(stack);
  } finally {
    await stack.down();
  }
}

const ms = (n: number) => `${Math.round(n)}`;
const ratio = (c: number, h: number) => (c / h).toFixed(2);

function printSummary(rounds: [ScenarioFigures, ScenarioFigures][], loss: NatsLossFigures, scale: [ScenarioFigures, ScenarioFigures], counts: TrialCounts): void {
  const row = (what: string, f: ScenarioFigures) =>
    `| ${what} | ${f.wall.toFixed(2)} s | ${f.ideal.toFixed(2)} s | ${f.overheadPct.toFixed(1)}% | ${f.utilisationPct.toFixed(1)}% | ${f.peak} | ` +
    `${ms(f.dispatchP50)} / ${ms(f.dispatchP99)} ms | ${ms(f.dispatchAllP50)} / ${ms(f.dispatchAllP99)} ms |`;
  console.log('\n  for BENCHMARKS.md:\n');
  console.log('| scenario | wall | ideal | overhead | slot utilisation | peak concurrent | dispatch p50 / p99, free slot | dispatch p50 / p99, every run |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  rounds.forEach(([host, container], i) => {
    const what = `overhead (${host.trials} trials, ${host.slots} slots), round ${i + 1}`;
    console.log(row(`${what}, host processes`, host));
    console.log(row(`${what}, containers`, container));
    console.log(
      `| ratio container / host, round ${i + 1} | ${ratio(container.wall, host.wall)} | — | ${ratio(container.overheadPct, host.overheadPct)} | — | — | ` +
        `${ratio(container.dispatchP50, host.dispatchP50)} / ${ratio(container.dispatchP99, host.dispatchP99)} | ${ratio(container.dispatchAllP50, host.dispatchAllP50)} / ${ratio(container.dispatchAllP99, host.dispatchAllP99)} |`,
    );
  });
  const [hostScale, containerScale] = scale;
  console.log(row(`scale (${hostScale.trials} trials, ${hostScale.slots} slots), host processes`, hostScale));
  console.log(row(`scale (${containerScale.trials} trials, ${containerScale.slots} slots), containers`, containerScale));
  console.log(`\n  scale counts, containers: ${formatCounts(counts)}`);
  console.log(
    `  NATS node loss (${loss.killed} killed): new leader ${(loss.electedMs / 1000).toFixed(2)} s, next run dispatched ${(loss.nextDispatchMs / 1000).toFixed(2)} s and started ${(loss.nextStartMs / 1000).toFixed(2)} s after the kill; ${formatCounts(loss.counts)}`,
  );
}

export async function benchContainers(): Promise<void> {
  if (composeMissing) throw new Error(`containers benchmark: ${composeMissing}`);
  const benchStarted = performance.now();
  console.log(`containers benchmark: the compose stack against host processes (${machineLoad()})`);
  const reuse = process.argv.find((a) => a.startsWith('--images='))?.slice('--images='.length);
  const images = reuse
    ? { platform: `localhost/thr-platform:${reuse}`, runner: `localhost/thr-runner:${reuse}` }
    : buildImages('bench', (line) => console.log(`  ${line}`));

  const overheadOnHost = (round: number) => {
    console.log(`  host processes, round ${round}:`);
    return runScenario({ label: 'overhead', ...OVERHEAD });
  };
  const host1 = await overheadOnHost(1);
  const { containers, loss } = await withStack(images, OVERHEAD.runners, OVERHEAD.slotsPerRunner, async (stack) => {
    const containers: ScenarioFigures[] = [];
    for (const round of [1, 2]) {
      console.log(`  containers, round ${round}: ${OVERHEAD.trials} trials, ${OVERHEAD.runners} runner containers × ${OVERHEAD.slotsPerRunner} slots, phases ${OVERHEAD.phaseMs} ms`);
      const slots = OVERHEAD.runners * OVERHEAD.slotsPerRunner;
      const { figures, counts } = await runOnStack(stack, { label: `overhead-${round}`, trials: OVERHEAD.trials, slots, phaseMs: OVERHEAD.phaseMs });
      printFigures(figures);
      console.log(`    ${formatCounts(counts)}`);
      containers.push(figures);
    }
    console.log(`  NATS node loss: ${NATS_LOSS.trials} trials of 1.2–4.8 s, the RUNS leader killed after ${NATS_LOSS.killAfterStarts} started (${machineLoad()})`);
    const loss = await natsNodeLoss(stack, NATS_LOSS.trials, NATS_LOSS.killAfterStarts);
    printNatsLoss(loss);
    return { containers, loss };
  });
  const host2 = await overheadOnHost(2);

  console.log(`  scale on host processes: ${SCALE.trials} trials at once (${machineLoad()})`);
  const hostScale = await runScenario({ label: 'scale', ...SCALE });
  const scale = await withStack(images, SCALE.runners, SCALE.slotsPerRunner, async (stack) => {
    console.log(`  scale on containers: ${SCALE.trials} trials at once, ${SCALE.runners} runner containers × ${SCALE.slotsPerRunner} slots, phases ${SCALE.phaseMs} ms`);
    const result = await runOnStack(stack, { label: 'scale', trials: SCALE.trials, slots: SCALE.runners * SCALE.slotsPerRunner, phaseMs: SCALE.phaseMs });
    printFigures(result.figures);
    console.log(`    ${formatCounts(result.counts)}`);
    return result;
  });
  printSummary(
    [
      [host1, containers[0]!],
      [host2, containers[1]!],
    ],
    loss,
    [hostScale, scale.figures],
    scale.counts,
  );
  console.log(`\n  finished in ${((performance.now() - benchStarted) / 60_000).toFixed(1)} min (${machineLoad()})`);
}
