import { describe, expect, it } from 'vitest';
import { TEST_LIMITS } from '../../protocol/messages.js';
import { parseCtrf } from './ctrf.js';
import { TestReportError } from './report.js';

import { CTRF_PYTEST_PLUGIN, ctrf } from './test-fixtures.js';
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

  it('reads pytest-json-ctrf 0.3.5 as TB2 writes it: seconds, the trace instead of the generic message, the phase outside call', () => {
    const results = parseCtrf(CTRF_PYTEST_PLUGIN);
    expect(results).toEqual({
      source: 'ctrf',
      passed: 1,
      failed: 2,
      skipped: 0,
      total: 3,
      cases: [
        { name: 'test_outputs.py::test_hello_file_exists', status: 'PASSED', durationMs: 1 },
        {
          name: 'test_outputs.py::test_hello_file_content',
          status: 'FAILED',
          durationMs: 1532,
          // The assertion first (what one-line views show), then the whole trace.
          message: expect.stringMatching(/^AssertionError: assert 'Hello' == 'Hello, world!'\n\ndef test_hello_file_content\(\):\n[^]*\/tests\/test_outputs\.py:14: AssertionError$/),
        },
        { name: 'test_outputs.py::test_permissions', status: 'FAILED', durationMs: 0, message: expect.stringMatching(/^failed in the setup phase: fixture 'mode' not found\n\nfile \/tests\/test_outputs\.py, line 20\n/) },
      ],
      note: 'pytest-json-ctrf reports each parametrised test once: 2 further variant(s) are not listed',
    });
  });

  it('tells the units apart by the timestamps, and keeps the generic message when there is no trace', () => {
    const doc = JSON.parse(CTRF_PYTEST_PLUGIN);
    // A later pytest-json-ctrf writes milliseconds, with millisecond timestamps.
    doc.results.summary.start = 1764932400123;
    doc.results.summary.stop = 1764932401987;
    delete doc.results.tests[1].trace;
    doc.results.tests[1].duration = 1532.4;
    const results = parseCtrf(JSON.stringify(doc));
    expect(results.cases[1]).toEqual({
      name: 'test_outputs.py::test_hello_file_content',
      status: 'FAILED',
      durationMs: 1532,
      message: 'The test failed in the call phase due to an assertion error',
    });
    // No timestamps at all: pytest-json-ctrf's snake_case keys say seconds.
    delete doc.results.summary.start;
    delete doc.results.summary.stop;
    for (const test of doc.results.tests) delete test.start, delete test.stop;
    doc.results.tests[1].duration = 1.5;
    expect(parseCtrf(JSON.stringify(doc)).cases[1]!.durationMs).toBe(1500);
    // A name without its file gets the file_path in front.
    expect(parseCtrf(ctrf([{ name: 'test_x', status: 'passed', file_path: 'tests/test_a.py' }])).cases[0]!.name).toBe('tests/test_a.py::test_x');
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

