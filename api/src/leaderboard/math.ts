// Combining a leaderboard row's per-task figures (issue 17 item 2). PostgreSQL hands over, per row
// and task, the scored trials n, the passes c, and the sum and sum of squares of the rewards; this
// file turns at most tasks × rows of those into accuracy, its standard error and interval, pass@k and
// pass^k. Pure functions, no I/O.
import { meanPassAtK, passAtK, type PassAtKValue, WILSON_Z } from '../stats/math.js';

/** One task's scored trials within a row, as the database aggregated them. */
export interface TaskFigures {
  /** Scored trials (counted attempts that were fair tries; infrastructure errors only when included). */
  n: number;
  /** Of those, passed (a verified PASSED). */
  c: number;
  /** Sum of the trials' rewards (an ERRORED or unverified trial counts 0, a missing reward 0). */
  rewardSum: number;
  /** Sum of the squared rewards, for the sample variance. */
  rewardSquares: number;
}

export interface Accuracy {
  /** Tasks with at least one scored trial: the ones the mean is over. */
  tasksCovered: number;
  /** Mean over covered tasks of each task's mean reward; null when none is covered. */
  accuracy: number | null;
  /** sqrt(Σ_t var_t / n_t) / T, var_t the sample variance of task t's rewards (0 when n_t = 1). */
  standardError: number | null;
  ci95Low: number | null;
  ci95High: number | null;
}

/** The accounting rule in words, shown on the leaderboard page. */
export const LEADERBOARD_RULE =
  'Each trial is the counted attempt of a (job, task, repeat): its first fair try, so retrying failures until they pass changes nothing. ' +
  'A trial is scored when it passed, failed or errored through the agent; infrastructure errors are left out unless included. ' +
  'Accuracy is the mean over the dataset version\'s tasks of each task\'s mean reward (an errored trial counts 0), ' +
  'over every job of this agent and model that ran those tasks. Its standard error is sqrt(Σ var_t / n_t) / T, ' +
  'var_t the sample variance of task t\'s rewards over its n_t trials (0 with one trial) and T the tasks covered ' +
  '(the Terminal-Bench team\'s rule); the 95% interval is accuracy ± 1.96 · SE, clamped to [0, 1]. ' +
  'A row is ranked only when every task of the version has at least one scored trial; incomplete rows follow, unranked.';

/** Sample variance from a sum and a sum of squares; 0 with one value, never negative after rounding. */
export function sampleVariance(n: number, sum: number, squares: number): number {
  if (n <= 1) return 0;
  return Math.max(0, (squares - (sum * sum) / n) / (n - 1));
}

/** Accuracy over the covered tasks, with the standard error and the clamped 95% interval. */
export function accuracyOf(tasks: readonly TaskFigures[], z = WILSON_Z): Accuracy {
  const covered = tasks.filter((t) => t.n > 0);
  const T = covered.length;
  if (T === 0) return { tasksCovered: 0, accuracy: null, standardError: null, ci95Low: null, ci95High: null };
  let means = 0;
  let varianceOfMeans = 0;
  for (const t of covered) {
    means += t.rewardSum / t.n;
    varianceOfMeans += sampleVariance(t.n, t.rewardSum, t.rewardSquares) / t.n;
  }
  const accuracy = means / T;
  const standardError = Math.sqrt(varianceOfMeans) / T;
  return {
    tasksCovered: T,
    accuracy,
    standardError,
    ci95Low: Math.max(0, accuracy - z * standardError),
    ci95High: Math.min(1, accuracy + z * standardError),
  };
}

/**
 * pass^k of one task: the chance that k attempts drawn without replacement from its n all pass,
 * C(c, k) / C(n, k) = ∏_{i=0..k−1} (c − i) / (n − i). Where pass@k rewards one success in k, pass^k
 * asks for k out of k: how reliably the agent solves it.
 */
export function passHatK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new RangeError(`pass^k needs integers 0 <= c <= n and 1 <= k <= n, got n=${n} c=${c} k=${k}`);
  }
  if (c < k) return 0;
  let product = 1;
  for (let i = 0; i < k; i++) product *= (c - i) / (n - i);
  return product;
}

/** Mean over tasks with n > 0 of pass^k, for k from 1 to the smallest such n (as meanPassAtK). */
export function meanPassHatK(tasks: readonly { n: number; c: number }[]): PassAtKValue[] {
  const scored = tasks.filter((t) => t.n > 0);
  if (scored.length === 0) return [];
  const maxK = Math.min(...scored.map((t) => t.n));
  return Array.from({ length: maxK }, (_, i) => {
    const k = i + 1;
    return { k, value: scored.reduce((sum, t) => sum + passHatK(t.n, t.c, k), 0) / scored.length };
  });
}

export { meanPassAtK, passAtK };

/**
 * How split the columns of a heatmap are on one task: 2 × the population standard deviation of
 * the pass rates of the columns that ran it. 0 when they all agree; 1 when half of them always
 * pass and half always fail (the most a spread of numbers in [0, 1] can be). Null when fewer than
 * two columns ran the task: there is nobody to disagree with.
 */
export function disagreement(passRates: readonly number[]): number | null {
  if (passRates.length < 2) return null;
  const mean = passRates.reduce((s, p) => s + p, 0) / passRates.length;
  const variance = passRates.reduce((s, p) => s + (p - mean) ** 2, 0) / passRates.length;
  return 2 * Math.sqrt(variance);
}
