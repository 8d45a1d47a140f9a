// What every reader of a verifier's results produces: cases in the report's order, counted and
// bounded to TEST_LIMITS, so one reader's output looks like any other's on the wire.
import { TEST_LIMITS, type TestCase, type TestResults } from '../../protocol/messages.js';

export type Status = TestCase['status'];
export type Source = NonNullable<TestResults['source']>;

export interface RawCase {
  name: string;
  status: Status;
  durationMs?: number;
  message?: string;
}

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  total: number;
}

/** A report that exists but cannot be used; its message is shown to people. */
export class TestReportError extends Error {
  override name = 'TestReportError';
}

export function countCases(cases: RawCase[]): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0, total: cases.length };
  for (const c of cases) {
    if (c.status === 'PASSED') counts.passed += 1;
    else if (c.status === 'FAILED') counts.failed += 1;
    else if (c.status === 'SKIPPED') counts.skipped += 1;
  }
  return counts;
}

export function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Seconds (a float, as most runners print them) to whole milliseconds; undefined for nonsense. */
export function secondsToMs(seconds: number | string | undefined | null): number | undefined {
  const n = typeof seconds === 'string' ? Number(seconds) : seconds;
  return n === undefined || n === null || !Number.isFinite(n) || n < 0 ? undefined : Math.round(n * 1000);
}

/** `a; b` of the parts that are there, bounded for the wire. */
export function joinNotes(...parts: (string | null | undefined | false)[]): string | undefined {
  const text = parts.filter(Boolean).join('; ');
  return text ? cut(text, TEST_LIMITS.noteChars) : undefined;
}

/**
 * Applies TEST_LIMITS. Beyond 1,000 cases the failures are kept first (they are what people open a
 * run for), then passes, in the report's order; messages stop once their budget is spent. `counts`
 * overrides counting the cases, for reports whose totals cover more than their list.
 */
export function bound(source: Source, rawCases: RawCase[], notes: string[], counts: Counts = countCases(rawCases)): TestResults {
  let kept = rawCases;
  if (kept.length > TEST_LIMITS.cases) {
    const order = kept.map((c, i) => ({ c, i }));
    const chosen = [...order.filter((x) => x.c.status !== 'PASSED'), ...order.filter((x) => x.c.status === 'PASSED')]
      .slice(0, TEST_LIMITS.cases)
      .sort((a, b) => a.i - b.i);
    kept = chosen.map((x) => x.c);
    notes.push(`${kept.length} of ${rawCases.length} tests kept (failures first): a run stores at most ${TEST_LIMITS.cases}`);
  }
  let budget: number = TEST_LIMITS.messagesChars;
  let dropped = 0;
  const cases = kept.map((c): TestCase => {
    const out: TestCase = { name: cut(c.name, TEST_LIMITS.nameChars), status: c.status };
    if (c.durationMs !== undefined) out.durationMs = c.durationMs;
    if (c.message) {
      const message = cut(c.message, TEST_LIMITS.messageChars);
      if (message.length <= budget) {
        out.message = message;
        budget -= message.length;
      } else dropped += 1;
    }
    return out;
  });
  if (dropped > 0) notes.push(`${dropped} failure message(s) left out: a run stores at most ${TEST_LIMITS.messagesChars.toLocaleString('en')} characters of them`);
  const note = joinNotes(...notes);
  return { source, ...counts, cases, ...(note ? { note } : {}) };
}
