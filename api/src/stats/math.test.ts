import { describe, expect, it } from 'vitest';
import { mcnemarExactP, meanPassAtK, pairedBootstrap, passAtK, passAtKCurve, quantile, seededRandom, wilsonInterval } from './math.js';

describe('wilsonInterval (z = 1.96), against values worked out by hand', () => {
  it('2 of 5: p̂ = 0.4, centre 0.78416 / 1.76832, half-width 1.96·√0.086416 / 1.76832', () => {
    const i = wilsonInterval(2, 5)!;
    expect(i.low).toBeCloseTo(0.117618, 5);
    expect(i.high).toBeCloseTo(0.76928, 5);
  });

  it('0 of 10 reaches 0 and 10 of 10 reaches 1, each other end at z²/n ÷ (1 + z²/n) from it', () => {
    // 0.38416 / 1.38416 = 0.277540
    expect(wilsonInterval(0, 10)).toEqual({ low: 0, high: expect.closeTo(0.27754, 5) });
    expect(wilsonInterval(10, 10)).toEqual({ low: expect.closeTo(0.72246, 5), high: 1 });
  });

  it('a single attempt that passed: 1 − 3.8416 / 4.8416', () => {
    expect(wilsonInterval(1, 1)).toEqual({ low: expect.closeTo(0.206543, 5), high: 1 });
  });

  it('is null when nothing was scored (all runs errored out of the pass rate)', () => {
    expect(wilsonInterval(0, 0)).toBeNull();
  });
});

describe('passAtK = 1 − C(n−c, k) / C(n, k)', () => {
  it('n = 5, c = 2: 2/5, 1 − 3/10, 1 − 1/10, then 1 once fewer than k runs failed', () => {
    expect(passAtKCurve(5, 2).map((p) => p.value)).toEqual([
      expect.closeTo(0.4, 12),
      expect.closeTo(0.7, 12),
      expect.closeTo(0.9, 12),
      1,
      1,
    ]);
  });

  it('n = 10, c = 3, k = 5: 1 − 21/252', () => {
    expect(passAtK(10, 3, 5)).toBeCloseTo(1 - 21 / 252, 12);
  });

  it('is 0 for every k with no successes and 1 for every k with n successes', () => {
    expect(passAtKCurve(7, 0).every((p) => p.value === 0)).toBe(true);
    expect(passAtKCurve(7, 7).every((p) => p.value === 1)).toBe(true);
  });

  it('k = n is 1 as soon as one run passed', () => {
    expect(passAtK(4, 1, 4)).toBe(1);
    expect(passAtK(4, 0, 4)).toBe(0);
  });

  it('a single attempt: pass@1 is the outcome itself', () => {
    expect(passAtKCurve(1, 1)).toEqual([{ k: 1, value: 1 }]);
    expect(passAtKCurve(1, 0)).toEqual([{ k: 1, value: 0 }]);
    expect(passAtKCurve(0, 0)).toEqual([]);
  });

  it('stays exact where factorials would overflow: C(99,50)/C(100,50) = 50/100', () => {
    expect(passAtK(100, 1, 50)).toBeCloseTo(0.5, 12);
    expect(passAtK(1000, 500, 1)).toBeCloseTo(0.5, 12);
  });

  it('rejects impossible arguments', () => {
    expect(() => passAtK(3, 4, 1)).toThrow(RangeError);
    expect(() => passAtK(3, 1, 4)).toThrow(RangeError);
    expect(() => passAtK(3, 1, 0)).toThrow(RangeError);
  });
});

describe('meanPassAtK over tasks', () => {
  it('averages per-task pass@k up to the smallest n, leaving out tasks with nothing scored', () => {
    // task A n=2 c=1: pass@1 = 0.5, pass@2 = 1; task B n=3 c=0: 0, 0; task C n=0 is left out.
    expect(meanPassAtK([{ n: 2, c: 1 }, { n: 3, c: 0 }, { n: 0, c: 0 }])).toEqual([
      { k: 1, value: 0.25 },
      { k: 2, value: 0.5 },
    ]);
  });

  it('is empty when no task has a scored run', () => {
    expect(meanPassAtK([])).toEqual([]);
    expect(meanPassAtK([{ n: 0, c: 0 }])).toEqual([]);
  });
});

