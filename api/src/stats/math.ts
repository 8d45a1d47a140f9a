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

/**
 * Exact two-sided McNemar test: of the n = b + c discordant pairs, under the null hypothesis each
 * is equally likely to favour either side, so min(b, c) is Binomial(n, ½) and
 * p = min(1, 2 · P(X ≤ min(b, c))). With no discordant pair there is no evidence either way: p = 1.
 */
export function mcnemarExactP(b: number, c: number): number {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0) {
    throw new RangeError(`McNemar needs whole counts b, c >= 0, got b=${b} c=${c}`);
  }
  const n = b + c;
  // The binomial is symmetric, so from min(b, c) ≥ (n − 1) / 2 the tail holds half the mass or more
  // and p is 1; saying so directly avoids a rounded 0.9999999999999999.
  const k = Math.min(b, c);
  if (2 * k >= n - 1) return 1;
  let tail = 0;
  if (n <= 1000) {
    // P(X = 0) = 2^−n is exact, and each next term is the last × (n − i) / (i + 1).
    let term = 0.5 ** n;
    for (let i = 0; i <= k; i++) {
      tail += term;
      term = (term * (n - i)) / (i + 1);
    }
  } else {
    // 2^−n underflows beyond about n = 1074: sum log C(n, i) − n log 2 instead.
    let logChoose = 0;
    for (let i = 0; i <= k; i++) {
      tail += Math.exp(logChoose - n * Math.LN2);
      logChoose += Math.log(n - i) - Math.log(i + 1);
    }
  }
  return Math.min(1, 2 * tail);
}

/**
 * mulberry32: a tiny seeded generator of uniform numbers in [0, 1). Not for cryptography; here it
 * only makes a bootstrap give the same interval every time the same data is compared.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Quantile q of ascending `sorted` values, interpolating linearly between ranks (R's type 7). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of no values');
  const rank = (sorted.length - 1) * q;
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (rank - below) * (sorted[above]! - sorted[below]!);
}

export const BOOTSTRAP_RESAMPLES = 2000;
export const BOOTSTRAP_SEED = 20260101;

export interface MeanWithInterval extends Interval {
  mean: number;
}

/**
 * The mean of paired differences (one per task) with a 95% percentile bootstrap interval: tasks are
 * drawn with replacement `resamples` times, each draw's mean is kept, and the 2.5% and 97.5%
 * quantiles of those means are the interval. Resampling whole tasks keeps each task's pair
 * together, which is what makes it paired. The seed is fixed, so the same data always gives the
 * same interval. Null without differences.
 */
export function pairedBootstrap(
  differences: readonly number[],
  { resamples = BOOTSTRAP_RESAMPLES, seed = BOOTSTRAP_SEED }: { resamples?: number; seed?: number } = {},
): MeanWithInterval | null {
  const n = differences.length;
  if (n === 0) return null;
  const mean = differences.reduce((sum, d) => sum + d, 0) / n;
  const random = seededRandom(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += differences[Math.floor(random() * n)]!;
    means[r] = sum / n;
  }
  means.sort();
  return { mean, low: quantile(means, 0.025), high: quantile(means, 0.975) };
}
