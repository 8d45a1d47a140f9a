// Per-test results of a trial (harbor-contract.md §9), read once after Harbor has exited, for every
// outcome that got as far as the verifier. Readers in order of preference — report files first,
// because they were written for machines: verifier/ctrf.json → JUnit XML anywhere under verifier/
// → jest/vitest JSON → `go test -json` → the test runner's lines in verifier/test-stdout.txt
// (pytest, unittest -v, go test -v, cargo test / nextest). The first reader that finds a test wins;
// the note names it and what could not be read before it. Never throws: an unreadable report
// becomes a note on the run, which still records.
import path from 'node:path';
import { TRIAL_FILES } from '../../protocol/layout.js';
import { TEST_LIMITS, type TestResults } from '../../protocol/messages.js';
import { parseCargo } from './cargo.js';
import { CTRF_FILE, parseCtrf } from './ctrf.js';
import { findVerifierCrash } from './crash.js';
import { listVerifierReports, readBounded } from './files.js';
import { parseGoJson, parseGoVerbose } from './go.js';
import { isJestReport, parseJest } from './jest.js';
import { parseJunitCases } from './junit.js';
import { parsePytest } from './pytest.js';
import { bound, joinNotes, type RawCase, TestReportError } from './report.js';
import { parseUnittest } from './unittest.js';

export { CTRF_FILE, parseCtrf } from './ctrf.js';
export { findVerifierCrash } from './crash.js';
export { parseGoJson, parseGoVerbose } from './go.js';
export { parseJest } from './jest.js';
export { parseJunit } from './junit.js';
export { parsePytest } from './pytest.js';
export { TestReportError } from './report.js';
export { parseUnittest } from './unittest.js';
export { parseCargo } from './cargo.js';

/**
 * test.sh's output. Harbor 0.22 sends stdout and stderr both to test-stdout.txt; it still names a
 * test-stderr.txt (TrialPaths.test_stderr_path, read by its viewer), which is read too when there.
 */
export const TEST_OUTPUT_FILES = [TRIAL_FILES.testStdout, TRIAL_FILES.testStderr] as const;
/** A report beyond this is not parsed: 1,000 tests with long traces is a few MiB. */
export const MAX_REPORT_BYTES = 16 * 1024 * 1024;
/** Only the end of test-stdout.txt is read: results come last, and a chatty build can log gigabytes before it. */
export const STDOUT_TAIL_BYTES = 4 * 1024 * 1024;

/** What the verifier's files say: its tests, and why it crashed when it ran none. */
export interface TrialTests {
  /** null when the verifier left no files at all (it never ran). */
  tests: TestResults | null;
  /** The line that shows the verifier died before any test ran, when no test could be read. */
  crash: string | null;
}

const STDOUT_READERS: [string, (text: string) => TestResults | null][] = [
  ['pytest', parsePytest],
  ['unittest -v', parseUnittest],
  ['go test -v', parseGoVerbose],
  ['cargo test / nextest', parseCargo],
];

const message = (error: unknown) => (error instanceof TestReportError ? error.message : (error as Error).message);
const withNote = (results: TestResults, ...notes: (string | null | undefined)[]): TestResults => {
  const note = joinNotes(...notes, results.note);
  const { note: _old, ...rest } = results;
  return { ...rest, ...(note ? { note } : {}) };
};

/** The end of test.sh's output (both files, when there are two), and the name to show for it. */
async function readTestOutput(trialDir: string, problems: string[]): Promise<{ text: string; name: string } | null> {
  const parts: { text: string; file: string }[] = [];
  for (const file of TEST_OUTPUT_FILES) {
    try {
      const read = await readBounded(path.join(trialDir, file), STDOUT_TAIL_BYTES, true);
      if (read) parts.push({ text: read.text, file });
    } catch (error) {
      problems.push(`${file} could not be read: ${(error as Error).message}`);
    }
  }
  if (parts.length === 0) return null;
  return { text: parts.map((p) => p.text).join('\n'), name: parts.map((p) => p.file).join(' + ') };
}

