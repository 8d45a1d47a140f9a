// The leaderboard pages' pure logic: the table's columns and sort orders, how a row's numbers read,
// the URL parameters, the heatmap's orders and shading, and the Pareto front of the charts. Kept
// apart from the Svelte components so tests can check it without a browser.
import { count, duration, percent, usd } from '../format';

/** A pass@k or pass^k value for one k. */
export interface KValue {
  k: number;
  value: number | null;
}

/** The fields of a LeaderboardRow this logic reads (the GraphQL type has these names). */
export interface RowNumbers {
  key: string;
  rank: number | null;
  agent: string;
  model: string | null;
  agentVersion: string | null;
  complete: boolean;
  tasksCovered: number;
  taskCount: number;
  trials: number;
  accuracy: number | null;
  standardError: number | null;
  ci95Low: number | null;
  ci95High: number | null;
  passAt1: number | null;
  passAtK: readonly KValue[];
  passHatK: readonly KValue[];
  costPerTrial: number | null;
  costPerSuccess: number | null;
  tokensPerTrial: number | null;
  tokensPerSuccess: number | null;
  medianTrialSec: number | null;
  infrastructureErrorRate: number | null;
}

/** The columns a person can sort the leaderboard by. */
export type SortColumn =
  | 'rank'
  | 'agent'
  | 'model'
  | 'agentVersion'
  | 'tasksCovered'
  | 'trials'
  | 'accuracy'
  | 'passAt1'
  | 'passAtK'
  | 'passHatK'
  | 'costPerTrial'
  | 'costPerSuccess'
  | 'tokensPerTrial'
  | 'tokensPerSuccess'
  | 'medianTrialSec'
  | 'infrastructureErrorRate';

export interface Sort {
  column: SortColumn;
  descending: boolean;
}

/** The API's order: complete rows by rank, then incomplete rows as they came. */
export const DEFAULT_SORT: Sort = { column: 'rank', descending: false };

/** Text columns read A→Z first; for numbers the better end comes first (higher accuracy, lower cost). */
export function firstDirection(column: SortColumn): boolean {
  switch (column) {
    case 'rank':
    case 'agent':
    case 'model':
    case 'agentVersion':
    case 'costPerTrial':
    case 'costPerSuccess':
    case 'tokensPerTrial':
    case 'tokensPerSuccess':
    case 'medianTrialSec':
    case 'infrastructureErrorRate':
      return false;
    default:
      return true;
  }
}

/** pass@k / pass^k at one k; null when the row has no value for that k. */
export function atK(values: readonly KValue[], k: number): number | null {
  return values.find((v) => v.k === k)?.value ?? null;
}

/** Every k some row offers (the k chooser's options), ascending. */
export function availableKs(rows: readonly RowNumbers[]): number[] {
  const ks = new Set<number>();
  for (const row of rows) for (const v of row.passAtK) ks.add(v.k);
  return [...ks].sort((a, b) => a - b);
}

function sortValue(row: RowNumbers, column: SortColumn, k: number): string | number | null {
  switch (column) {
    case 'passAtK':
      return atK(row.passAtK, k);
    case 'passHatK':
      return atK(row.passHatK, k);
    case 'agent':
      return row.agent;
    case 'model':
      return row.model;
    case 'agentVersion':
      return row.agentVersion;
    default:
      return row[column];
  }
}

/**
 * Rows in the chosen order. Missing values (no model, no cost recorded, no rank) always go last,
 * whichever the direction, so a descending sort does not open with blanks; ties keep the API's order
 * (which ranks complete rows first).
 */
export function sortRows<R extends RowNumbers>(rows: readonly R[], sort: Sort, k = 1): R[] {
  const indexed = rows.map((row, index) => ({ row, index }));
  indexed.sort((a, b) => {
    const x = sortValue(a.row, sort.column, k);
    const y = sortValue(b.row, sort.column, k);
    if (x === null || y === null) return x === y ? a.index - b.index : x === null ? 1 : -1;
    const order = typeof x === 'string' && typeof y === 'string' ? x.localeCompare(y) : (x as number) - (y as number);
    return (sort.descending ? -order : order) || a.index - b.index;
  });
  return indexed.map((i) => i.row);
}

/** Ranked (complete) rows and the rows shown apart because they miss some of the dataset's tasks. */
export function splitRows<R extends RowNumbers>(rows: readonly R[]): { complete: R[]; incomplete: R[] } {
  return { complete: rows.filter((r) => r.complete), incomplete: rows.filter((r) => !r.complete) };
}

/**
 * "agent · model · version", the way a row is named in sentences, titles and chart labels. The API
 * says "unknown" for runs that recorded no agent version; the name leaves it out (the table's
 * agent version column still shows it).
 */
export function rowName(row: Pick<RowNumbers, 'agent' | 'model' | 'agentVersion'>): string {
  const version = row.agentVersion && row.agentVersion !== UNKNOWN_VERSION ? `v${row.agentVersion}` : null;
  return [row.agent, row.model ?? 'no model', version].filter(Boolean).join(' · ');
}

