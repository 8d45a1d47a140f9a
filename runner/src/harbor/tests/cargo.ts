// Rust test results from test-stdout.txt: libtest's output as `cargo test` prints it
//   test tests::sub ... FAILED            (also `... ok`, `... ignored[, reason]`)
//   ---- tests::sub stdout ----            (then the panic message, up to the next block)
//   test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s
// and cargo-nextest's status lines
//           PASS [   0.003s] mycrate tests::add        (newer versions: `(1/3) mycrate tests::add`)
//   --- STDERR:              mycrate tests::sub ---     (its output, up to the next line nextest prints)
// nextest repeats its failures after the `Summary` line; only the first line of a test counts.
import type { TestResults } from '../../protocol/messages.js';
import { bound, type RawCase, type Status, secondsToMs } from './report.js';

const LIBTEST_LINE = /^test (.+?) \.\.\. (ok|FAILED|ignored(?:, .*)?)$/;
const LIBTEST_BLOCK = /^---- (.+?) std(?:out|err) ----$/;
const LIBTEST_RESULT = /^test result: (ok|FAILED)\./;
const NEXTEST_LINE = /^\s*(PASS|FAIL|SKIP|FLAKY|TIMEOUT|LEAK|ABORT|SIG[A-Z]+|TRY \d+ (?:PASS|FAIL))\s+\[\s*([\d.]*)s?\s*\]\s+(?:\(\s*\d+\/\d+\)\s+)?(.+)$/;
// Older nextest frames a test's output with `--- STDERR: name ---`, newer with `──── STDERR: name`.
const NEXTEST_BLOCK = /^(?:---|────) STD(?:OUT|ERR):\s+(.+?)(?: ---)?$/;
const NEXTEST_SUMMARY = /^\s*Summary \[/;

function nextestStatus(word: string): Status | null {
  if (word === 'PASS' || word === 'FLAKY' || word === 'LEAK') return 'PASSED';
  if (word === 'SKIP') return 'SKIPPED';
  if (word.startsWith('TRY ')) return null; // a retry's intermediate result; the final line follows
  return 'FAILED';
}

/** The cargo test or nextest results of a text, or null when it has neither's test lines. */
export function parseCargo(text: string): TestResults | null {
  const byName = new Map<string, RawCase>();
  let block: { name: string; lines: string[] } | null = null;
  let summaryReached = false;
  let sawResult = false;
  const closeBlock = () => {
    const entry = block && byName.get(block.name);
    if (entry && block) {
      const body = block.lines.join('\n').trim();
      if (body) entry.message = entry.message ? `${entry.message}\n${body}` : body;
    }
    block = null;
  };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const libtest = LIBTEST_LINE.exec(line);
    const nextest = libtest ? null : NEXTEST_LINE.exec(line);
    if (libtest || nextest) closeBlock();
    if (libtest) {
      const verdict = libtest[2]!;
      const status: Status = verdict === 'ok' ? 'PASSED' : verdict === 'FAILED' ? 'FAILED' : 'SKIPPED';
      const reason = verdict.startsWith('ignored, ') ? verdict.slice('ignored, '.length) : '';
      byName.set(libtest[1]!, { name: libtest[1]!, status, ...(reason ? { message: reason } : {}) });
      continue;
    }
    if (nextest) {
      const status = nextestStatus(nextest[1]!);
      if (!status || summaryReached || byName.has(nextest[3]!)) continue;
      const ms = nextest[2] ? secondsToMs(nextest[2]) : undefined;
      byName.set(nextest[3]!, { name: nextest[3]!, status, ...(ms !== undefined ? { durationMs: ms } : {}) });
      continue;
    }
    const header = LIBTEST_BLOCK.exec(line) ?? NEXTEST_BLOCK.exec(line);
    if (header) {
      closeBlock();
      block = { name: header[1]!, lines: [] };
      continue;
    }
    if (LIBTEST_RESULT.test(line)) sawResult = true;
    if (NEXTEST_SUMMARY.test(line)) {
      sawResult = summaryReached = true;
      closeBlock();
      continue;
    }
    // libtest's failure blocks end at the list of failures that follows them.
    if (line === 'failures:' || line === 'successes:') {
      closeBlock();
      continue;
    }
    block?.lines.push(raw);
  }
  closeBlock();
  if (byName.size === 0) return null;
  const cases = [...byName.values()];
  for (const c of cases) if (c.status === 'PASSED') delete c.message;
  return bound('cargo', cases, sawResult ? [] : ['the output ends before the test run\'s result line']);
}
