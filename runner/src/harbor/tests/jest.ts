// jest's `--json` report, which vitest's json reporter writes in the same shape: numTotalTests …,
// testResults[] per test file with its assertionResults[] (fullName, status passed | failed |
// pending | skipped | todo | disabled, duration in ms or null, failureMessages[]) and, for a file
// that could not run at all, a failed status and its message.
import path from 'node:path';
import { z } from 'zod';
import type { TestResults } from '../../protocol/messages.js';
import { bound, type RawCase, type Status } from './report.js';

const optionalText = z.string().nullish().catch(undefined);
const assertionSchema = z.object({
  fullName: optionalText,
  title: optionalText,
  status: z.string().catch('other'),
  duration: z.number().nonnegative().nullish().catch(undefined),
  failureMessages: z.array(z.string()).nullish().catch(undefined),
});
const jestSchema = z.object({
  numTotalTests: z.number(),
  testResults: z.array(
    z.object({
      name: optionalText,
      status: optionalText,
      message: optionalText,
      assertionResults: z.array(z.unknown()).nullish().catch(undefined),
    }),
  ),
});

const JEST_STATUS: Record<string, Status> = { passed: 'PASSED', failed: 'FAILED', pending: 'SKIPPED', skipped: 'SKIPPED', todo: 'SKIPPED', disabled: 'SKIPPED' };
/** jest colours its failure messages even in JSON. */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Whether a parsed JSON document is a jest/vitest report (then parseJest reads it). */
export function isJestReport(doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && 'numTotalTests' in doc && 'testResults' in doc;
}

/** The results of a jest/vitest JSON report, or null when the document is not one. */
export function parseJest(doc: unknown): TestResults | null {
  const parsed = jestSchema.safeParse(doc);
  if (!parsed.success) return null;
  const files = parsed.data.testResults;
  const cases: RawCase[] = [];
  let unreadable = 0;
  for (const file of files) {
    const prefix = files.length > 1 && file.name ? `${path.posix.basename(file.name)} › ` : '';
    const assertions = file.assertionResults ?? [];
    if (assertions.length === 0 && file.status === 'failed') {
      // The file did not load (a syntax error, a missing module): a failure of its own.
      cases.push({ name: file.name ?? '(test file)', status: 'FAILED', ...(file.message ? { message: file.message.replace(ANSI, '').trim() } : {}) });
      continue;
    }
    for (const raw of assertions) {
      const test = assertionSchema.safeParse(raw);
      const name = test.success ? (test.data.fullName || test.data.title) : null;
      if (!test.success || !name) {
        unreadable += 1;
        continue;
      }
      const status = JEST_STATUS[test.data.status] ?? 'OTHER';
      const message = status === 'FAILED' ? (test.data.failureMessages ?? []).join('\n').replace(ANSI, '').trim() : '';
      cases.push({
        name: `${prefix}${name}`,
        status,
        ...(typeof test.data.duration === 'number' ? { durationMs: Math.round(test.data.duration) } : {}),
        ...(message ? { message } : {}),
      });
    }
  }
  return bound('jest', cases, unreadable ? [`${unreadable} test(s) of the report without a name left out`] : []);
}