export async function readTrialTests(trialDir: string): Promise<TrialTests> {
  const problems: string[] = [];
  let sawFile = false;
  const found = (results: TestResults, from: string): TrialTests => ({ tests: withNote(results, `read from ${from}`, ...problems), crash: null });
  /** A reader's result counts when it lists or counts a test; an empty one is noted and passed over. */
  const usable = (results: TestResults | null, file: string): results is TestResults => {
    if (results && results.total > 0) return true;
    if (results) problems.push(`${file} lists no tests`);
    return false;
  };

  try {
    const ctrf = await readBounded(path.join(trialDir, CTRF_FILE), MAX_REPORT_BYTES, false);
    if (ctrf) {
      sawFile = true;
      if (ctrf.size > MAX_REPORT_BYTES) throw new TestReportError(`it is ${ctrf.size} bytes, more than the ${MAX_REPORT_BYTES} read`);
      const results = parseCtrf(ctrf.text);
      if (usable(results, CTRF_FILE)) return found(results, `${CTRF_FILE} (CTRF)`);
    }
  } catch (error) {
    problems.push(`${CTRF_FILE} could not be read: ${message(error)}`);
  }

  const reports = await listVerifierReports(trialDir).catch((error: Error) => {
    problems.push(`verifier/ could not be listed: ${error.message}`);
    return [];
  });
  if (reports.length) sawFile = true;
  const texts = new Map<string, string>();
  for (const file of reports) {
    try {
      const read = await readBounded(path.join(trialDir, file), MAX_REPORT_BYTES, false);
      if (!read) continue;
      if (read.size > MAX_REPORT_BYTES) throw new TestReportError(`it is ${read.size} bytes, more than the ${MAX_REPORT_BYTES} read`);
      texts.set(file, read.text);
    } catch (error) {
      problems.push(`${file} could not be read: ${message(error)}`);
    }
  }

  // JUnit: every XML file's cases together (one file per test suite is common).
  const junitCases: RawCase[] = [];
  const junitFiles: string[] = [];
  for (const [file, text] of texts) {
    if (!file.endsWith('.xml')) continue;
    try {
      const cases = parseJunitCases(text);
      if (cases === null) continue;
      junitCases.push(...cases);
      junitFiles.push(file);
    } catch (error) {
      problems.push(`${file} could not be read: ${message(error)}`);
    }
  }
  if (junitFiles.length) {
    const results = bound('junit', junitCases, []);
    if (usable(results, junitFiles.join(', '))) return found(results, `${junitFiles.join(', ')} (JUnit XML)`);
  }

  const jsonFiles = [...texts].filter(([file]) => /\.jsonl?$/.test(file));
  for (const [file, text] of jsonFiles) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      continue; // JSON lines (go test -json) or not ours: the next reader looks.
    }
    if (!isJestReport(doc)) continue;
    const results = parseJest(doc);
    if (results === null) problems.push(`${file} looks like a jest/vitest report but does not have its shape`);
    else if (usable(results, file)) return found(results, `${file} (jest/vitest JSON)`);
  }
  for (const [file, text] of jsonFiles) {
    const results = parseGoJson(text);
    if (usable(results, file)) return found(results, `${file} (go test -json)`);
  }

  const output = await readTestOutput(trialDir, problems);
  if (output) sawFile = true;
  const stdout = output?.text ?? null;
  const outputName = output?.name ?? TEST_OUTPUT_FILES[0];
  if (stdout !== null) {
    // A report printed to stdout: `jest --json` writes one line, `go test -json` one per event.
    const jestLine = stdout.split('\n').find((line) => line.startsWith('{') && line.includes('"numTotalTests"'));
    if (jestLine) {
      const results = (() => {
        try {
          return parseJest(JSON.parse(jestLine));
        } catch {
          return null;
        }
      })();
      if (usable(results, outputName)) return found(results, `${outputName} (jest/vitest JSON)`);
    }
    const go = parseGoJson(stdout);
    if (usable(go, outputName)) return found(go, `${outputName} (go test -json)`);
    for (const [reader, parse] of STDOUT_READERS) {
      const results = parse(stdout);
      if (results && results.total > 0) return found(results, `${outputName} (${reader} output)`);
    }
    problems.push(`${outputName} has no test results that pytest, unittest, go test or cargo would print`);
  }

  if (!sawFile && problems.length === 0) return { tests: null, crash: null };
  const crash = stdout === null ? null : findVerifierCrash(stdout);
  const note = joinNotes(crash && `the verifier crashed before any test ran: ${crash}`, ...problems) ?? 'no test results';
  return { tests: { source: null, passed: 0, failed: 0, skipped: 0, total: 0, cases: [], note: note.slice(0, TEST_LIMITS.noteChars) }, crash };
}
