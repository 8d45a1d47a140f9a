// Recovery from losing a NATS node, on the compose stack: with a job running, SIGKILL the node that
// leads the RUNS stream (as the Health GraphQL field, which `npm run health` prints, names it), then
// time (a) kill → a new RUNS leader answering through the platform's health check, and (b) kill →
// the first run dispatched after the kill (Run.dispatchedAt) and its Harbor start (the ledger).
// The job must still complete with every run passed. Trials of different lengths (one phase length
// per task) keep slots freeing all the time, so the next dispatch waits on the cluster, not on a slot.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { topology } from 'runner/protocol';
import { waitFor } from 'runner/test-support';
import type { ComposeStack } from '../test/support/compose-stack.js';
import { runJobToEnd, uploadBenchTasks } from './deployment.js';
import { parseLedger } from './ledger.js';
import { dispatchedRuns, formatCounts, harborSim, ledgerPath, stackUrl, trialCounts, type TrialCounts } from './stack-trials.js';

const RUNS = topology('').streams.runs.name;
const run = promisify(execFile);

/** The RUNS stream's leader as one platform's health check reports it; null while none answers. */
async function runsLeader(stack: ComposeStack, url: string): Promise<string | null> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.adminToken}` },
    body: JSON.stringify({ query: '{ health { jetStream { streams { name leader } } } }' }),
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await response.json()) as { data?: { health: { jetStream: { streams: { name: string; leader: string | null }[] } | null } } };
  return body.data?.health.jetStream?.streams.find((s) => s.name === RUNS)?.leader ?? null;
}

/**
 * When podman saw the container exit (epoch ms): the moment of the loss. `podman kill` itself took
 * from 0.1 to 2.7 s to return on a loaded machine, too coarse to time an election against.
 */
async function exitedAt(container: string): Promise<number> {
  const at = (await run('podman', ['inspect', container, '--format', '{{.State.FinishedAt}}'], { encoding: 'utf8' })).stdout.trim();
  // Go's time format: "2026-12-06 15:46:59.586094971 +0000 UTC".
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d{1,3})?\d* ([+-]\d\d)(\d\d)/.exec(at);
  if (!m) throw new Error(`cannot read when ${container} exited: ${at}`);
  return Date.parse(`${m[1]}T${m[2]}${m[3] ?? ''}${m[4]}:${m[5]}`);
}

/**
 * Asks both platforms every `intervalMs` without waiting for slow answers (a platform whose NATS
 * connection was on the lost node answers late): resolves with the first answer naming a leader
 * other than `killed`, and when (epoch ms) that request was sent and answered.
 */
function newLeader(stack: ComposeStack, killed: string, intervalMs = 200, timeoutMs = 120_000): Promise<{ leader: string; sentAt: number; answeredAt: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`no new ${RUNS} leader within ${timeoutMs / 1000} s of losing ${killed}`));
      }
      for (const url of stack.urls) {
        const sentAt = Date.now();
        runsLeader(stack, url).then(
          (leader) => {
            if (!leader || leader === killed) return;
            clearInterval(timer);
            resolve({ leader, sentAt, answeredAt: Date.now() });
          },
          () => {}, // no answer yet: the next tick asks again
        );
      }
    }, intervalMs);
  });
}

/**
 * What the runners said about pulls and consumers from the kill on (podman's timestamps, as seconds
 * after the kill): why a dispatched order waited before its Harbor started, if it did.
 */
async function runnersOnTheLoss(stack: ComposeStack, killedAt: number): Promise<string[]> {
  const lines: string[] = [];
  for (const container of stack.containers('runner')) {
    const { stdout, stderr } = await run('podman', ['logs', '--timestamps', '--since', new Date(killedAt - 1_000).toISOString(), container], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    for (const line of `${stdout}\n${stderr}`.split('\n')) {
      const [stamp, ...words] = line.split(' ');
      const text = words.join(' ');
      if (!/consumer|pulling|nats|disconnect|reconnect/i.test(text)) continue;
      const at = Date.parse(stamp!.replace(/(\.\d{3})\d+/, '$1'));
      lines.push(`${container} +${((at - killedAt) / 1000).toFixed(2)} s ${text.slice(0, 200)}`);
    }
  }
  return lines;
}

export interface NatsLossFigures {
  killed: string;
  newLeader: string;
  /** How long `podman kill` itself took to return (the times below count from the container's exit). */
  killCommandMs: number;
  /** Kill → the answer naming the new leader (and → when that request was sent: a lower bound). */
  electedMs: number;
  electedAfterMs: number;
  /** Kill → the first dispatchedAt after it, and → that run's Harbor start. */
  nextDispatchMs: number;
  nextStartMs: number;
  /** For comparison: the longest gap between dispatches in the same job before the kill. */
  longestGapBeforeMs: number;
  wall: number;
  counts: TrialCounts;
  /** The runners' log lines on pulls and consumers after the kill. */
  runnerLines: string[];
}

export async function natsNodeLoss(stack: ComposeStack, trials: number, killAfterStarts: number): Promise<NatsLossFigures> {
  const label = 'nats-loss';
  const ledger = ledgerPath(stack, label);
  // Ten tasks, phases 300–1,200 ms: trials of about 1.2–4.8 s, so their ends spread out.
  const tasks = 10;
  const taskIds = (
    await Promise.all(Array.from({ length: tasks }, (_, i) => uploadBenchTasks(stackUrl(stack), 1, `${label}-${i}`, harborSim(ledger, 300 + i * 100))))
  ).flat();
  const killed = await waitFor(() => runsLeader(stack, stack.urls[0]), { what: `a ${RUNS} leader`, timeoutMs: 60_000, intervalMs: 250 });
  const [container] = stack.containers(killed);
  if (!container) throw new Error(`the ${RUNS} leader ${killed} is no container of ${stack.project}`);

  const finished = runJobToEnd(stackUrl(stack), taskIds, trials / tasks, label, 300_000);
  finished.catch(() => {}); // awaited below; a failure while we wait for the kill moment is not unhandled
  const startsSoFar = async () => (existsSync(ledger) ? parseLedger(await readFile(ledger, 'utf8')).starts.size : 0);
  await waitFor(async () => (await startsSoFar()) >= killAfterStarts, { what: `${killAfterStarts} trials started`, timeoutMs: 120_000, intervalMs: 100 });
  // Asking for the new leader starts with the kill, and `podman kill` (a SIGKILL, as the stack's
  // kill()) runs without blocking: it took up to 2.7 s to return here, while the polls go on.
  const electing = newLeader(stack, killed);
  const killStart = performance.now();
  await run('podman', ['kill', container]);
  const killCommandMs = performance.now() - killStart;
  const killedAt = await exitedAt(container);
  console.log(`    killed ${container} (${killed}, leading ${RUNS}) after ${await startsSoFar()} trial starts`);
  const elected = await electing;
  const { jobId, wall, job } = await finished;

  const parsed = parseLedger(await readFile(ledger, 'utf8'));
  const runs = dispatchedRuns(stack, jobId).sort((a, b) => a.dispatched - b.dispatched);
  const next = runs.find((r) => r.dispatched > killedAt);
  if (!next) throw new Error(`${label}: no run was dispatched after the kill`);
  const nextStart = parsed.startsByRun.get(next.id)?.find((at) => at > killedAt);
  if (nextStart === undefined) throw new Error(`${label}: run ${next.id}, dispatched after the kill, has no Harbor start in the ledger`);
  const before = [...new Set(runs.filter((r) => r.dispatched <= killedAt).map((r) => r.dispatched))];
  const gaps = before.slice(1).map((at, i) => at - before[i]!);
  return {
    killed,
    newLeader: elected.leader,
    killCommandMs,
    electedMs: elected.answeredAt - killedAt,
    electedAfterMs: Math.max(0, elected.sentAt - killedAt),
    nextDispatchMs: next.dispatched - killedAt,
    nextStartMs: nextStart - killedAt,
    longestGapBeforeMs: Math.max(0, ...gaps),
    wall,
    counts: trialCounts(job, parsed),
    runnerLines: await runnersOnTheLoss(stack, killedAt),
  };
}

export function printNatsLoss(f: NatsLossFigures): void {
  console.log(
    `    new ${RUNS} leader ${f.newLeader}: answered ${(f.electedMs / 1000).toFixed(2)} s after the kill (asked at +${(f.electedAfterMs / 1000).toFixed(2)} s; from the container's exit; podman kill took ${f.killCommandMs.toFixed(0)} ms to return)`,
  );
  console.log(
    `    next run dispatched ${(f.nextDispatchMs / 1000).toFixed(2)} s after the kill, its Harbor started at +${(f.nextStartMs / 1000).toFixed(2)} s ` +
      `(longest gap between dispatches before the kill: ${(f.longestGapBeforeMs / 1000).toFixed(2)} s)`,
  );
  console.log(`    job completed in ${f.wall.toFixed(2)} s; ${formatCounts(f.counts)}`);
  const shown = f.runnerLines.slice(0, 12);
  console.log(`    runners on pulls and consumers after the kill (${shown.length} of ${f.runnerLines.length} lines):${shown.length === 0 ? ' nothing' : ''}`);
  for (const line of shown) console.log(`      ${line}`);
}
