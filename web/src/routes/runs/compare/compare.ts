// What /runs/compare shows: two attempts of one task (compareRuns), and their tests side by side.
import { graphql, type ResultOf } from '$lib/graphql/graphql';
import { ErrorFields } from '$lib/graphql/ops';
import { StepFields } from '$lib/trajectory/model';

const SideRun = graphql(`
  fragment SideRun on Run { id status reward repeat attempt exceptionType task { id name } job { id name agent model } }
`);

export const COMPARE_RUNS = graphql(
  `query CompareRuns($a: ID!, $b: ID!) {
    compareRuns(a: $a, b: $b) {
      __typename
      ... on QueryCompareRunsSuccess { data {
        a { ...SideRun } b { ...SideRun }
        steps { index diverges a { ...Step } b { ...Step } }
        firstDivergence { stepIndex kind reason }
        trajectoryNoteA trajectoryNoteB
      } }
      ...ErrorFields
    }
  }`,
  [SideRun, StepFields, ErrorFields],
);

export type Comparison = Extract<ResultOf<typeof COMPARE_RUNS>['compareRuns'], { data: unknown }>['data'];

export const RUN_TESTS = graphql(`
  query RunTestsPair($a: ID!, $b: ID!) {
    a: run(id: $a) { tests { name status message } }
    b: run(id: $b) { tests { name status message } }
  }
`);

export type TestCase = NonNullable<ResultOf<typeof RUN_TESTS>['a']>['tests'][number];

export interface TestRow {
  name: string;
  a: TestCase | null;
  b: TestCase | null;
  differs: boolean;
}

/** Tests of both runs by name, those whose status differs first. */
export function pairTests(a: TestCase[], b: TestCase[]): TestRow[] {
  const names = [...new Set([...a.map((t) => t.name), ...b.map((t) => t.name)])];
  const byA = new Map(a.map((t) => [t.name, t]));
  const byB = new Map(b.map((t) => [t.name, t]));
  return names
    .map((name) => {
      const ta = byA.get(name) ?? null;
      const tb = byB.get(name) ?? null;
      return { name, a: ta, b: tb, differs: ta?.status !== tb?.status };
    })
    .sort((x, y) => Number(y.differs) - Number(x.differs) || x.name.localeCompare(y.name));
}
