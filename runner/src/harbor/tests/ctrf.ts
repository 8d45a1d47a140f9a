// verifier/ctrf.json (harbor-contract.md §9). Two dialects: the CTRF spec (durations in ms,
// camelCase keys) and pytest-json-ctrf, which TB2's test.sh pins at 0.3.5: durations in seconds
// (summed over setup/call/teardown), epoch-second timestamps, snake_case `raw_status`/`file_path`,
// and a generic `message` ("The test failed in the call phase due to an assertion error") with
// the real assertion in `trace`. Parametrised tests are folded into one entry by that plugin: the
// first variant's status, the others counted in `retries`.
import { z } from 'zod';
import { TRIAL_FILES } from '../../protocol/layout.js';
import type { TestResults } from '../../protocol/messages.js';
import { bound, type Counts, type RawCase, type Status, TestReportError } from './report.js';

export const CTRF_FILE = TRIAL_FILES.ctrf;

// Tolerant: unknown keys are ignored, a field of the wrong type is dropped, not fatal.
const optionalNumber = z.number().nonnegative().optional().catch(undefined);
const optionalText = z.string().nullish().catch(undefined);
const ctrfTestSchema = z.object({
  name: z.string().min(1),
  status: z.string().catch('other'),
  duration: optionalNumber,
  start: optionalNumber,
  stop: optionalNumber,
  message: optionalText,
  trace: optionalText,
  retries: optionalNumber,
  raw_status: optionalText,
  rawStatus: optionalText,
  file_path: optionalText,
  filePath: optionalText,
});
type CtrfTest = z.infer<typeof ctrfTestSchema>;
const ctrfSchema = z.object({
  results: z.object({
    tool: z.object({ name: z.string() }).nullish().catch(undefined),
    summary: z
      .object({
        tests: optionalNumber,
        passed: optionalNumber,
        failed: optionalNumber,
        skipped: optionalNumber,
        pending: optionalNumber,
        other: optionalNumber,
        start: optionalNumber,
        stop: optionalNumber,
      })
      .nullish()
      .catch(undefined),
    tests: z.array(z.unknown()).nullish(),
  }),
});

const CTRF_STATUS: Record<string, Status> = { passed: 'PASSED', failed: 'FAILED', skipped: 'SKIPPED', pending: 'SKIPPED', other: 'OTHER' };
/** pytest-json-ctrf's placeholder for every failure: "The test failed in the <when> phase[ due to …]". */
const GENERIC_MESSAGE = /^The test failed in the (\w+) phase( due to an? [\w ]+)?$/;
/** Epoch timestamps below this are seconds (ms passed it in 1973). */
const EPOCH_SECONDS_BELOW = 1e11;

/**
 * Whether durations are seconds: the report's timestamps say which unit it uses (pytest-json-ctrf
 * writes durations in the unit of its timestamps, seconds in 0.3.x, ms later); without any,
 * pytest-json-ctrf's snake_case keys are the sign.
 */
function durationsInSeconds(summary: { start?: number | undefined; stop?: number | undefined } | null | undefined, tests: CtrfTest[], tool: string | undefined): boolean {
  const stamp = summary?.start || summary?.stop || tests.map((t) => t.start || t.stop).find(Boolean);
  if (stamp) return stamp < EPOCH_SECONDS_BELOW;
  return tool === 'pytest' && tests.some((t) => t.raw_status !== undefined || t.file_path !== undefined);
}

/**
 * The text people need for a failure. For pytest-json-ctrf's placeholder message: the assertion
 * (pytest's first `E   ` line) as the headline that one-line views show, then the whole trace; the
 * phase leads when it was not the test's call (a fixture broke, not an assertion).
 */
function failureText(test: CtrfTest): string | undefined {
  const message = test.message?.trim() || undefined;
  const trace = test.trace?.trim() || undefined;
  const generic = message ? GENERIC_MESSAGE.exec(message) : null;
  if (!generic) return message ?? trace;
  if (!trace) return message;
  const assertion = /^E\s+(\S.*)$/m.exec(trace)?.[1];
  const phase = generic[1] === 'call' ? '' : `failed in the ${generic[1]} phase`;
  const headline = [phase, assertion].filter(Boolean).join(': ');
  return headline ? `${headline}\n\n${trace}` : trace;
}

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
  const { summary, tests: entries, tool } = parsed.data.results;
  const tests: CtrfTest[] = [];
  let unnamed = 0;
  for (const entry of entries ?? []) {
    const test = ctrfTestSchema.safeParse(entry);
    if (test.success) tests.push(test.data);
    else unnamed += 1;
  }
  const seconds = durationsInSeconds(summary, tests, tool?.name);
  let folded = 0;
  const cases: RawCase[] = tests.map((test) => {
    const status = CTRF_STATUS[test.status.toLowerCase()] ?? 'OTHER';
    const file = test.file_path ?? test.filePath;
    // pytest-json-ctrf counts the folded parametrisations of a test in `retries`.
    if (seconds && test.retries) folded += test.retries;
    const message = status === 'PASSED' ? undefined : failureText(test);
    return {
      name: file && !test.name.includes(file) && !test.name.includes('::') ? `${file}::${test.name}` : test.name,
      status,
      ...(test.duration !== undefined ? { durationMs: Math.round(seconds ? test.duration * 1000 : test.duration) } : {}),
      ...(message ? { message } : {}),
    };
  });
  const notes: string[] = [];
  if (unnamed > 0) notes.push(`${unnamed} entr${unnamed === 1 ? 'y' : 'ies'} of ${CTRF_FILE} without a name left out`);
  if (folded > 0) notes.push(`pytest-json-ctrf reports each parametrised test once: ${folded} further variant(s) are not listed`);
  if (cases.length === 0 && summary?.tests) {
    // A report with a summary but no list: the counts are still worth having.
    const counts: Counts = {
      passed: summary.passed ?? 0,
      failed: summary.failed ?? 0,
      skipped: (summary.skipped ?? 0) + (summary.pending ?? 0),
      total: summary.tests,
    };
    notes.push(`${CTRF_FILE} has counts but no list of tests`);
    return bound('ctrf', cases, notes, counts);
  }
  return bound('ctrf', cases, notes);
}
