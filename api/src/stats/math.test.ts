import { describe, expect, it } from 'vitest';
import { meanPassAtK, passAtK, passAtKCurve, wilsonInterval } from './math.js';

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