/** The agent version the API reports when the runs recorded none. */
export const UNKNOWN_VERSION = 'unknown';

/** Accuracy as "62.5% ± 4.1%", the standard error after the ±. */
export function accuracyText(row: Pick<RowNumbers, 'accuracy' | 'standardError'>): string {
  if (row.accuracy === null) return '—';
  const se = row.standardError === null ? '' : ` ± ${percent(row.standardError, 1)}`;
  return `${percent(row.accuracy, 1)}${se}`;
}

/** The 95% interval as "54.4–70.6%". */
export function intervalText(row: Pick<RowNumbers, 'ci95Low' | 'ci95High'>): string {
  if (row.ci95Low === null || row.ci95High === null) return '';
  return `${(row.ci95Low * 100).toFixed(1)}–${percent(row.ci95High, 1)}`;
}

/**
 * A dollar axis tick with as many decimals as the tick step needs, so neighbouring ticks never read
 * the same ($0.005, $0.010, $0.015 rather than usd()'s $0.01, $0.01, $0.02).
 */
export function usdTick(value: number, step: number): string {
  const decimals = step > 0 ? Math.min(6, Math.max(2, -Math.floor(Math.log10(step) + 1e-9))) : 2;
  return `$${value.toFixed(decimals)}`;
}

/** Tokens as whole numbers with separators ("12,345"). */
export const tokens = (value: number | null): string => count(value);

/** A trial time given in seconds, read like other durations. */
export const seconds = (value: number | null): string => (value === null ? '—' : duration(value * 1000));

export { percent, usd };

/** A p-value as people quote it: "< 0.001" or two significant digits. */
export function pValue(p: number | null): string {
  if (p === null) return '—';
  return p < 0.001 ? '< 0.001' : `${Number(p.toPrecision(2))}`;
}

/** A signed percentage point difference (−5.0, +12.5); 0 has no sign. */
export function signedPoints(value: number | null, digits = 1): string {
  if (value === null) return '—';
  const text = percent(Math.abs(value), digits);
  if (Number(Math.abs(value * 100).toFixed(digits)) === 0) return percent(0, digits);
  return `${value < 0 ? '−' : '+'}${text}`;
}

// --- URL parameters -------------------------------------------------------------------------------

/** The filters a leaderboard or heatmap URL carries: ?version=&agent=&model=. Blank means none. */
export interface Filters {
  version: string | null;
  agent: string | null;
  model: string | null;
}

export function readFilters(params: URLSearchParams): Filters {
  const get = (name: string) => params.get(name)?.trim() || null;
  return { version: get('version'), agent: get('agent'), model: get('model') };
}

