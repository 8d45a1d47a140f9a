import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runResultSchema, TEST_LIMITS } from '../protocol/messages.js';
import { parseCtrf, parsePytestSummary, readTrialTests, TestReportError } from './tests.js';

const ctrf = (tests: unknown[], summary: Record<string, unknown> = {}) =>
  JSON.stringify({ results: { tool: { name: 'pytest', version: '8.3.4' }, summary: { tests: tests.length, ...summary }, tests, extra: { anything: 1 } } });

const PYTEST = `============================= test session starts ==============================
collected 5 items

tests/test_outputs.py::test_file_exists PASSED                           [ 20%]
tests/test_outputs.py::test_content FAILED                               [ 40%]

=================================== FAILURES ===================================
________________________________ test_content __________________________________
E       AssertionError: expected 'hello'
=========================== short test summary info ============================
PASSED tests/test_outputs.py::test_file_exists
PASSED tests/test_outputs.py::test_mode[a - b]
FAILED tests/test_outputs.py::test_content - AssertionError: expected 'hello' - got 'bye'
ERROR tests/test_outputs.py::test_setup - FileNotFoundError: /app/out
SKIPPED [1] tests/test_outputs.py:40: needs network
=================== 2 failed, 2 passed, 1 skipped, 3 warnings in 0.12s ===================
`;

