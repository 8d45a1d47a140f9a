import { describe, expect, it } from 'vitest';
import { parsePytest } from './pytest.js';
import { CRASHES, PYTEST, PYTEST_VERBOSE } from './test-fixtures.js';

describe('parsePytest', () => {
  it('reads the progress lines in order, with the -rA summary adding messages and the tests the progress lost', () => {
    expect(parsePytest(PYTEST)).toEqual({
      source: 'pytest',
      passed: 2,
      failed: 2,
      skipped: 1,
      total: 5,
      cases: [
        { name: 'tests/test_outputs.py::test_file_exists', status: 'PASSED' },
        { name: 'tests/test_outputs.py::test_content', status: 'FAILED', message: "AssertionError: expected 'hello' - got 'bye'" },
        { name: 'tests/test_outputs.py::test_mode[a - b]', status: 'PASSED' },
        { name: 'tests/test_outputs.py::test_setup', status: 'FAILED', message: 'FileNotFoundError: /app/out' },
      ],
    });
  });

  it('reads the summary alone, skips grouped by location, when there are no progress lines', () => {
    const summaryOnly = PYTEST.slice(PYTEST.indexOf('====================== short'));
    expect(parsePytest(summaryOnly)?.cases).toEqual([
      { name: 'tests/test_outputs.py::test_file_exists', status: 'PASSED' },
      { name: 'tests/test_outputs.py::test_mode[a - b]', status: 'PASSED' },
      { name: 'tests/test_outputs.py::test_content', status: 'FAILED', message: "AssertionError: expected 'hello' - got 'bye'" },
      { name: 'tests/test_outputs.py::test_setup', status: 'FAILED', message: 'FileNotFoundError: /app/out' },
      { name: 'tests/test_outputs.py:40', status: 'SKIPPED', message: 'needs network' },
    ]);
  });

  it('gives names and statuses from verbose progress lines without a short summary (issue 16 item 1)', () => {
    expect(parsePytest(PYTEST_VERBOSE)).toEqual({
      source: 'pytest',
      passed: 2,
      failed: 1,
      skipped: 1,
      total: 4,
      cases: [
        { name: '../tests/test_outputs.py::test_binary_exists', status: 'PASSED' },
        { name: '../tests/test_outputs.py::test_output[small]', status: 'PASSED' },
        { name: '../tests/test_outputs.py::test_output[large input]', status: 'FAILED' },
        { name: '../tests/test_outputs.py::test_network', status: 'SKIPPED', message: 'needs network' },
      ],
    });
  });

  it('counts a test whose teardown errs after it passed once, as failed', () => {
    const text = 't.py::a PASSED [ 50%]\nt.py::a ERROR [ 50%]\nt.py::b PASSED [100%]\n';
    expect(parsePytest(text)).toMatchObject({ passed: 1, failed: 1, total: 2, cases: [{ name: 't.py::a', status: 'FAILED' }, { name: 't.py::b' }] });
  });

  it('counts from the final line what a summary without -rA leaves out', () => {
    const results = parsePytest('FAILED t.py::a - boom\n==== 1 failed, 9 passed in 1.5s ====\n');
    expect(results).toMatchObject({ passed: 9, failed: 1, total: 10, cases: [{ name: 't.py::a', status: 'FAILED' }] });
  });

  it('counts from the lines when the output was cut before the final line, and gives null without any', () => {
    const cut = PYTEST.slice(0, PYTEST.indexOf('ERROR'));
    expect(parsePytest(cut)).toMatchObject({ passed: 2, failed: 1, total: 3 });
    expect(parsePytest(CRASHES.download)).toBeNull();
    expect(parsePytest('')).toBeNull();
  });

  it('reads "no tests ran", and gives null for a run that only failed to collect', () => {
    expect(parsePytest('============ no tests ran in 0.01s ============')).toMatchObject({ total: 0, cases: [] });
    expect(parsePytest(CRASHES.collection)).toBeNull();
  });
});
