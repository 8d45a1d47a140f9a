// The leaderboard pages' pure logic (src/lib/leaderboard/model.ts), without a browser or platform.
import { describe, expect, test } from 'vitest';
import {
  accuracyText,
  availableKs,
  filtersHref,
  frontSteps,
  heatColour,
  intervalText,
  jobsHref,
  paretoFront,
  placeLabels,
  pValue,
  readFilters,
  rowName,
  signedPoints,
  usdTick,
  sortHeatmapTasks,
  sortRows,
  splitRows,
  taskRunsHref,
  type RowNumbers,
} from '../src/lib/leaderboard/model.js';

describe('paretoFront', () => {
  test('a point is on the front when nothing else is both cheaper and more accurate', () => {
    // a: cheap, weak; b: dearer, better; c: dominated by b (dearer and worse); d: dearest, best.
    const points = [
      { x: 0.1, y: 0.3 },
      { x: 0.5, y: 0.6 },
      { x: 0.7, y: 0.5 },
      { x: 2, y: 0.9 },
    ];
    expect(paretoFront(points)).toEqual([true, true, false, true]);
  });

  test('ties: the same cost keeps only the most accurate; equal points are both on the front', () => {
    expect(paretoFront([{ x: 1, y: 0.5 }, { x: 1, y: 0.7 }])).toEqual([false, true]);
    expect(paretoFront([{ x: 1, y: 0.7 }, { x: 1, y: 0.7 }])).toEqual([true, true]);
    // Same accuracy, one dearer: the dearer one is dominated.
    expect(paretoFront([{ x: 2, y: 0.7 }, { x: 1, y: 0.7 }])).toEqual([false, true]);
  });

  test('order does not matter, and an empty or single list is handled', () => {
    expect(paretoFront([])).toEqual([]);
    expect(paretoFront([{ x: 3, y: 0 }])).toEqual([true]);
    const points = [
      { x: 2, y: 0.9 },
      { x: 0.7, y: 0.5 },
      { x: 0.1, y: 0.3 },
      { x: 0.5, y: 0.6 },
    ];
    expect(paretoFront(points)).toEqual([true, false, true, true]);
  });

  test('agrees with the definition on random points', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 50; round++) {
      const points = Array.from({ length: 12 }, () => ({ x: Math.round(random() * 5), y: Math.round(random() * 5) / 5 }));
      const expected = points.map((p) => !points.some((q) => q.x <= p.x && q.y >= p.y && (q.x < p.x || q.y > p.y)));
      expect(paretoFront(points)).toEqual(expected);
    }
  });

  test('frontSteps draws the front as a staircase from cheap to dear', () => {
    const points = [
      { x: 2, y: 0.9 },
      { x: 0.7, y: 0.5 },
      { x: 0.1, y: 0.3 },
    ];
    expect(frontSteps(points, paretoFront(points))).toEqual([
      { x: 0.1, y: 0.3 },
      { x: 0.7, y: 0.3 },
      { x: 0.7, y: 0.5 },
      { x: 2, y: 0.5 },
      { x: 2, y: 0.9 },
    ]);
  });
});

function row(over: Partial<RowNumbers> & { key: string }): RowNumbers {
  return {
    rank: null, agent: 'terminus-2', model: 'openai/gpt-5', agentVersion: null, complete: true, tasksCovered: 10, taskCount: 10, trials: 20,
    accuracy: 0.5, standardError: 0.1, ci95Low: 0.3, ci95High: 0.7, passAt1: 0.5, passAtK: [], passHatK: [],
    costPerTrial: 0.01, costPerSuccess: 0.02, tokensPerTrial: 1000, tokensPerSuccess: 2000, medianTrialSec: 30, infrastructureErrorRate: 0,
    ...over,
  };
}

