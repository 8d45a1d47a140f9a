// Verifier outputs in the shapes their tools write, for the readers' tests. Written from the tools'
// sources and documentation (pytest-json-ctrf 0.3.5's TestObject.serialize, pytest's terminal
// reporter, unittest's TextTestRunner, test2json, libtest, cargo-nextest, JUnit XML as pytest and
// go-junit-report write it, jest's --json), not copied from anyone's run.

/** CTRF as the spec describes it (durations in ms, camelCase), for tests that vary the entries. */
export const ctrf = (tests: unknown[], summary: Record<string, unknown> = {}) =>
  JSON.stringify({ results: { tool: { name: 'jest' }, summary: { tests: tests.length, start: 1_764_000_000_000, stop: 1_764_000_001_000, ...summary }, tests, extra: { anything: 1 } } });

/**
 * pytest-json-ctrf 0.3.5 (TB2's test.sh: `uvx --with pytest-json-ctrf==0.3.5 pytest --ctrf
 * /logs/verifier/ctrf.json /tests/test_outputs.py -rA`): json.dump(indent=4) of its report, durations
 * and timestamps in seconds, empty keys dropped, `retries` 0 kept, raw_status only on failures.
 */
export const CTRF_PYTEST_PLUGIN = JSON.stringify(
  {
    results: {
      tool: { name: 'pytest', version: '8.4.1' },
      summary: { tests: 3, passed: 1, failed: 2, skipped: 0, pending: 0, other: 0, start: 1764932400.1234567, stop: 1764932401.9876543 },
      environment: { buildName: 'Pytest JSON CTRF Report', buildNumber: '000', buildUrl: 'https://ctrf.io' },
      tests: [
        {
          name: 'test_outputs.py::test_hello_file_exists',
          status: 'passed',
          duration: 0.0012483749999999998,
          start: 1764932400.2001,
          stop: 1764932400.2014,
          retries: 0,
          file_path: 'test_outputs.py',
        },
        {
          name: 'test_outputs.py::test_hello_file_content',
          status: 'failed',
          raw_status: 'call_failed',
          duration: 1.5324021,
          start: 1764932400.2101,
          stop: 1764932401.7425,
          retries: 0,
          file_path: 'test_outputs.py',
          trace:
            'def test_hello_file_content():\n        hello_path = Path("/app/hello.txt")\n>       assert hello_path.read_text().strip() == "Hello, world!"\nE       AssertionError: assert \'Hello\' == \'Hello, world!\'\nE         \nE         - Hello, world!\nE         + Hello\n\n/tests/test_outputs.py:14: AssertionError',
          message: 'The test failed in the call phase due to an assertion error',
        },
        {
          name: 'test_outputs.py::test_permissions',
          status: 'failed',
          raw_status: 'setup_failed',
          duration: 0.000431,
          start: 1764932401.75,
          stop: 1764932401.7504,
          retries: 2,
          file_path: 'test_outputs.py',
          tags: ['parametrize'],
          trace: "file /tests/test_outputs.py, line 20\n  def test_permissions(mode):\nE       fixture 'mode' not found",
          message: 'The test failed in the setup phase',
        },
      ],
    },
  },
  null,
  4,
);

export const PYTEST = `============================= test session starts ==============================
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

/** `pytest -v` without -rA: progress lines, the FAILURES section and the final line only. */
export const PYTEST_VERBOSE = `============================= test session starts ==============================
platform linux -- Python 3.13.1, pytest-8.4.1, pluggy-1.6.0 -- /usr/local/bin/python
cachedir: .pytest_cache
rootdir: /tests
collecting ... collected 4 items

../tests/test_outputs.py::test_binary_exists PASSED                      [ 25%]
../tests/test_outputs.py::test_output[small] PASSED                      [ 50%]
../tests/test_outputs.py::test_output[large input] FAILED                [ 75%]
../tests/test_outputs.py::test_network SKIPPED (needs network)           [100%]

=================================== FAILURES ===================================
__________________________ test_output[large input] ___________________________

    def test_output(case):
>       assert run(case) == expected(case)
E       AssertionError: assert 41 == 42

/tests/test_outputs.py:31: AssertionError
==================== 1 failed, 2 passed, 1 skipped in 0.31s ====================
`;

export const UNITTEST = `test_add (test_calc.TestCalc.test_add) ... ok
test_divide (test_calc.TestCalc.test_divide)
Division by zero raises. ... ERROR
test_net (test_calc.TestCalc.test_net) ... skipped 'needs network'
test_sub (test_calc.TestCalc.test_sub) ... computing
FAIL
test_old (test_legacy.TestLegacy) ... ok

======================================================================
ERROR: test_divide (test_calc.TestCalc.test_divide)
Division by zero raises.
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/tests/test_calc.py", line 12, in test_divide
    calc.divide(1, 0)
ZeroDivisionError: division by zero

