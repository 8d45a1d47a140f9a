// What the compare page reads from compareJobs, and the small pure logic around it: the sentence
// that states a difference, the grid's sort orders and cell shading, and the `jobs` URL parameter.
import { percent } from '../format';
import { graphql, type ResultOf } from '../graphql/graphql';

export const MIN_JOBS = 2;
export const MAX_JOBS = 10;

export const JobComparisonFields = graphql(`
  fragment JobComparison on JobComparison {
    includesInfrastructure
    jobs {
      job { id name agent model status }
      runs scored passed passRate passRateLow passRateHigh costUsd costPerPass
      vsBaseline { commonTasks passRateDifference passRateDifferenceLow passRateDifferenceHigh onlyBaselinePasses onlyThisPasses mcnemarP }
    }
    tasks { task { id name } results { runs scored passed passRate differenceVsBaseline } }
  }
`);

export type JobComparison = ResultOf<typeof JobComparisonFields>;
export type ComparedJob = JobComparison['jobs'][number];
export type BaselineDifference = NonNullable<ComparedJob['vsBaseline']>;
export type ComparedTask = JobComparison['tasks'][number];
export type TaskResult = NonNullable<ComparedTask['results'][number]>;

/** Job ids from `?jobs=a,b,c`: trimmed, empties dropped, each once, in order. */
export function parseJobsParam(value: string | null): string[] {
  const ids = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return [...new Set(ids)];
}

export function compareHref(ids: readonly string[]): string {
  return `/compare?jobs=${ids.join(',')}`;
}

/** A p-value as people quote it: two significant digits, or "< 0.001". */
export function pValue(p: number): string {
  if (p < 0.001) return '< 0.001';
  return `= ${Number(p.toPrecision(2))}`;
}

/** A signed percentage (−5%, +12%); 0% has no sign. */
export function signedPercent(value: number): string {
  const text = percent(Math.abs(value));
  if (text === '0%') return text;
  return `${value < 0 ? '−' : '+'}${text}`;
}

/**
 * The difference in words, e.g. "B passes 12% more of the common tasks than A (95% CI 3% to 21%);
 * McNemar exact p = 0.03 on 40 common tasks."
 */
export function describeDifference(name: string, baselineName: string, d: BaselineDifference): string {
  if (d.commonTasks === 0 || d.passRateDifference === null) {
    return `${name} and ${baselineName} have no task with a scored run in both, so they cannot be compared yet.`;
  }
  const amount = percent(Math.abs(d.passRateDifference));
  const direction =
    amount === '0%' ? `passes as many of the common tasks as ${baselineName}` : `passes ${amount} ${d.passRateDifference > 0 ? 'more' : 'fewer'} of the common tasks than ${baselineName}`;
  const interval =
    d.passRateDifferenceLow !== null && d.passRateDifferenceHigh !== null
      ? ` (95% CI ${signedPercent(d.passRateDifferenceLow)} to ${signedPercent(d.passRateDifferenceHigh)})`
      : '';
  const test = d.mcnemarP === null ? '' : `; McNemar exact p ${pValue(d.mcnemarP)}`;
  return `${name} ${direction}${interval}${test} on ${d.commonTasks} common task${d.commonTasks === 1 ? '' : 's'}.`;
}

export type SortKey = { by: 'name' } | { by: 'difference'; column: number };

/** Tasks by name, or by one job's difference from the baseline (largest gain first; no difference last). */
export function sortTasks(tasks: readonly ComparedTask[], key: SortKey, descending: boolean): ComparedTask[] {
  const byName = (a: ComparedTask, b: ComparedTask) => a.task.name.localeCompare(b.task.name);
  if (key.by === 'name') return [...tasks].sort((a, b) => (descending ? -byName(a, b) : byName(a, b)));
  const diff = (t: ComparedTask) => t.results[key.column]?.differenceVsBaseline ?? null;
  return [...tasks].sort((a, b) => {
    const x = diff(a);
    const y = diff(b);
    if (x === null || y === null) return x === y ? byName(a, b) : x === null ? 1 : -1;
    return (descending ? y - x : x - y) || byName(a, b);
  });
}

/** Cell shading from red (0%) through amber to green (100%); the number in the cell carries the meaning. */
export function shade(passRate: number | null): string | undefined {
  if (passRate === null) return undefined;
  return `hsl(${Math.round(passRate * 120)} 70% 88%)`;
}
