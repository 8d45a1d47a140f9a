// What /runs/compare shows: two attempts of one task (compareRuns), and their tests side by side.
import { STEP_FIELDS, type StepView } from '$lib/trajectory/model';

export interface SideRun {
  id: string;
  status: string;
  reward: number | null;
  repeat: number;
  attempt: number;
  exceptionType: string | null;
  task: { id: string; name: string };
  job: { id: string; name: string; agent: string; model: string | null };
}

export interface Comparison {
  a: SideRun;
  b: SideRun;
  steps: { index: number; a: StepView | null; b: StepView | null; diverges: boolean }[];
  firstDivergence: { stepIndex: number | null; kind: 'COMMANDS' | 'LENGTH' | 'OUTCOME'; reason: string } | null;
  trajectoryNoteA: string | null;
  trajectoryNoteB: string | null;
}

const SIDE = 'id status reward repeat attempt exceptionType task { id name } job { id name agent model }';

export const COMPARE_RUNS = `query CompareRuns($a: ID!, $b: ID!) {
  compareRuns(a: $a, b: $b) {
    __typename
    ... on QueryCompareRunsSuccess { data {
      a { ${SIDE} } b { ${SIDE} }
      steps { index diverges a { ${STEP_FIELDS} } b { ${STEP_FIELDS} } }
      firstDivergence { stepIndex kind reason }
      trajectoryNoteA trajectoryNoteB
    } }
    ... on Error { code message }
  }
}`;

export interface TestCase {
  name: string;
  status: string;
  message: string | null;
}

export const RUN_TESTS = `query RunTestsPair($a: ID!, $b: ID!) {
  a: run(id: $a) { tests { name status message } }
  b: run(id: $b) { tests { name status message } }
}`;

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
