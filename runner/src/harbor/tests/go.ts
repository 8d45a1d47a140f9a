// `go test` results: the `-json` event stream (test2json: one object a line with Action, Package,
// Test, Elapsed in seconds, Output), from a report file or test-stdout.txt, and the `-v` text
// (`=== RUN   TestX`, `--- PASS: TestX (0.00s)`, indented t.Log lines, `FAIL\tpkg [build failed]`).
// Subtests (`TestX/case`) are tests of their own, as go reports them.
import type { TestResults } from '../../protocol/messages.js';
import { bound, type RawCase, type Status, secondsToMs } from './report.js';

const GO_STATUS: Record<string, Status> = { pass: 'PASSED', fail: 'FAILED', skip: 'SKIPPED', PASS: 'PASSED', FAIL: 'FAILED', SKIP: 'SKIPPED' };

interface GoEvent {
  Action?: unknown;
  Package?: unknown;
  Test?: unknown;
  Elapsed?: unknown;
  Output?: unknown;
}

/** Lines of a test's output worth showing: not go's own framing. */
const FRAMING = /^\s*(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|FAIL|SKIP):)/;

/** The results of a `go test -json` stream, or null when the text holds no test2json events. */
export function parseGoJson(text: string): TestResults | null {
  const events: GoEvent[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('{')) continue;
    try {
      const event = JSON.parse(line) as GoEvent;
      if (event && typeof event === 'object' && typeof event.Action === 'string') events.push(event);
    } catch {
      // Not every line starting with a brace is an event (a test may print JSON): skip it.
    }
  }
  if (events.length === 0) return null;
  const packages = new Set(events.map((e) => e.Package).filter((p): p is string => typeof p === 'string'));
  const key = (e: GoEvent) => (packages.size > 1 ? `${String(e.Package)}.${String(e.Test)}` : String(e.Test));
  const output = new Map<string, string[]>();
  const cases: RawCase[] = [];
  const brokenPackages: string[] = [];
  for (const event of events) {
    const action = event.Action as string;
    if (typeof event.Test !== 'string') {
      // A package that failed with no test failing in it did not build or crashed before its tests.
      if (action === 'fail' && typeof event.Package === 'string' && !cases.some((c) => c.status === 'FAILED' && (packages.size === 1 || c.name.startsWith(`${event.Package}.`)))) {
        brokenPackages.push(event.Package);
      }
      continue;
    }
    const name = key(event);
    if (action === 'output' && typeof event.Output === 'string') {
      if (!FRAMING.test(event.Output)) output.set(name, [...(output.get(name) ?? []), event.Output]);
      continue;
    }
    const status = GO_STATUS[action];
    if (!status) continue;
    const message = status === 'PASSED' ? '' : (output.get(name) ?? []).join('').trim();
    cases.push({
      name,
      status,
      ...(typeof event.Elapsed === 'number' ? { durationMs: secondsToMs(event.Elapsed)! } : {}),
      ...(message ? { message } : {}),
    });
  }
  const notes = brokenPackages.length ? [`go test failed in package(s) ${brokenPackages.join(', ')} outside any test (a build failure?)`] : [];
  if (cases.length === 0 && notes.length === 0) return null;
  return bound('go', cases, notes);
}

const RUN_LINE = /^=== (?:RUN|CONT|NAME)\s+(\S+)/;
const RESULT_LINE = /^(\s*)--- (PASS|FAIL|SKIP): (\S+) \(([\d.]+)s\)$/;
const BUILD_FAILED = /^FAIL\s+(\S+)\s+\[(build failed|setup failed)\]/;

/** The results of `go test -v` output, or null when it has no `--- PASS/FAIL/SKIP` lines. */
export function parseGoVerbose(text: string): TestResults | null {
  const output = new Map<string, string[]>();
  const cases: RawCase[] = [];
  const notes: string[] = [];
  let current: string | null = null;
  // After a `--- SKIP` line, the indented lines are its reason.
  let after: RawCase | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const run = RUN_LINE.exec(line);
    if (run) {
      current = run[1]!;
      after = null;
      continue;
    }
    const result = RESULT_LINE.exec(line);
    if (result) {
      const name = result[3]!;
      const status = GO_STATUS[result[2]!]!;
      const message = status === 'PASSED' ? '' : (output.get(name) ?? []).join('\n').trim();
      const entry: RawCase = { name, status, durationMs: secondsToMs(result[4]!)!, ...(message ? { message } : {}) };
      cases.push(entry);
      after = entry;
      continue;
    }
    const broken = BUILD_FAILED.exec(line);
    if (broken) notes.push(`package ${broken[1]}: ${broken[2]}`);
    if (/^\s+\S/.test(line)) {
      if (after && after.status !== 'PASSED' && !after.message) after.message = line.trim();
      else if (current) output.set(current, [...(output.get(current) ?? []), line.trim()]);
    } else after = null;
  }
  if (cases.length === 0 && notes.length === 0) return null;
  return bound('go', cases, notes.length ? [`go test: ${notes.join(', ')}`] : []);
}
