// pytest's output in verifier/test-stdout.txt (harbor-contract.md §9): the verbose progress lines
// (`path::name PASSED [ 8%]`, printed with -v, and by TB2's test.sh runs when pytest's output is not
// a terminal), the `-rA` short summary (`PASSED path::name`, `FAILED path::name - message`) and
// the final `=== 2 failed, 3 passed in 0.12s ===` line. Any of them may be missing.
import type { TestResults } from '../../protocol/messages.js';
import { bound, type Counts, type RawCase, type Status } from './report.js';

const SUMMARY_HEADER = /^=+ short test summary info =+$/;
const RESULT_LINE = /^(PASSED|FAILED|ERROR|XFAIL|XPASS) (.+)$/;
// `SKIPPED [2] tests/test_x.py:12: reason`: pytest groups skips by location, not by test.
const SKIPPED_LINE = /^SKIPPED \[(\d+)\] (.+?): (.*)$/;
// `=== 2 failed, 3 passed, 1 warning in 0.12s ===`, also `=== no tests ran in 0.01s ===`.
const FINAL_LINE = /^=+ (.+) in [\d.]+s(?: \([^)]*\))? =+$/;
// `tests/test_outputs.py::test_x[a b] PASSED    [ 8%]`, `… SKIPPED (needs network) [ 50%]`.
const PROGRESS_LINE = /^(\S+?\.py::\S.*?) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)(?: \((.*)\))?\s+\[\s*\d+%\]$/;
const PYTEST_STATUS: Record<string, Status> = { PASSED: 'PASSED', FAILED: 'FAILED', ERROR: 'FAILED', SKIPPED: 'SKIPPED', XFAIL: 'OTHER', XPASS: 'OTHER' };

/** `path::test[param - x] - AssertionError: …`: the message starts at the first " - " outside brackets. */
function splitMessage(rest: string): { name: string; message: string | null } {
  let depth = 0;
  for (let i = 0; i < rest.length; i += 1) {
    const c = rest[i];
    if (c === '[') depth += 1;
    else if (c === ']') depth = Math.max(0, depth - 1);
    else if (depth === 0 && rest.startsWith(' - ', i)) return { name: rest.slice(0, i), message: rest.slice(i + 3) };
  }
  return { name: rest, message: null };
}

function countsOfFinalLine(text: string): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0, total: 0 };
  for (const part of text.split(',')) {
    const m = /(\d+) (\w+)/.exec(part.trim());
    if (!m) continue;
    const n = Number(m[1]);
    const kind = m[2]!;
    if (kind === 'passed') counts.passed += n;
    else if (kind === 'failed' || kind === 'error' || kind === 'errors') counts.failed += n;
    else if (kind === 'skipped') counts.skipped += n;
    else if (kind !== 'xfailed' && kind !== 'xpassed') continue; // warnings, deselected, rerun: not tests
    counts.total += n;
  }
  return counts;
}

/**
 * The tests of a pytest run: one case per progress line (a test whose teardown errs after it passed
 * shows twice and counts as failed), with the messages of the short summary; without progress
 * lines, the summary's own lines. Counts come from the final line when there is one (without -rA
 * the summary lists failures only). null when the text has none of pytest's result lines.
 */
export function parsePytest(text: string): TestResults | null {
  const lines = text.split(/\r?\n/);
  let summaryFrom = -1;
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    if (SUMMARY_HEADER.test(lines[i]!)) {
      summaryFrom = i + 1;
      break;
    }
  }
  const progress = new Map<string, RawCase>();
  const summary: RawCase[] = [];
  let finalCounts: Counts | null = null;
  let collectionErrors = 0;
  lines.forEach((raw, i) => {
    const line = raw.trimEnd();
    const step = PROGRESS_LINE.exec(line);
    if (step) {
      const status = PYTEST_STATUS[step[2]!]!;
      const seen = progress.get(step[1]!);
      if (!seen) progress.set(step[1]!, { name: step[1]!, status, ...(step[3] ? { message: step[3] } : {}) });
      else if (status === 'FAILED') seen.status = 'FAILED';
      return;
    }
    const final = FINAL_LINE.exec(line);
    if (final) finalCounts = countsOfFinalLine(final[1]!);
    // Summary lines only after its header (or anywhere when there is none: a cut-off output).
    if (i < summaryFrom && summaryFrom !== -1) return;
    const skipped = SKIPPED_LINE.exec(line);
    if (skipped) {
      summary.push({ name: skipped[2]!, status: 'SKIPPED', message: skipped[3]! });
      return;
    }
    const result = RESULT_LINE.exec(line);
    if (result) {
      const { name, message } = splitMessage(result[2]!);
      // A test is `path::name`. `ERROR tests/test_x.py - ImportError…` is a file that could not be
      // collected; anything else (unittest's `FAILED (failures=1)`) is not pytest's.
      if (!name.includes('::')) {
        if (result[1] === 'ERROR' && name.endsWith('.py')) collectionErrors += 1;
        return;
      }
      summary.push({ name, status: PYTEST_STATUS[result[1]!]!, ...(message ? { message } : {}) });
    }
  });
  let cases: RawCase[];
  if (progress.size > 0) {
    // The summary adds the failure messages, and tests whose progress line was lost in other output.
    for (const entry of summary) {
      const seen = progress.get(entry.name);
      if (seen) {
        if (entry.message && entry.status !== 'PASSED') seen.message = entry.message;
      } else if (entry.status !== 'SKIPPED') progress.set(entry.name, entry);
    }
    cases = [...progress.values()];
  } else cases = summary;
  // A summary header with nothing after it, and no final line: a run cut short. Only collection
  // errors: pytest never got to a test (crash.ts tells why).
  if (cases.length === 0 && (!finalCounts || collectionErrors > 0)) return null;
  return bound('pytest', cases, [], finalCounts ?? undefined);
}
