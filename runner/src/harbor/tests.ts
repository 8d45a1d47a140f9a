// Per-test results of a trial (harbor-contract.md §9): verifier/ctrf.json when it can be read, else
// the pytest `-rA` summary lines of verifier/test-stdout.txt. Read once, after Harbor has exited, for
// every outcome that got as far as the verifier. Never throws: an unreadable report becomes a note
// on the run, which still records.
//
// A malformed ctrf.json falls back to the pytest lines too (with the note saying why), because
// test.sh's stdout is written by the same pytest run and a list with a caveat beats no list.
import { open } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TEST_LIMITS, type TestCase, type TestResults } from '../protocol/messages.js';

export const CTRF_FILE = 'verifier/ctrf.json';
export const TEST_STDOUT_FILE = 'verifier/test-stdout.txt';
/** A ctrf.json beyond this is not parsed: 1,000 tests with long traces is a few MiB. */
export const MAX_CTRF_BYTES = 16 * 1024 * 1024;
/** Only the end of test-stdout.txt is read: the summary comes last, and a chatty build can log gigabytes before it. */
export const STDOUT_TAIL_BYTES = 4 * 1024 * 1024;

type Status = TestCase['status'];

interface RawCase {
  name: string;
  status: Status;
  durationMs?: number;
  message?: string;
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  total: number;
}

/** A report that exists but cannot be used; `reason` is shown to people. */
export class TestReportError extends Error {
  override name = 'TestReportError';
}

// CTRF, tolerant: unknown keys are ignored, a field of the wrong type is dropped, not fatal.
const optionalNumber = z.number().nonnegative().optional().catch(undefined);
const optionalText = z.string().nullish().catch(undefined);
const ctrfTestSchema = z.object({
  name: z.string().min(1),
  status: z.string().catch('other'),
  duration: optionalNumber,
  message: optionalText,
  trace: optionalText,
});
const ctrfSchema = z.object({
  results: z.object({
    summary: z
      .object({ tests: optionalNumber, passed: optionalNumber, failed: optionalNumber, skipped: optionalNumber, pending: optionalNumber, other: optionalNumber })
      .nullish()
      .catch(undefined),
    tests: z.array(z.unknown()).nullish(),
  }),
});

const CTRF_STATUS: Record<string, Status> = { passed: 'PASSED', failed: 'FAILED', skipped: 'SKIPPED', pending: 'SKIPPED', other: 'OTHER' };

/** Parses a ctrf.json; throws TestReportError naming what is wrong. */
export function parseCtrf(text: string): TestResults {
  if (text.trim() === '') throw new TestReportError('the file is empty');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new TestReportError(`it is not complete JSON (${(error as Error).message})`);
  }
  const parsed = ctrfSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TestReportError(`it is not a CTRF report (${issue.path.join('.') || '(root)'}: ${issue.message})`);
  }
  const { summary, tests } = parsed.data.results;
  const cases: RawCase[] = [];
  let unnamed = 0;
  for (const entry of tests ?? []) {
    const test = ctrfTestSchema.safeParse(entry);
    if (!test.success) {
      unnamed += 1;
      continue;
    }
    const { name, status, duration, message, trace } = test.data;
    const mapped = CTRF_STATUS[status.toLowerCase()] ?? 'OTHER';
    cases.push({
      name,
      status: mapped,
      ...(duration !== undefined ? { durationMs: Math.round(duration) } : {}),
      // A passing test's message is noise; a failure without a message still has its trace.
      ...(mapped !== 'PASSED' && (message || trace) ? { message: (message || trace)! } : {}),
    });
  }
  const notes: string[] = [];
  if (unnamed > 0) notes.push(`${unnamed} entr${unnamed === 1 ? 'y' : 'ies'} of ${CTRF_FILE} without a name left out`);
  let counts = countCases(cases);
  if (cases.length === 0 && summary?.tests) {
    // A report with a summary but no list: the counts are still worth having.
    counts = {
      passed: summary.passed ?? 0,
      failed: summary.failed ?? 0,
      skipped: (summary.skipped ?? 0) + (summary.pending ?? 0),
      total: summary.tests,
    };
    notes.push(`${CTRF_FILE} has counts but no list of tests`);
  }
  return bound({ source: 'ctrf', ...counts, cases }, notes);
}

const SUMMARY_HEADER = /^=+ short test summary info =+$/;
const RESULT_LINE = /^(PASSED|FAILED|ERROR|XFAIL|XPASS) (.+)$/;
// `SKIPPED [2] tests/test_x.py:12: reason`: pytest groups skips by location, not by test.
const SKIPPED_LINE = /^SKIPPED \[(\d+)\] (.+?): (.*)$/;
// `=== 2 failed, 3 passed, 1 warning in 0.12s ===`, also `=== no tests ran in 0.01s ===`.
const FINAL_LINE = /^=+ (.+) in [\d.]+s(?: \([^)]*\))? =+$/;
const PYTEST_STATUS: Record<string, Status> = { PASSED: 'PASSED', FAILED: 'FAILED', ERROR: 'FAILED', XFAIL: 'OTHER', XPASS: 'OTHER' };

