// Python unittest's verbose output (`python -m unittest -v`), on stderr, which Harbor writes into
// verifier/test-stdout.txt with stdout:
//   test_add (test_math.TestMath.test_add) ... ok          (3.11+; before: `(test_math.TestMath)`)
//   test_sub (test_math.TestMath.test_sub) ... FAIL
//   test_net (test_math.TestMath.test_net) ... skipped 'needs network'
// then a block per failure (`FAIL: test_sub (…)`, dashes, the traceback) and `Ran 3 tests in 0.001s`.
import type { TestResults } from '../../protocol/messages.js';
import { bound, type RawCase, type Status } from './report.js';

// `name (qualified)` then ` ... ` and the verdict, which may come on a later line after the test's
// output; a test with a docstring prints its first line before the ` ... ` on a line of its own.
const TEST_LINE = /^(test\w*) \(([\w.]+)\)(?: \.\.\. ?(.*))?$/;
const DOCSTRING_LINE = /^.*? \.\.\. ?(.*)$/;
const VERDICT = /^(ok|FAIL|ERROR|skipped(?: .*)?|expected failure|unexpected success)$/;
const BLOCK_HEADER = /^(FAIL|ERROR): (\w+) \(([\w.]+)\)/;
const RULE = /^(={50,}|-{50,})$/;
const RAN_LINE = /^Ran \d+ tests? in [\d.]+s$/;

function statusOf(verdict: string): Status {
  if (verdict === 'ok') return 'PASSED';
  if (verdict === 'FAIL' || verdict === 'ERROR') return 'FAILED';
  if (verdict.startsWith('skipped')) return 'SKIPPED';
  return 'OTHER';
}

/** `mod.Class.test_x`: 3.11+ prints it whole, older versions only the class. */
function qualified(method: string, where: string): string {
  return where.endsWith(`.${method}`) ? where : `${where}.${method}`;
}

/** The unittest results of a text, or null when it has no verbose unittest lines. */
export function parseUnittest(text: string): TestResults | null {
  const lines = text.split(/\r?\n/);
  const cases: RawCase[] = [];
  const byName = new Map<string, RawCase>();
  let pending: RawCase | null = null;
  let sawRan = false;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!.trimEnd();
    if (RAN_LINE.test(line)) sawRan = true;
    const test = TEST_LINE.exec(line);
    if (test) {
      let rest = test[3];
      if (rest === undefined) {
        const doc = DOCSTRING_LINE.exec(lines[i + 1] ?? '');
        if (!doc) continue;
        rest = doc[1]!;
        i += 1;
      }
      const verdict = VERDICT.exec(rest.trim());
      const entry: RawCase = { name: qualified(test[1]!, test[2]!), status: verdict ? statusOf(verdict[1]!) : 'OTHER' };
      if (verdict?.[1]!.startsWith('skipped ')) entry.message = verdict[1]!.slice('skipped '.length).replace(/^'(.*)'$/, '$1');
      cases.push(entry);
      byName.set(entry.name, entry);
      pending = verdict ? null : entry;
      continue;
    }
    // The verdict of a test that printed something first.
    const late = pending && VERDICT.exec(line.trim());
    if (late && pending) {
      pending.status = statusOf(late[1]!);
      pending = null;
      continue;
    }
    const block = BLOCK_HEADER.exec(line);
    if (block) {
      const entry = byName.get(qualified(block[2]!, block[3]!));
      // The block: the docstring's line if any, a rule of dashes, then the traceback up to the next rule.
      let j = i + 1;
      if (j + 1 < lines.length && !RULE.test(lines[j]!.trim()) && RULE.test(lines[j + 1]!.trim())) j += 1;
      if (j < lines.length && RULE.test(lines[j]!.trim())) j += 1;
      const body: string[] = [];
      for (; j < lines.length && !RULE.test(lines[j]!.trim()) && !RAN_LINE.test(lines[j]!.trim()); j += 1) body.push(lines[j]!);
      if (entry) entry.message = body.join('\n').trim();
      i = j - 1;
    }
  }
  if (cases.length === 0) return null;
  // Tests whose verdict never came: the output was cut off, or the process died in them.
  const notes = pending || !sawRan ? ['the unittest output ends before its "Ran N tests" line'] : [];
  return bound('unittest', cases, notes);
}