/** The page's URL for these filters; empty ones are left out so links stay short. */
export function filtersHref(path: string, filters: Partial<Filters>): string {
  const params = new URLSearchParams();
  for (const name of ['version', 'agent', 'model'] as const) {
    const value = filters[name];
    if (value) params.set(name, value);
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

/** The jobs list filtered to one row's agent and model: where the row's trials come from. */
export function jobsHref(row: Pick<RowNumbers, 'agent' | 'model'>): string {
  const params = new URLSearchParams({ agent: row.agent });
  if (row.model) params.set('model', row.model);
  return `/jobs?${params}`;
}

/** One task's runs under one agent and model (the task page filters by these). */
export function taskRunsHref(taskId: string, column: { agent: string; model: string | null }): string {
  const params = new URLSearchParams({ agent: column.agent });
  if (column.model) params.set('model', column.model);
  return `/tasks/${taskId}?${params}`;
}

// --- Heatmap ---------------------------------------------------------------------------------------

export interface HeatmapTaskNumbers {
  name: string;
  meanPassRate: number | null;
  disagreement: number | null;
}

export type HeatmapOrder = 'name' | 'difficulty' | 'disagreement';

/**
 * Heatmap rows: by name (A→Z), by difficulty (hardest first: lowest mean pass rate over the columns)
 * or by disagreement (most disputed first). Tasks nobody ran go last; ties fall back to the name.
 * `reverse` flips the order of the tasks that have a value.
 */
export function sortHeatmapTasks<T extends HeatmapTaskNumbers>(tasks: readonly T[], order: HeatmapOrder, reverse = false): T[] {
  const byName = (a: T, b: T) => a.name.localeCompare(b.name);
  if (order === 'name') return [...tasks].sort((a, b) => (reverse ? byName(b, a) : byName(a, b)));
  const value = (t: T) => (order === 'difficulty' ? t.meanPassRate : t.disagreement);
  // Hardest first means ascending pass rate; most disagreement first means descending.
  const sign = (order === 'difficulty' ? 1 : -1) * (reverse ? -1 : 1);
  return [...tasks].sort((a, b) => {
    const x = value(a);
    const y = value(b);
    if (x === null || y === null) return x === y ? byName(a, b) : x === null ? 1 : -1;
    return sign * (x - y) || byName(a, b);
  });
}

/**
 * A cell's background from red (0%) through amber to green (100%). The lightness is a CSS variable
 * (--heat-lightness, light theme 88%) so a dark theme can darken cells and keep the text readable;
 * the number in the cell carries the meaning, the colour only helps scanning.
 */
export function heatColour(passRate: number | null): string | undefined {
  if (passRate === null) return undefined;
  return `hsl(${Math.round(passRate * 120)} 70% var(--heat-lightness, 88%))`;
}

// --- Pareto front ----------------------------------------------------------------------------------

export interface Point {
  /** Cost per trial or median trial time: lower is better. */
  x: number;
  /** Accuracy: higher is better. */
  y: number;
}

/**
 * Which points lie on the Pareto front: a point is on it when no other point is at least as cheap
 * (or fast) and at least as accurate while strictly better in one of the two. Equal points are both
 * on the front. Returns one flag per point, in input order. O(n log n): sweep by x, keeping the best
 * y seen at strictly lower x.
 */
export function paretoFront(points: readonly Point[]): boolean[] {
  const order = points.map((_, i) => i).sort((a, b) => points[a]!.x - points[b]!.x || points[b]!.y - points[a]!.y);
  const onFront = new Array<boolean>(points.length).fill(false);
  let best = -Infinity; // the highest y among points with a strictly lower x
  let i = 0;
  while (i < order.length) {
    // Points with the same x form a group: within it only the highest y can survive (and its ties).
    const x = points[order[i]!]!.x;
    let j = i;
    while (j < order.length && points[order[j]!]!.x === x) j++;
    const top = points[order[i]!]!.y; // the group is sorted by y descending
    for (let g = i; g < j; g++) {
      const y = points[order[g]!]!.y;
      onFront[order[g]!] = y === top && y > best;
    }
    best = Math.max(best, top);
    i = j;
  }
  return onFront;
}

/** The front's points joined left to right, as a staircase a chart can draw (x ascending). */
export function frontSteps(points: readonly Point[], onFront: readonly boolean[]): Point[] {
  const front = points.filter((_, i) => onFront[i]).sort((a, b) => a.x - b.x || a.y - b.y);
  const steps: Point[] = [];
  for (const p of front) {
    const last = steps.at(-1);
    // Between two front points the best accuracy available at the cost is the left one's: step right, then up.
    if (last && p.x !== last.x) steps.push({ x: p.x, y: last.y });
    steps.push(p);
  }
  return steps;
}

// --- Chart labels ----------------------------------------------------------------------------------

export interface LabelBox {
  /** The point, in pixels. */
  x: number;
  y: number;
  /** The label's estimated width in pixels. */
  width: number;
}

export interface PlacedLabel {
  x: number;
  /** The text's baseline. */
  y: number;
  anchor: 'start' | 'end';
}

const LABEL_HEIGHT = 12;
const GAP = 8;

/**
 * Where each point's label goes: above right, below right, above left or below left of its point,
 * whichever first stays inside the plot and clear of the labels already placed (points from the top
 * down). When none is clear the first that fits the plot wins: a crowded chart still has its table.
 */
export function placeLabels(points: readonly LabelBox[], plot: { width: number; height: number }): PlacedLabel[] {
  const order = points.map((_, i) => i).sort((a, b) => points[a]!.y - points[b]!.y || points[a]!.x - points[b]!.x);
  const boxes: { left: number; right: number; top: number; bottom: number }[] = [];
  const placed = new Array<PlacedLabel>(points.length);
  for (const i of order) {
    const p = points[i]!;
    const candidates: PlacedLabel[] = [
      { x: p.x + GAP, y: p.y - 6, anchor: 'start' },
      { x: p.x + GAP, y: p.y + LABEL_HEIGHT + 4, anchor: 'start' },
      { x: p.x - GAP, y: p.y - 6, anchor: 'end' },
      { x: p.x - GAP, y: p.y + LABEL_HEIGHT + 4, anchor: 'end' },
    ];
    const box = (c: PlacedLabel) => {
      const left = c.anchor === 'start' ? c.x : c.x - p.width;
      return { left, right: left + p.width, top: c.y - LABEL_HEIGHT + 2, bottom: c.y + 2 };
    };
    const inside = (c: PlacedLabel) => {
      const b = box(c);
      return b.left >= 0 && b.right <= plot.width && b.top >= -4 && b.bottom <= plot.height;
    };
    const clear = (c: PlacedLabel) => {
      const b = box(c);
      return boxes.every((o) => b.right <= o.left || b.left >= o.right || b.bottom <= o.top || b.top >= o.bottom);
    };
    const choice = candidates.find((c) => inside(c) && clear(c)) ?? candidates.find(inside) ?? candidates[0]!;
    boxes.push(box(choice));
    placed[i] = choice;
  }
  return placed;
}
