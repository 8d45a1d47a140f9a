// The pure parts of the leaderboard service: row keys and ranking.
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../schema/errors.js';
import { parseRowKey, rankRows, rowKey } from './service.js';

describe('row keys', () => {
  it('agent|model|agentVersion, empty parts for no model or all versions, any name round-trips', () => {
    expect(rowKey('terminus-2', 'openrouter/anthropic/claude-sonnet-4', '2.0.0')).toBe('terminus-2|openrouter/anthropic/claude-sonnet-4|2.0.0');
    expect(rowKey('oracle', null, null)).toBe('oracle||');
    const odd = rowKey('my.agent:Class|x', 'm%7C|y', 'v|1%');
    expect(odd).toBe('my.agent:Class%7Cx|m%257C%7Cy|v%7C1%25');
    expect(parseRowKey(odd, 'a')).toEqual({ key: odd, agent: 'my.agent:Class|x', model: 'm%7C|y', agentVersion: 'v|1%' });
    expect(parseRowKey('oracle||', 'a')).toEqual({ key: 'oracle||', agent: 'oracle', model: null, agentVersion: null });
  });

  it('refuses what is not three parts with an agent', () => {
    for (const key of ['oracle', 'a|b', '|m|v', 'a|b|c|d']) expect(() => parseRowKey(key, 'b')).toThrow(InvalidInputError);
  });
});

describe('ranking', () => {
  const row = (key: string, accuracy: number | null, complete: boolean, tasksCovered = 10) => ({ key, accuracy, complete, tasksCovered });

  it('complete rows by accuracy, ties share a rank and the next skips; incomplete rows after, unranked', () => {
    const ranked = rankRows([
      row('d', 0.9, false, 9),
      row('c', 0.5, true),
      row('b', 0.7, true),
      row('a', 0.7, true),
      row('e', 0.2, false, 3),
      row('f', 0.95, false, 3),
    ]);
    expect(ranked.map((r) => [r.key, r.rank])).toEqual([
      ['a', 1],
      ['b', 1],
      ['c', 3],
      ['d', null],
      ['f', null],
      ['e', null],
    ]);
  });
});
