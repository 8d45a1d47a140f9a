// The readers beyond pytest (issue 16 item 14), each on its tool's own output shape.
import { describe, expect, it } from 'vitest';
import { parseCargo } from './cargo.js';
import { findVerifierCrash } from './crash.js';
import { parseGoJson, parseGoVerbose } from './go.js';
import { parseJest } from './jest.js';
import { parseJunit } from './junit.js';
import { TestReportError } from './report.js';
import { CARGO, CRASHES, GO_JSON, GO_VERBOSE, JEST, JUNIT_GO, JUNIT_PYTEST, NEXTEST, PYTEST, UNITTEST } from './test-fixtures.js';
import { parseUnittest } from './unittest.js';

describe('parseUnittest', () => {
  it('reads verbose lines, docstring lines, late verdicts and both ways of naming the class, with the tracebacks', () => {
    const results = parseUnittest(UNITTEST);
    expect(results).toMatchObject({ source: 'unittest', passed: 2, failed: 2, skipped: 1, total: 5 });
    expect(results?.note).toBeUndefined();
    expect(results?.cases).toEqual([
      { name: 'test_calc.TestCalc.test_add', status: 'PASSED' },
      { name: 'test_calc.TestCalc.test_divide', status: 'FAILED', message: expect.stringMatching(/^Traceback[^]*ZeroDivisionError: division by zero$/) },
      { name: 'test_calc.TestCalc.test_net', status: 'SKIPPED', message: 'needs network' },
      { name: 'test_calc.TestCalc.test_sub', status: 'FAILED', message: expect.stringMatching(/^Traceback[^]*AssertionError: 4 != 2$/) },
      { name: 'test_legacy.TestLegacy.test_old', status: 'PASSED' },
    ]);
  });

  it('notes output cut before "Ran N tests", and gives null for other output', () => {
    expect(parseUnittest(UNITTEST.slice(0, UNITTEST.indexOf('test_old')))?.note).toMatch(/ends before its "Ran N tests" line/);
    expect(parseUnittest(PYTEST)).toBeNull();
    expect(parseUnittest(CARGO)).toBeNull();
  });
});

describe('go test', () => {
  it('reads -json events: subtests as tests, seconds to ms, the test output as the message', () => {
    expect(parseGoJson(GO_JSON)).toEqual({
      source: 'go',
      passed: 1,
      failed: 2,
      skipped: 1,
      total: 4,
      cases: [
        { name: 'TestAdd', status: 'PASSED', durationMs: 1 },
        { name: 'TestDiv/by_zero', status: 'FAILED', durationMs: 0, message: 'calc_test.go:21: Div(1, 0) = 0, want error' },
        { name: 'TestDiv', status: 'FAILED', durationMs: 20 },
        { name: 'TestNet', status: 'SKIPPED', durationMs: 0, message: 'calc_test.go:30: needs network' },
      ],
    });
    expect(parseGoJson('{"not": "an event"}\nplain text')).toBeNull();
  });

  it('names packages when there are several, and notes a package that failed outside its tests', () => {
    const two = `${GO_JSON}\n{"Action":"output","Package":"example.com/broken","Output":"# example.com/broken\\n"}\n{"Action":"fail","Package":"example.com/broken","Elapsed":0}`;
    const results = parseGoJson(two);
    expect(results?.cases[0]!.name).toBe('example.com/calc.TestAdd');
    expect(results?.note).toBe('go test failed in package(s) example.com/broken outside any test (a build failure?)');
  });

  it('reads -v output with its logs and notes a build failure', () => {
    const results = parseGoVerbose(GO_VERBOSE);
    expect(results).toMatchObject({ source: 'go', passed: 1, failed: 2, skipped: 1, total: 4, note: 'go test: package example.com/broken: build failed' });
    expect(results?.cases).toEqual([
      { name: 'TestAdd', status: 'PASSED', durationMs: 0 },
      { name: 'TestDiv', status: 'FAILED', durationMs: 20 },
      { name: 'TestDiv/by_zero', status: 'FAILED', durationMs: 0, message: 'calc_test.go:21: Div(1, 0) = 0, want error' },
      { name: 'TestNet', status: 'SKIPPED', durationMs: 0, message: 'calc_test.go:30: needs network' },
    ]);
    expect(parseGoVerbose(PYTEST)).toBeNull();
  });
});

describe('parseCargo', () => {
  it('reads cargo test (libtest) lines, ignore reasons and the panic of each failure', () => {
    const results = parseCargo(CARGO);
    expect(results).toMatchObject({ source: 'cargo', passed: 1, failed: 1, skipped: 2, total: 4 });
    expect(results?.note).toBeUndefined();
    expect(results?.cases).toEqual([
      { name: 'tests::add', status: 'PASSED' },
      { name: 'tests::slow', status: 'SKIPPED', message: 'takes a minute' },
      { name: 'tests::sub', status: 'FAILED', message: expect.stringMatching(/^thread 'tests::sub' panicked at src\/lib\.rs:21:9:\nassertion `left == right` failed\n {2}left: 4\n right: 2\nnote: run with/) },
      { name: 'tests::net', status: 'SKIPPED' },
    ]);
  });

  it('reads cargo-nextest lines once each (not the repeat after Summary), with durations and stderr', () => {
    const results = parseCargo(NEXTEST);
    expect(results).toMatchObject({ passed: 1, failed: 1, skipped: 1, total: 3 });
    expect(results?.cases).toEqual([
      { name: 'calc tests::add', status: 'PASSED', durationMs: 4 },
      { name: 'calc tests::sub', status: 'FAILED', durationMs: 6, message: expect.stringMatching(/^thread 'tests::sub' panicked[^]* right: 2$/) },
      { name: 'calc tests::net', status: 'SKIPPED' },
    ]);
    expect(parseCargo(PYTEST)).toBeNull();
  });
});