======================================================================
FAIL: test_sub (test_calc.TestCalc.test_sub)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/tests/test_calc.py", line 9, in test_sub
    self.assertEqual(calc.sub(3, 1), 2)
AssertionError: 4 != 2

----------------------------------------------------------------------
Ran 5 tests in 0.004s

FAILED (failures=1, errors=1, skipped=1)
`;

const ev = (e: Record<string, unknown>) => JSON.stringify({ Time: '2025-12-05T10:00:00.123456789Z', ...e });
/** `go test -json ./...` (test2json events), one package passing, one with a failing subtest. */
export const GO_JSON = [
  ev({ Action: 'start', Package: 'example.com/calc' }),
  ev({ Action: 'run', Package: 'example.com/calc', Test: 'TestAdd' }),
  ev({ Action: 'output', Package: 'example.com/calc', Test: 'TestAdd', Output: '=== RUN   TestAdd\n' }),
  ev({ Action: 'output', Package: 'example.com/calc', Test: 'TestAdd', Output: '--- PASS: TestAdd (0.00s)\n' }),
  ev({ Action: 'pass', Package: 'example.com/calc', Test: 'TestAdd', Elapsed: 0.001 }),
  ev({ Action: 'run', Package: 'example.com/calc', Test: 'TestDiv' }),
  ev({ Action: 'run', Package: 'example.com/calc', Test: 'TestDiv/by_zero' }),
  ev({ Action: 'output', Package: 'example.com/calc', Test: 'TestDiv/by_zero', Output: '    calc_test.go:21: Div(1, 0) = 0, want error\n' }),
  ev({ Action: 'output', Package: 'example.com/calc', Test: 'TestDiv/by_zero', Output: '    --- FAIL: TestDiv/by_zero (0.00s)\n' }),
  ev({ Action: 'fail', Package: 'example.com/calc', Test: 'TestDiv/by_zero', Elapsed: 0 }),
  ev({ Action: 'output', Package: 'example.com/calc', Test: 'TestDiv', Output: '--- FAIL: TestDiv (0.00s)\n' }),
  ev({ Action: 'fail', Package: 'example.com/calc', Test: 'TestDiv', Elapsed: 0.02 }),
  ev({ Action: 'run', Package: 'example.com/calc', Test: 'TestNet' }),
  ev({ Action: 'output', Package: 'example.com/calc', Test: 'TestNet', Output: '    calc_test.go:30: needs network\n' }),
  ev({ Action: 'skip', Package: 'example.com/calc', Test: 'TestNet', Elapsed: 0 }),
  ev({ Action: 'output', Package: 'example.com/calc', Output: 'FAIL\texample.com/calc\t0.004s\n' }),
  ev({ Action: 'fail', Package: 'example.com/calc', Elapsed: 0.004 }),
].join('\n');

export const GO_VERBOSE = `=== RUN   TestAdd
--- PASS: TestAdd (0.00s)
=== RUN   TestDiv
=== RUN   TestDiv/by_zero
    calc_test.go:21: Div(1, 0) = 0, want error
--- FAIL: TestDiv (0.02s)
    --- FAIL: TestDiv/by_zero (0.00s)
=== RUN   TestNet
    calc_test.go:30: needs network
--- SKIP: TestNet (0.00s)
FAIL
FAIL\texample.com/calc\t0.004s
FAIL\texample.com/broken [build failed]
FAIL
`;

export const CARGO = `   Compiling calc v0.1.0 (/app)
    Finished \`test\` profile [unoptimized + debuginfo] target(s) in 1.20s
     Running unittests src/lib.rs (target/debug/deps/calc-3f2a1b)

running 4 tests
test tests::add ... ok
test tests::slow ... ignored, takes a minute
test tests::sub ... FAILED
test tests::net ... ignored

failures:

---- tests::sub stdout ----

thread 'tests::sub' panicked at src/lib.rs:21:9:
assertion \`left == right\` failed
  left: 4
 right: 2
note: run with \`RUST_BACKTRACE=1\` environment variable to display a backtrace


failures:
    tests::sub

test result: FAILED. 1 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: test failed, to rerun pass \`--lib\`
`;

export const NEXTEST = `    Finished \`test\` profile [unoptimized + debuginfo] target(s) in 0.05s
────────────
 Nextest run ID 6f1e2a3b-0c4d-4e5f-8a9b-0c1d2e3f4a5b with nextest profile: default
    Starting 3 tests across 1 binary (1 test skipped)
        PASS [   0.004s] calc tests::add
        FAIL [   0.006s] calc tests::sub
--- STDERR:              calc tests::sub ---

thread 'tests::sub' panicked at src/lib.rs:21:9:
assertion \`left == right\` failed
  left: 4
 right: 2
        SKIP [         ] calc tests::net
────────────
     Summary [   0.012s] 2 tests run: 1 passed, 1 failed, 1 skipped
        FAIL [   0.006s] calc tests::sub
error: test run failed
`;

