// The combining maths on cases small enough to check by hand (the arithmetic is in the comments).
import { describe, expect, it } from 'vitest';
import { accuracyOf, disagreement, meanPassAtK, meanPassHatK, passHatK, sampleVariance } from './math.js';

// t1: rewards 1, 0, 1   → n 3, c 2, Σ 2, Σ² 2, mean 2/3, var ((2 − 4/3) / 2) = 1/3, var/n = 1/9
// t2: rewards 1, 1      → n 2, c 2, Σ 2, Σ² 2, mean 1,   var 0
// t3: rewards 0.5, 0.5  → n 2, c 0, Σ 1, Σ² 0.5, mean 0.5, var ((0.5 − 1/2) / 1) = 0
const tasks = [
  { n: 3, c: 2, rewardSum: 2, rewardSquares: 2 },
  { n: 2, c: 2, rewardSum: 2, rewardSquares: 2 },
  { n: 2, c: 0, rewardSum: 1, rewardSquares: 0.5 },
];

describe('leaderboard maths', () => {
  it('sample variance from sums: 0 for one value', () => {
    expect(sampleVariance(3, 2, 2)).toBeCloseTo(1 / 3, 12);
    expect(sampleVariance(1, 0.7, 0.49)).toBe(0);
    expect(sampleVariance(2, 1, 0.5)).toBe(0);
  });

  it('accuracy, standard error and the 95% interval', () => {
    const a = accuracyOf(tasks);
    // accuracy = (2/3 + 1 + 1/2) / 3 = 13/18
    expect(a.accuracy).toBeCloseTo(13 / 18, 12);
    // SE = sqrt(1/9 + 0 + 0) / 3 = 1/9
    expect(a.standardError).toBeCloseTo(1 / 9, 12);
    // 13/18 ± 1.96/9 = 0.72222… ± 0.21777… → [0.50444…, 0.94]
    expect(a.ci95Low).toBeCloseTo(13 / 18 - 1.96 / 9, 12);
    expect(a.ci95High).toBeCloseTo(0.94, 12);
    expect(a.tasksCovered).toBe(3);
  });

  it('ignores uncovered tasks and clamps the interval to [0, 1]', () => {
    // One task, rewards 1, 1, 1, 0: mean 3/4, var (3 − 9/4) / 3 = 1/4, SE = sqrt(1/16) / 1 = 1/4;
    // 0.75 ± 0.49 → [0.26, 1.24] → high clamped to 1.
    const a = accuracyOf([{ n: 4, c: 3, rewardSum: 3, rewardSquares: 3 }, { n: 0, c: 0, rewardSum: 0, rewardSquares: 0 }]);
    expect(a).toEqual({ tasksCovered: 1, accuracy: 0.75, standardError: 0.25, ci95Low: expect.closeTo(0.26, 12), ci95High: 1 });
    // All failed: 0 ± 0, never below 0.
    expect(accuracyOf([{ n: 2, c: 0, rewardSum: 0, rewardSquares: 0 }])).toMatchObject({ accuracy: 0, standardError: 0, ci95Low: 0, ci95High: 0 });
    expect(accuracyOf([])).toEqual({ tasksCovered: 0, accuracy: null, standardError: null, ci95Low: null, ci95High: null });
  });

  it('pass@k and pass^k for k = 1 .. the fewest trials of a task', () => {
    // pass@1 = mean c/n = (2/3 + 1 + 0) / 3 = 5/9
    // pass@2: t1 1 − C(1,2)/C(3,2) = 1, t2 1, t3 1 − C(2,2)/C(2,2) = 0 → 2/3
    const at = meanPassAtK(tasks);
    expect(at.map((v) => v.k)).toEqual([1, 2]);
    expect(at[0]!.value).toBeCloseTo(5 / 9, 12);
    expect(at[1]!.value).toBeCloseTo(2 / 3, 12);
    // pass^1 = pass@1 = 5/9; pass^2: t1 C(2,2)/C(3,2) = 1/3, t2 1, t3 0 → (4/3) / 3 = 4/9
    const hat = meanPassHatK(tasks);
    expect(hat[0]!.value).toBeCloseTo(5 / 9, 12);
    expect(hat[1]!.value).toBeCloseTo(4 / 9, 12);
    // One task: 5 trials, 3 passed: pass^3 = (3·2·1)/(5·4·3) = 1/10; pass^4 = 0
    expect(passHatK(5, 3, 3)).toBeCloseTo(0.1, 12);
    expect(passHatK(5, 3, 4)).toBe(0);
    expect(() => passHatK(2, 3, 1)).toThrow(RangeError);
    expect(meanPassHatK([{ n: 0, c: 0 }])).toEqual([]);
  });

  it('disagreement: 2 × the standard deviation of the column pass rates', () => {
    expect(disagreement([1, 0])).toBe(1);
    expect(disagreement([1, 1, 1])).toBe(0);
    // rates 1, 0.5, 0: mean 0.5, variance (0.25 + 0 + 0.25) / 3 = 1/6, 2·sqrt(1/6) ≈ 0.8165
    expect(disagreement([1, 0.5, 0])).toBeCloseTo(2 * Math.sqrt(1 / 6), 12);
    expect(disagreement([0.5])).toBeNull();
  });
});
