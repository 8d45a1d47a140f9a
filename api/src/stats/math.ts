// The small statistics that run in TypeScript on numbers the database already aggregated: the
// Wilson interval of a pass rate and the unbiased pass@k estimator (Chen et al. 2021, "Evaluating
// Large Language Models Trained on Code"). Pure functions, no I/O.

/** 95% two-sided normal quantile. */
export const WILSON_Z = 1.96;

export interface Interval {
  low: number;
  high: number;
}

/**
 * Wilson score interval for `passed` successes out of `scored` trials. Unlike the normal
 * approximation it stays inside [0, 1] and is not zero-width at 0 or n successes, which matters at
 * the 1–10 attempts per task people typically run. Null when there is nothing to score.
 */
export function wilsonInterval(passed: number, scored: number, z = WILSON_Z): Interval | null {
  if (scored <= 0) return null;
  const p = passed / scored;
  const z2 = z * z;
  const denominator = 1 + z2 / scored;
  const centre = (p + z2 / (2 * scored)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / scored + z2 / (4 * scored * scored));
  // Rounding can push the ends a hair past the bounds at p = 0 or 1.
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Unbiased pass@k = 1 − C(n−c, k) / C(n, k): the chance that at least one of k attempts drawn
 * without replacement from n passes, given c of the n passed. Computed as the product
 * ∏_{i=n−c+1..n} (1 − k/i), which equals the binomial ratio but never forms a factorial, so it is
 * exact enough for any n a job can have.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new RangeError(`pass@k needs integers 0 <= c <= n and 1 <= k <= n, got n=${n} c=${c} k=${k}`);
  }
  // Fewer failures than draws: every draw of k contains a pass.
  if (n - c < k) return 1;
  let allFail = 1;
  for (let i = n - c + 1; i <= n; i++) allFail *= 1 - k / i;
  return 1 - allFail;
}

export interface PassAtKValue {
  k: number;
  value: number;
}

/** pass@k of one task for every k from 1 to n; empty when nothing was scored. */
export function passAtKCurve(n: number, c: number): PassAtKValue[] {
  return Array.from({ length: Math.max(0, n) }, (_, i) => ({ k: i + 1, value: passAtK(n, c, i + 1) }));
}

/**
 * The job's pass@k: the mean over tasks of each task's pass@k, for k from 1 to the smallest n among
 * tasks that have any scored run (a larger k is undefined for that task). Tasks with n = 0 are left
 * out rather than counted as failures: they tell nothing about the agent.
 */
export function meanPassAtK(tasks: readonly { n: number; c: number }[]): PassAtKValue[] {
  const scored = tasks.filter((t) => t.n > 0);
  if (scored.length === 0) return [];
  const maxK = Math.min(...scored.map((t) => t.n));
  return Array.from({ length: maxK }, (_, i) => {
    const k = i + 1;
    const sum = scored.reduce((total, t) => total + passAtK(t.n, t.c, k), 0);
    return { k, value: sum / scored.length };
  });
}