/** pytest --junitxml (one <testsuites> around one <testsuite>), times in seconds. */
export const JUNIT_PYTEST = `<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="3" time="0.512" timestamp="2025-12-05T10:00:00.000000+00:00" hostname="sandbox"><testcase classname="tests.test_outputs" name="test_exists" time="0.001" /><testcase classname="tests.test_outputs" name="test_content" time="0.250"><failure message="AssertionError: assert 'Hello' == 'Hello, world!'">def test_content():
&gt;       assert read() == "Hello, world!"
E       AssertionError: assert 'Hello' == 'Hello, world!'

tests/test_outputs.py:14: AssertionError</failure></testcase><testcase classname="tests.test_outputs" name="test_network" time="0.000"><skipped type="pytest.skip" message="needs network">/tests/test_outputs.py:20: needs network</skipped></testcase></testsuite></testsuites>`;

/** go-junit-report: a bare <testsuite> root per package is common too; an <error> counts as a failure. */
export const JUNIT_GO = `<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="example.com/calc" tests="2" failures="0" errors="1" id="0" hostname="sandbox" time="0.004" timestamp="2025-12-05T10:00:00Z">
  <properties><property name="go.version" value="go1.23.4"></property></properties>
  <testcase name="TestAdd" classname="example.com/calc" time="0.001"></testcase>
  <testcase name="TestDiv" classname="example.com/calc" time="0.020"><error message="Failed">calc_test.go:21: Div(1, 0) = 0, want error</error></testcase>
</testsuite>`;

/** `jest --json` (vitest's json reporter writes the same shape): durations in ms, colours in messages. */
export const JEST = JSON.stringify({
  numFailedTestSuites: 2,
  numFailedTests: 1,
  numPassedTestSuites: 0,
  numPassedTests: 1,
  numPendingTestSuites: 0,
  numPendingTests: 1,
  numRuntimeErrorTestSuites: 1,
  numTodoTests: 0,
  numTotalTestSuites: 2,
  numTotalTests: 3,
  startTime: 1764932400000,
  success: false,
  testResults: [
    {
      assertionResults: [
        { ancestorTitles: ['calc'], failureMessages: [], fullName: 'calc adds', location: null, status: 'passed', title: 'adds', duration: 3 },
        {
          ancestorTitles: ['calc'],
          failureMessages: ['Error: \u001b[2mexpect(\u001b[22m\u001b[31mreceived\u001b[39m\u001b[2m).\u001b[22mtoBe\u001b[2m(\u001b[22m\u001b[32mexpected\u001b[39m\u001b[2m)\u001b[22m\n\nExpected: \u001b[32m2\u001b[39m\nReceived: \u001b[31m4\u001b[39m\n    at Object.<anonymous> (/app/calc.test.js:9:23)'],
          fullName: 'calc subtracts',
          location: null,
          status: 'failed',
          title: 'subtracts',
          duration: 5,
        },
        { ancestorTitles: ['calc'], failureMessages: [], fullName: 'calc talks to the network', status: 'pending', title: 'talks to the network', duration: null },
      ],
      endTime: 1764932400500,
      message: '',
      name: '/app/calc.test.js',
      startTime: 1764932400100,
      status: 'failed',
      summary: '',
    },
    {
      assertionResults: [],
      endTime: 0,
      message: "  \u001b[1m● \u001b[22mTest suite failed to run\n\n    Cannot find module './server' from 'server.test.js'",
      name: '/app/server.test.js',
      startTime: 0,
      status: 'failed',
      summary: '',
    },
  ],
  wasInterrupted: false,
});

/** test.sh's output when the verifier died before pytest ran a test. */
export const CRASHES = {
  fatalPython: `Fatal Python error: init_import_site: Failed to import the site module
Python runtime state: initialized
Traceback (most recent call last):
  File "<frozen site>", line 73, in <module>
ModuleNotFoundError: No module named 'encodings'
`,
  download: `downloading uv 0.9.7 x86_64-unknown-linux-gnu
curl: (6) Could not resolve host: astral.sh
/tests/test.sh: line 11: /root/.local/bin/env: No such file or directory
/tests/test.sh: line 14: uvx: command not found
`,
  uv: `  × Failed to download \`pytest==8.4.1\`
error: Failed to fetch: \`https://pypi.org/simple/pytest/\`
  Caused by: Request failed after 3 retries
`,
  collection: `============================= test session starts ==============================
collected 0 items / 1 error

==================================== ERRORS ====================================
___________________ ERROR collecting tests/test_outputs.py ____________________
ImportError while importing test module '/tests/test_outputs.py'.
E   ModuleNotFoundError: No module named 'numpy'
=========================== short test summary info ============================
ERROR tests/test_outputs.py - ModuleNotFoundError: No module named 'numpy'
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
=============================== 1 error in 0.12s ===============================
`,
  traceback: `Traceback (most recent call last):
  File "/tests/run_checks.py", line 3, in <module>
    import requests
ModuleNotFoundError: No module named 'requests'
`,
};