describe('leaderboard rows', () => {
  const rows = [
    row({ key: 'a', rank: 1, accuracy: 0.8, costPerTrial: 0.05, model: 'b-model', passAtK: [{ k: 1, value: 0.8 }, { k: 2, value: 0.9 }] }),
    row({ key: 'b', rank: 2, accuracy: 0.6, costPerTrial: null, model: 'a-model', passAtK: [{ k: 1, value: 0.6 }, { k: 2, value: 0.95 }] }),
    row({ key: 'c', rank: null, complete: false, accuracy: 0.9, costPerTrial: 0.01, model: null }),
  ];
  const keys = (list: RowNumbers[]) => list.map((r) => r.key);

  test('sorts by any column both ways; blanks always last, ties in the API order', () => {
    expect(keys(sortRows(rows, { column: 'rank', descending: false }))).toEqual(['a', 'b', 'c']);
    expect(keys(sortRows(rows, { column: 'rank', descending: true }))).toEqual(['b', 'a', 'c']);
    expect(keys(sortRows(rows, { column: 'accuracy', descending: true }))).toEqual(['c', 'a', 'b']);
    expect(keys(sortRows(rows, { column: 'costPerTrial', descending: false }))).toEqual(['c', 'a', 'b']);
    expect(keys(sortRows(rows, { column: 'costPerTrial', descending: true }))).toEqual(['a', 'c', 'b']);
    expect(keys(sortRows(rows, { column: 'model', descending: false }))).toEqual(['b', 'a', 'c']);
    expect(keys(sortRows(rows, { column: 'trials', descending: true }))).toEqual(['a', 'b', 'c']);
    // pass@k at the chosen k.
    expect(keys(sortRows(rows, { column: 'passAtK', descending: true }, 2))).toEqual(['b', 'a', 'c']);
    expect(keys(sortRows(rows, { column: 'passAtK', descending: true }, 1))).toEqual(['a', 'b', 'c']);
  });

  test('complete rows apart from incomplete ones; the k chooser offers every k', () => {
    const { complete, incomplete } = splitRows(rows);
    expect(keys(complete)).toEqual(['a', 'b']);
    expect(keys(incomplete)).toEqual(['c']);
    expect(availableKs(rows)).toEqual([1, 2]);
  });

  test('numbers read as on the page', () => {
    expect(accuracyText({ accuracy: 0.625, standardError: 0.0413 })).toBe('62.5% ± 4.1%');
    expect(accuracyText({ accuracy: 1, standardError: null })).toBe('100.0%');
    expect(accuracyText({ accuracy: null, standardError: null })).toBe('—');
    expect(intervalText({ ci95Low: 0.5441, ci95High: 0.7059 })).toBe('54.4–70.6%');
    expect(intervalText({ ci95Low: null, ci95High: null })).toBe('');
    expect(rowName({ agent: 'terminus-2', model: 'openai/gpt-5', agentVersion: '1.2' })).toBe('terminus-2 · openai/gpt-5 · v1.2');
    expect(rowName({ agent: 'oracle', model: null, agentVersion: null })).toBe('oracle · no model');
    expect(rowName({ agent: 'oracle', model: null, agentVersion: 'unknown' })).toBe('oracle · no model');
    expect(pValue(0.0004)).toBe('< 0.001');
    expect(pValue(0.03271)).toBe('0.033');
    expect(pValue(1)).toBe('1');
    expect([0, 0.005, 0.01, 0.015].map((v) => usdTick(v, 0.005))).toEqual(['$0.000', '$0.005', '$0.010', '$0.015']);
    expect([0, 0.5, 1].map((v) => usdTick(v, 0.5))).toEqual(['$0.00', '$0.50', '$1.00']);
    expect(usdTick(20, 10)).toBe('$20.00');
    expect(signedPoints(0.125)).toBe('+12.5%');
    expect(signedPoints(-0.05)).toBe('−5.0%');
    expect(signedPoints(0)).toBe('0.0%');
    expect(signedPoints(-0.00001)).toBe('0.0%');
  });

  test('URLs: filters, the jobs behind a row, a task cell', () => {
    expect(readFilters(new URLSearchParams('version=v1&agent=%20&model=openai/gpt-5'))).toEqual({ version: 'v1', agent: null, model: 'openai/gpt-5' });
    expect(filtersHref('/datasets/d/leaderboard', { version: 'v1', agent: null, model: 'openai/gpt-5' })).toBe('/datasets/d/leaderboard?version=v1&model=openai%2Fgpt-5');
    expect(filtersHref('/datasets/d/heatmap', {})).toBe('/datasets/d/heatmap');
    expect(jobsHref({ agent: 'terminus-2', model: 'anthropic/claude sonnet' })).toBe('/jobs?agent=terminus-2&model=anthropic%2Fclaude+sonnet');
    expect(jobsHref({ agent: 'oracle', model: null })).toBe('/jobs?agent=oracle');
    expect(taskRunsHref('t1', { agent: 'terminus-2', model: 'openai/gpt-5' })).toBe('/tasks/t1?agent=terminus-2&model=openai%2Fgpt-5');
  });
});

describe('placeLabels', () => {
  const plot = { width: 400, height: 300 };
  test('right of the point when there is room, left near the right edge', () => {
    expect(placeLabels([{ x: 10, y: 100, width: 60 }], plot)).toEqual([{ x: 18, y: 94, anchor: 'start' }]);
    expect(placeLabels([{ x: 380, y: 100, width: 60 }], plot)).toEqual([{ x: 372, y: 94, anchor: 'end' }]);
  });
  test('a label that would overlap one placed above it moves below its point', () => {
    const [a, b] = placeLabels(
      [
        { x: 100, y: 100, width: 120 },
        { x: 110, y: 101, width: 120 },
      ],
      plot,
    );
    expect(a).toEqual({ x: 108, y: 94, anchor: 'start' });
    expect(b).toEqual({ x: 118, y: 117, anchor: 'start' });
  });
});

describe('heatmap', () => {
  const tasks = [
    { name: 'beta', meanPassRate: 0.5, disagreement: 0.5 },
    { name: 'alpha', meanPassRate: 1, disagreement: 0 },
    { name: 'gamma', meanPassRate: null, disagreement: null },
    { name: 'delta', meanPassRate: 0, disagreement: 0 },
    { name: 'eps', meanPassRate: 0.5, disagreement: 0.25 },
  ];
  const names = (list: typeof tasks) => list.map((t) => t.name);

  test('by name, by difficulty (hardest first), by disagreement (most disputed first); unrun tasks last', () => {
    expect(names(sortHeatmapTasks(tasks, 'name'))).toEqual(['alpha', 'beta', 'delta', 'eps', 'gamma']);
    expect(names(sortHeatmapTasks(tasks, 'name', true))).toEqual(['gamma', 'eps', 'delta', 'beta', 'alpha']);
    expect(names(sortHeatmapTasks(tasks, 'difficulty'))).toEqual(['delta', 'beta', 'eps', 'alpha', 'gamma']);
    expect(names(sortHeatmapTasks(tasks, 'difficulty', true))).toEqual(['alpha', 'beta', 'eps', 'delta', 'gamma']);
    expect(names(sortHeatmapTasks(tasks, 'disagreement'))).toEqual(['beta', 'eps', 'alpha', 'delta', 'gamma']);
  });

  test('cell colour runs from red to green, none when not run', () => {
    expect(heatColour(0)).toBe('hsl(0 70% var(--heat-lightness, 88%))');
    expect(heatColour(1)).toBe('hsl(120 70% var(--heat-lightness, 88%))');
    expect(heatColour(null)).toBeUndefined();
  });
});