describe('parseCtrf', () => {
  it('reads the tests in order with status, duration and the failure message (else the trace)', () => {
    const results = parseCtrf(
      ctrf([
        { name: 'test_outputs.py::test_file_exists', status: 'passed', duration: 12.4, message: 'ignored for a pass', filePath: 'x', unknown: { a: 1 } },
        { name: 'test_outputs.py::test_content', status: 'failed', duration: 31, message: 'AssertionError: expected 1', trace: 'long trace' },
        { name: 'test_outputs.py::test_trace_only', status: 'failed', duration: 'soon', trace: 'def test…\nE AssertionError' },
        { name: 'test_outputs.py::test_later', status: 'pending' },
        { name: 'test_outputs.py::test_odd', status: 'flaky' },
      ]),
    );
    expect(results).toEqual({
      source: 'ctrf',
      passed: 1,
      failed: 2,
      skipped: 1,
      total: 5,
      cases: [
        { name: 'test_outputs.py::test_file_exists', status: 'PASSED', durationMs: 12 },
        { name: 'test_outputs.py::test_content', status: 'FAILED', durationMs: 31, message: 'AssertionError: expected 1' },
        { name: 'test_outputs.py::test_trace_only', status: 'FAILED', message: 'def test…\nE AssertionError' },
        { name: 'test_outputs.py::test_later', status: 'SKIPPED' },
        { name: 'test_outputs.py::test_odd', status: 'OTHER' },
      ],
    });
  });

  it('leaves out entries without a name, with a note', () => {
    const results = parseCtrf(ctrf([{ status: 'passed' }, { name: 'a', status: 'passed' }]));
    expect(results.cases).toHaveLength(1);
    expect(results.note).toBe('1 entry of verifier/ctrf.json without a name left out');
  });

  it('keeps the counts of a report without a list', () => {
    const results = parseCtrf(JSON.stringify({ results: { summary: { tests: 4, passed: 3, failed: 1, skipped: 0, pending: 0 } } }));
    expect(results).toMatchObject({ passed: 3, failed: 1, total: 4, cases: [] });
    expect(results.note).toMatch(/counts but no list/);
  });

  it('names what is wrong with a malformed or truncated file', () => {
    expect(() => parseCtrf('')).toThrow(new TestReportError('the file is empty'));
    const full = ctrf([{ name: 'a', status: 'passed' }]);
    expect(() => parseCtrf(full.slice(0, full.length / 2))).toThrow(/^it is not complete JSON \(/);
    expect(() => parseCtrf('{"results": {"tests": 3}}')).toThrow(/^it is not a CTRF report \(results\.tests: /);
    expect(() => parseCtrf('[1, 2]')).toThrow(/not a CTRF report \(\(root\)/);
  });

  it('bounds a huge report: failures kept first, names and messages cut, a note says so', () => {
    const tests = Array.from({ length: 5_000 }, (_, i) => ({
      name: `t${i}${'n'.repeat(i === 0 ? 1_000 : 0)}`,
      status: i % 10 === 0 ? 'failed' : 'passed',
      message: 'm'.repeat(5_000),
    }));
    const results = parseCtrf(ctrf(tests));
    expect(results).toMatchObject({ total: 5_000, failed: 500, passed: 4_500 });
    expect(results.cases).toHaveLength(TEST_LIMITS.cases);
    expect(results.cases.filter((c) => c.status === 'FAILED')).toHaveLength(500);
    // Still in the report's order.
    expect(results.cases.slice(0, 3).map((c) => c.name.slice(0, 2))).toEqual(['t0', 't1', 't2']);
    expect(results.cases[0]!.name).toHaveLength(TEST_LIMITS.nameChars);
    expect(results.cases[0]!.message).toHaveLength(TEST_LIMITS.messageChars);
    const messages = results.cases.filter((c) => c.message).length;
    expect(messages).toBe(TEST_LIMITS.messagesChars / TEST_LIMITS.messageChars);
    expect(results.note).toMatch(/^1000 of 5000 tests kept \(failures first\).*; 400 failure message\(s\) left out/);
    // What goes on the wire stays far below NATS' 1 MiB payload.
    expect(JSON.stringify(results).length).toBeLessThan(700_000);
  });
});

describe('parsePytestSummary', () => {
  it('reads the -rA summary lines and the counts of the final line', () => {
    expect(parsePytestSummary(PYTEST)).toEqual({
      source: 'pytest',
      passed: 2,
      failed: 2,
      skipped: 1,
      total: 5,
      cases: [
        { name: 'tests/test_outputs.py::test_file_exists', status: 'PASSED' },
        { name: 'tests/test_outputs.py::test_mode[a - b]', status: 'PASSED' },
        { name: 'tests/test_outputs.py::test_content', status: 'FAILED', message: "AssertionError: expected 'hello' - got 'bye'" },
        { name: 'tests/test_outputs.py::test_setup', status: 'FAILED', message: 'FileNotFoundError: /app/out' },
        { name: 'tests/test_outputs.py:40', status: 'SKIPPED', message: 'needs network' },
      ],
    });
  });

  it('counts from the final line what a summary without -rA leaves out', () => {
    const results = parsePytestSummary('FAILED t.py::a - boom\n==== 1 failed, 9 passed in 1.5s ====\n');
    expect(results).toMatchObject({ passed: 9, failed: 1, total: 10, cases: [{ name: 't.py::a', status: 'FAILED' }] });
  });

  it('counts from the lines when the output was cut before the final line, and gives null without any', () => {
    const cut = PYTEST.slice(0, PYTEST.indexOf('ERROR'));
    expect(parsePytestSummary(cut)).toMatchObject({ passed: 2, failed: 1, total: 3 });
    expect(parsePytestSummary('curl: (6) Could not resolve host\n/tests/test.sh: line 7: uvx: command not found\n')).toBeNull();
    expect(parsePytestSummary('')).toBeNull();
  });

  it('reads "no tests ran"', () => {
    expect(parsePytestSummary('============ no tests ran in 0.01s ============')).toMatchObject({ total: 0, cases: [] });
  });
});

describe('readTrialTests', () => {
  const roots: string[] = [];
  afterAll(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));
  async function trial(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'trial-tests-'));
    roots.push(dir);
    await mkdir(path.join(dir, 'verifier'));
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    return dir;
  }

  it('prefers ctrf.json', async () => {
    const dir = await trial({ 'verifier/ctrf.json': ctrf([{ name: 'a', status: 'passed' }]), 'verifier/test-stdout.txt': PYTEST });
    expect(await readTrialTests(dir)).toMatchObject({ source: 'ctrf', total: 1 });
  });

  it('falls back to the pytest summary without ctrf.json', async () => {
    expect(await readTrialTests(await trial({ 'verifier/test-stdout.txt': PYTEST }))).toMatchObject({ source: 'pytest', total: 5, failed: 2 });
  });

  it('falls back to the pytest summary with a note when ctrf.json is truncated', async () => {
    const full = ctrf([{ name: 'a', status: 'passed' }]);
    const results = await readTrialTests(await trial({ 'verifier/ctrf.json': full.slice(0, 30), 'verifier/test-stdout.txt': PYTEST }));
    expect(results).toMatchObject({ source: 'pytest', total: 5 });
    expect(results?.note).toMatch(/^verifier\/ctrf\.json could not be read: it is not complete JSON .*; tests taken from pytest's summary in verifier\/test-stdout\.txt$/);
  });

  it('records no tests, with a note, when nothing can be read', async () => {
    const results = await readTrialTests(await trial({ 'verifier/ctrf.json': '{"results": ', 'verifier/test-stdout.txt': 'uvx: command not found\n' }));
    expect(results).toMatchObject({ source: null, total: 0, cases: [] });
    expect(results?.note).toMatch(/^verifier\/ctrf\.json could not be read: .*; verifier\/test-stdout\.txt has no pytest summary$/);
    expect(await readTrialTests(await trial({}))).toBeNull();
  });

  it('produces what the protocol accepts, and the protocol still accepts a result without tests', async () => {
    const tests = await readTrialTests(await trial({ 'verifier/test-stdout.txt': PYTEST }));
    const base = {
      status: 'FAILED', reward: 0, rewards: { reward: 0 }, exceptionType: null, exceptionMessage: null, failureKind: null,
      inputTokens: null, cacheTokens: null, outputTokens: null, costUsd: null, environmentSetupMs: null, agentSetupMs: null,
      agentExecutionMs: null, verifierMs: null, trialDir: null,
    };
    expect(runResultSchema.parse({ ...base, tests }).tests).toEqual(tests);
    expect(runResultSchema.parse(base).tests).toBeUndefined();
  });
});