/**
 * The pytest summary of a test-stdout.txt: the status lines after the last "short test summary
 * info" header (the whole text when there is none), and the counts of the final `=== … in Ns ===`
 * line, which also covers tests the summary does not list (without -rA it lists failures only).
 * null when the text has neither.
 */
export function parsePytestSummary(text: string): TestResults | null {
  const lines = text.split(/\r?\n/);
  let from = 0;
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    if (SUMMARY_HEADER.test(lines[i]!)) {
      from = i + 1;
      break;
    }
  }
  const cases: RawCase[] = [];
  let finalCounts: Counts | null = null;
  for (let i = from; i < lines.length; i += 1) {
    const line = lines[i]!.trimEnd();
    const skipped = SKIPPED_LINE.exec(line);
    if (skipped) {
      cases.push({ name: skipped[2]!, status: 'SKIPPED', message: skipped[3]! });
      continue;
    }
    const result = RESULT_LINE.exec(line);
    if (result) {
      const { name, message } = splitMessage(result[2]!);
      cases.push({ name, status: PYTEST_STATUS[result[1]!]!, ...(message ? { message } : {}) });
      continue;
    }
    const final = FINAL_LINE.exec(line);
    if (final) finalCounts = countsOfFinalLine(final[1]!);
  }
  // A summary header with nothing after it, and no final line: a run cut short.
  if (cases.length === 0 && !finalCounts) return null;
  return bound({ source: 'pytest', ...(finalCounts ?? countCases(cases)), cases }, []);
}

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

function countCases(cases: RawCase[]): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0, total: cases.length };
  for (const c of cases) {
    if (c.status === 'PASSED') counts.passed += 1;
    else if (c.status === 'FAILED') counts.failed += 1;
    else if (c.status === 'SKIPPED') counts.skipped += 1;
  }
  return counts;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Applies TEST_LIMITS. Beyond 1,000 cases the failures are kept first (they are what people open a
 * run for), then passes, in the report's order; messages stop once their budget is spent.
 */
function bound(results: Counts & { source: TestResults['source']; cases: RawCase[] }, notes: string[]): TestResults {
  let kept = results.cases;
  if (kept.length > TEST_LIMITS.cases) {
    const order = kept.map((c, i) => ({ c, i }));
    const chosen = [...order.filter((x) => x.c.status !== 'PASSED'), ...order.filter((x) => x.c.status === 'PASSED')]
      .slice(0, TEST_LIMITS.cases)
      .sort((a, b) => a.i - b.i);
    kept = chosen.map((x) => x.c);
    notes.push(`${kept.length} of ${results.cases.length} tests kept (failures first): a run stores at most ${TEST_LIMITS.cases}`);
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
  const { passed, failed, skipped, total, source } = results;
  return { source, passed, failed, skipped, total, cases, ...(notes.length ? { note: cut(notes.join('; '), TEST_LIMITS.noteChars) } : {}) };
}

/** Up to `max` bytes of a file (its end when `tail`), or null when it does not exist. */
async function readBounded(file: string, max: number, tail: boolean): Promise<{ text: string; size: number } | null> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, max);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, tail ? size - length : 0);
    return { text: buffer.subarray(0, bytesRead).toString('utf8'), size };
  } finally {
    await handle.close();
  }
}

/**
 * The tests of a finished trial, or null when the verifier left neither file (it never ran, or the
 * task does not use pytest). Unreadable files give a result with a note, and `source: null` when no
 * test could be read at all.
 */
export async function readTrialTests(trialDir: string): Promise<TestResults | null> {
  let problem: string | null = null;
  let sawFile = false;
  try {
    const ctrf = await readBounded(path.join(trialDir, CTRF_FILE), MAX_CTRF_BYTES, false);
    if (ctrf) {
      sawFile = true;
      if (ctrf.size > MAX_CTRF_BYTES) throw new TestReportError(`it is ${ctrf.size} bytes, more than the ${MAX_CTRF_BYTES} read`);
      return parseCtrf(ctrf.text);
    }
  } catch (error) {
    problem = `${CTRF_FILE} could not be read: ${error instanceof TestReportError ? error.message : (error as Error).message}`;
  }
  try {
    const stdout = await readBounded(path.join(trialDir, TEST_STDOUT_FILE), STDOUT_TAIL_BYTES, true);
    if (stdout) {
      sawFile = true;
      const results = parsePytestSummary(stdout.text);
      if (results) {
        const note = [problem && `${problem}; tests taken from pytest's summary in ${TEST_STDOUT_FILE}`, results.note].filter(Boolean).join('; ');
        return { ...results, ...(note ? { note: cut(note, TEST_LIMITS.noteChars) } : {}) };
      }
      problem = [problem, `${TEST_STDOUT_FILE} has no pytest summary`].filter(Boolean).join('; ');
    }
  } catch (error) {
    problem = [problem, `${TEST_STDOUT_FILE} could not be read: ${(error as Error).message}`].filter(Boolean).join('; ');
  }
  if (!sawFile && !problem) return null;
  return { source: null, passed: 0, failed: 0, skipped: 0, total: 0, cases: [], note: cut(problem ?? 'no test results', TEST_LIMITS.noteChars) };
}