describe('mcnemarExactP: two-sided exact binomial test on the discordant pairs', () => {
  it('no discordant pair: no evidence either way, p = 1', () => {
    expect(mcnemarExactP(0, 0)).toBe(1);
  });

  it('b = 5, c = 0: 2 · (1/2)^5 = 0.0625, the same either way round', () => {
    expect(mcnemarExactP(5, 0)).toBeCloseTo(0.0625, 12);
    expect(mcnemarExactP(0, 5)).toBeCloseTo(0.0625, 12);
  });

  it('b = 1, c = 9: 2 · (1 + 10) / 1024 = 22/1024', () => {
    expect(mcnemarExactP(1, 9)).toBeCloseTo(22 / 1024, 12);
  });

  it('b = 2, c = 3: 2 · (1 + 5 + 10) / 32 = 1, capped at 1', () => {
    expect(mcnemarExactP(2, 3)).toBe(1);
    expect(mcnemarExactP(4, 4)).toBe(1);
  });

  it('stays finite where 0.5^n would underflow: b = 0, c = 2000 is 2^-1999, b = c = 1000 is 1', () => {
    expect(mcnemarExactP(0, 2000)).toBe(0);
    expect(mcnemarExactP(1000, 1000)).toBe(1);
    // b = 480, c = 520: about 0.22 by the normal approximation (z = 39/√1000 = 1.233).
    expect(mcnemarExactP(480, 520)).toBeGreaterThan(0.2);
    expect(mcnemarExactP(480, 520)).toBeLessThan(0.25);
    // Past n = 1000 the sum runs in log space: b = 600, c = 700 is about 0.006 (z = 99/√1300 = 2.75).
    expect(mcnemarExactP(600, 700)).toBeGreaterThan(0.004);
    expect(mcnemarExactP(600, 700)).toBeLessThan(0.008);
  });

  it('rejects impossible counts', () => {
    expect(() => mcnemarExactP(-1, 2)).toThrow(RangeError);
    expect(() => mcnemarExactP(1.5, 2)).toThrow(RangeError);
  });
});

describe('quantile (linear between ranks)', () => {
  it('interpolates like R type 7', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 10], 0.025)).toBeCloseTo(0.25, 12);
    expect(quantile([7], 0.975)).toBe(7);
  });
});

describe('pairedBootstrap of per-task differences', () => {
  it('is deterministic for a seed and varies with it', () => {
    const a = seededRandom(1);
    const b = seededRandom(1);
    const first = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seededRandom(2)()).not.toBe(first[0]);
    const differences = [1, 0, 0.5, -0.5, 1, 0, 0, 1];
    expect(pairedBootstrap(differences)).toEqual(pairedBootstrap(differences));
  });

  it('the mean is exact; the 95% interval surrounds it and stays within the range of the data', () => {
    const differences = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]; // 3 of 10 tasks gained a pass
    const result = pairedBootstrap(differences)!;
    expect(result.mean).toBeCloseTo(0.3, 12);
    // Means of 10 draws of Bernoulli(0.3): sd √(0.21/10) = 0.145, so the interval is about 0 .. 0.6.
    expect(result.low).toBeGreaterThanOrEqual(0);
    expect(result.low).toBeLessThanOrEqual(0.1);
    expect(result.high).toBeGreaterThanOrEqual(0.5);
    expect(result.high).toBeLessThanOrEqual(0.7);
  });

  it('no spread, no width: identical differences give a zero-width interval at their value', () => {
    expect(pairedBootstrap([0.25, 0.25, 0.25])).toEqual({ mean: 0.25, low: 0.25, high: 0.25 });
  });

  it('is null without common tasks', () => {
    expect(pairedBootstrap([])).toBeNull();
  });
});
