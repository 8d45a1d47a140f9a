// The machine's speed, printed before the figures: sessions run on different machines of the same
// kind, and one was seen several times slower than another at the same work (process starts most
// of all, which the Harbor simulators lean on). Ratios within a run stay comparable; these two
// figures say how far the absolute ones are.
import { execFileSync } from 'node:child_process';

/** Milliseconds per fork + exec of /bin/true from a POSIX shell, and for 10^8 JS additions. */
function machineSpeed(): { processStartMs: number; jsLoopMs: number } {
  const starts = 300;
  let t = performance.now();
  execFileSync('/bin/sh', ['-c', `i=0; while [ $i -lt ${starts} ]; do /bin/true; i=$((i + 1)); done`]);
  const processStartMs = (performance.now() - t) / starts;
  t = performance.now();
  let sum = 0;
  for (let i = 0; i < 1e8; i++) sum += i & 7;
  const jsLoopMs = performance.now() - t;
  if (sum < 0) throw new Error('unreachable'); // keeps the loop from being optimised away
  return { processStartMs, jsLoopMs };
}

export function describeMachine(): string {
  const { processStartMs, jsLoopMs } = machineSpeed();
  return `machine: ${processStartMs.toFixed(2)} ms per process start (fork + exec from sh), ${jsLoopMs.toFixed(0)} ms for 10^8 JS additions`;
}
