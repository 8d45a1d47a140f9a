import { describe, expect, it } from 'vitest';
import { sharePulls } from './pulls.js';

describe('sharePulls', () => {
  it('shares free slots over the pools, rotating when there are fewer slots than pools', () => {
    expect(sharePulls(5, ['a', 'b'], 0)).toEqual([['a', 3], ['b', 2]]);
    expect(sharePulls(1, ['a', 'b', 'c'], 2)).toEqual([['c', 1]]);
    expect(sharePulls(0, ['a'], 0)).toEqual([]);
  });
});