describe('parseJunit', () => {
  it('reads pytest --junitxml: classname.name, seconds, the failure trace, skip reasons', () => {
    expect(parseJunit(JUNIT_PYTEST)).toEqual({
      source: 'junit',
      passed: 1,
      failed: 1,
      skipped: 1,
      total: 3,
      cases: [
        { name: 'tests.test_outputs.test_exists', status: 'PASSED', durationMs: 1 },
        {
          name: 'tests.test_outputs.test_content',
          status: 'FAILED',
          durationMs: 250,
          message: `def test_content():\n>       assert read() == "Hello, world!"\nE       AssertionError: assert 'Hello' == 'Hello, world!'\n\ntests/test_outputs.py:14: AssertionError`,
        },
        { name: 'tests.test_outputs.test_network', status: 'SKIPPED', durationMs: 0, message: 'needs network' },
      ],
    });
  });

  it('reads a bare <testsuite> root, counts <error> as a failure and leads with its message', () => {
    expect(parseJunit(JUNIT_GO)?.cases).toEqual([
      { name: 'example.com/calc.TestAdd', status: 'PASSED', durationMs: 1 },
      { name: 'example.com/calc.TestDiv', status: 'FAILED', durationMs: 20, message: 'Failed\ncalc_test.go:21: Div(1, 0) = 0, want error' },
    ]);
  });

  it('gives null for XML that is not JUnit and names what is wrong with XML that is not well formed', () => {
    expect(parseJunit('<?xml version="1.0"?><coverage line-rate="0.9"/>')).toBeNull();
    expect(() => parseJunit('<testsuite><testcase name="a"></testsuite>')).toThrow(TestReportError);
    expect(() => parseJunit('<testsuite><testcase name="a"></testsuite>')).toThrow(/^it is not well-formed XML/);
  });
});

describe('parseJest', () => {
  it('reads jest/vitest --json: file prefix with several files, ms, failure messages without colours, a file that did not run', () => {
    const results = parseJest(JSON.parse(JEST));
    expect(results).toMatchObject({ source: 'jest', passed: 1, failed: 2, skipped: 1, total: 4 });
    expect(results?.cases).toEqual([
      { name: 'calc.test.js › calc adds', status: 'PASSED', durationMs: 3 },
      { name: 'calc.test.js › calc subtracts', status: 'FAILED', durationMs: 5, message: 'Error: expect(received).toBe(expected)\n\nExpected: 2\nReceived: 4\n    at Object.<anonymous> (/app/calc.test.js:9:23)' },
      { name: 'calc.test.js › calc talks to the network', status: 'SKIPPED' },
      { name: '/app/server.test.js', status: 'FAILED', message: "● Test suite failed to run\n\n    Cannot find module './server' from 'server.test.js'" },
    ]);
    expect(parseJest({ numTotalTests: 'x' })).toBeNull();
  });
});

describe('findVerifierCrash', () => {
  it('finds the first line that says why the verifier ran no test', () => {
    expect(findVerifierCrash(CRASHES.fatalPython)).toBe('Fatal Python error: init_import_site: Failed to import the site module');
    expect(findVerifierCrash(CRASHES.download)).toBe('curl: (6) Could not resolve host: astral.sh');
    expect(findVerifierCrash(CRASHES.uv)).toBe('error: Failed to fetch: `https://pypi.org/simple/pytest/`');
    expect(findVerifierCrash(CRASHES.collection)).toBe('ERROR collecting tests/test_outputs.py: ModuleNotFoundError: No module named \'numpy\'');
    expect(findVerifierCrash(CRASHES.traceback)).toBe("ModuleNotFoundError: No module named 'requests'");
    expect(findVerifierCrash('/tests/test.sh: line 3: cargo: command not found\n')).toBe('/tests/test.sh: line 3: cargo: command not found');
    expect(findVerifierCrash('=================== no tests ran in 0.01s ===================')).toBe('no tests ran in 0.01s');
  });

  it("finds nothing in the agent's failures that a custom verifier shows", () => {
    const custom = `running /app/solve.sh\n/app/solve.sh: line 2: jq: command not found\nTraceback (most recent call last):\n  File "/app/main.py", line 3, in <module>\nKeyError: 'total'\nFAIL: wrong output\n`;
    expect(findVerifierCrash(custom)).toBeNull();
    expect(findVerifierCrash('error: could not compile `task` (lib test) due to 1 previous error\n')).toBeNull();
  });

  it('finds nothing in the output of a test run', () => {
    expect(findVerifierCrash(PYTEST)).toBeNull();
    expect(findVerifierCrash(CARGO)).toBeNull();
    expect(findVerifierCrash('')).toBeNull();
  });
});
