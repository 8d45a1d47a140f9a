import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runResultSchema } from '../../protocol/messages.js';
import { readTrialTests } from './index.js';
import { CRASHES, CTRF_PYTEST_PLUGIN, ctrf, GO_JSON, GO_VERBOSE, JEST, JUNIT_GO, JUNIT_PYTEST, NEXTEST, PYTEST, PYTEST_VERBOSE, UNITTEST } from './test-fixtures.js';

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

  it('prefers ctrf.json, and says which reader was used', async () => {
    const dir = await trial({ 'verifier/ctrf.json': ctrf([{ name: 'a', status: 'passed' }]), 'verifier/test-stdout.txt': PYTEST, 'verifier/junit.xml': JUNIT_PYTEST });
    expect(await readTrialTests(dir)).toEqual({
      tests: expect.objectContaining({ source: 'ctrf', total: 1, note: 'read from verifier/ctrf.json (CTRF)' }),
      crash: null,
    });
  });

  it('reads the real pytest-json-ctrf report in seconds with traces', async () => {
    const { tests } = await readTrialTests(await trial({ 'verifier/ctrf.json': CTRF_PYTEST_PLUGIN }));
    expect(tests?.cases[1]).toMatchObject({ status: 'FAILED', durationMs: 1532, message: expect.stringContaining("AssertionError: assert 'Hello' == 'Hello, world!'") });
  });

  it('falls back to the pytest output without ctrf.json, progress lines alone included', async () => {
    expect((await readTrialTests(await trial({ 'verifier/test-stdout.txt': PYTEST }))).tests).toMatchObject({ source: 'pytest', total: 5, failed: 2 });
    const { tests } = await readTrialTests(await trial({ 'verifier/test-stdout.txt': PYTEST_VERBOSE }));
    expect(tests).toMatchObject({ source: 'pytest', total: 4, note: 'read from verifier/test-stdout.txt (pytest output)' });
    expect(tests?.cases.map((c) => c.status)).toEqual(['PASSED', 'PASSED', 'FAILED', 'SKIPPED']);
  });

  it('falls back with a note when ctrf.json is truncated or lists no tests', async () => {
    const full = ctrf([{ name: 'a', status: 'passed' }]);
    const { tests } = await readTrialTests(await trial({ 'verifier/ctrf.json': full.slice(0, 30), 'verifier/test-stdout.txt': PYTEST }));
    expect(tests).toMatchObject({ source: 'pytest', total: 5 });
    expect(tests?.note).toMatch(/^read from verifier\/test-stdout\.txt \(pytest output\); verifier\/ctrf\.json could not be read: it is not complete JSON .*\)$/);
    const empty = await readTrialTests(await trial({ 'verifier/ctrf.json': ctrf([]), 'verifier/test-stdout.txt': PYTEST }));
    expect(empty.tests?.note).toBe('read from verifier/test-stdout.txt (pytest output); verifier/ctrf.json lists no tests');
  });

  it('reads JUnit XML anywhere under verifier/, all files together, before jest, go and the output', async () => {
    const dir = await trial({ 'verifier/test-stdout.txt': PYTEST, 'verifier/jest.json': JEST });
    await mkdir(path.join(dir, 'verifier/reports/go'), { recursive: true });
    await writeFile(path.join(dir, 'verifier/reports/pytest.xml'), JUNIT_PYTEST);
    await writeFile(path.join(dir, 'verifier/reports/go/calc.xml'), JUNIT_GO);
    await writeFile(path.join(dir, 'verifier/reports/coverage.xml'), '<coverage line-rate="1"/>');
    await writeFile(path.join(dir, 'verifier/reports/broken.xml'), '<testsuite><testcase>');
    const { tests } = await readTrialTests(dir);
    expect(tests).toMatchObject({ source: 'junit', total: 5, failed: 2 });
    expect(tests?.cases[0]!.name).toBe('example.com/calc.TestAdd');
    expect(tests?.note).toMatch(/^read from verifier\/reports\/go\/calc\.xml, verifier\/reports\/pytest\.xml \(JUnit XML\); verifier\/reports\/broken\.xml could not be read: it is not well-formed XML/);
  });

  it('reads jest/vitest JSON from a file or from the output, and go test -json from either', async () => {
    expect((await readTrialTests(await trial({ 'verifier/results.json': JEST, 'verifier/go.jsonl': GO_JSON }))).tests).toMatchObject({ source: 'jest', total: 4, note: 'read from verifier/results.json (jest/vitest JSON)' });
    expect((await readTrialTests(await trial({ 'verifier/test-stdout.txt': `> jest --json\n${JEST}\n` }))).tests).toMatchObject({ source: 'jest', total: 4 });
    expect((await readTrialTests(await trial({ 'verifier/go.jsonl': GO_JSON }))).tests).toMatchObject({ source: 'go', total: 4, note: 'read from verifier/go.jsonl (go test -json)' });
    expect((await readTrialTests(await trial({ 'verifier/test-stdout.txt': GO_JSON }))).tests).toMatchObject({ source: 'go', total: 4 });
  });

  it('reads unittest, go test -v and cargo output from test-stdout.txt', async () => {
    for (const [text, source, reader] of [
      [UNITTEST, 'unittest', 'unittest -v'],
      [GO_VERBOSE, 'go', 'go test -v'],
      [NEXTEST, 'cargo', 'cargo test / nextest'],
    ] as const) {
      const { tests } = await readTrialTests(await trial({ 'verifier/test-stdout.txt': text }));
      expect(tests).toMatchObject({ source });
      expect(tests?.note).toMatch(new RegExp(`^read from verifier/test-stdout\\.txt \\(${reader.replace('/', '\\/')} output\\)`));
    }
  });

  it('reads test-stderr.txt too where a Harbor writes one (unittest prints to stderr)', async () => {
    const { tests } = await readTrialTests(await trial({ 'verifier/test-stdout.txt': 'running the suite\n', 'verifier/test-stderr.txt': UNITTEST }));
    expect(tests).toMatchObject({ source: 'unittest', total: 5, note: 'read from verifier/test-stdout.txt + verifier/test-stderr.txt (unittest -v output)' });
  });

  it('records no tests with a note naming the crash line when the verifier died before any test', async () => {
    const { tests, crash } = await readTrialTests(await trial({ 'verifier/test-stdout.txt': CRASHES.download }));
    expect(crash).toBe('curl: (6) Could not resolve host: astral.sh');
    expect(tests).toMatchObject({ source: null, total: 0, cases: [] });
    expect(tests?.note).toBe(
      'the verifier crashed before any test ran: curl: (6) Could not resolve host: astral.sh; verifier/test-stdout.txt has no test results that pytest, unittest, go test or cargo would print',
    );
    // pytest-json-ctrf still writes a report after a collection error: with no tests in it.
    const collection = await readTrialTests(await trial({ 'verifier/ctrf.json': ctrf([], { tests: 0 }), 'verifier/test-stdout.txt': CRASHES.collection }));
    expect(collection.crash).toBe("ERROR collecting tests/test_outputs.py: ModuleNotFoundError: No module named 'numpy'");
    expect(collection.tests?.source).toBeNull();
  });

  it('records no tests, with a note, when nothing can be read, and nothing when there are no files', async () => {
    const { tests, crash } = await readTrialTests(await trial({ 'verifier/ctrf.json': '{"results": ', 'verifier/test-stdout.txt': 'all good\n' }));
    expect(crash).toBeNull();
    expect(tests).toMatchObject({ source: null, total: 0, cases: [] });
    expect(tests?.note).toMatch(/^verifier\/ctrf\.json could not be read: .*; verifier\/test-stdout\.txt has no test results/);
    expect(await readTrialTests(await trial({}))).toEqual({ tests: null, crash: null });
  });

  it('produces what the protocol accepts, and the protocol still accepts a result without tests', async () => {
    const { tests } = await readTrialTests(await trial({ 'verifier/test-stdout.txt': PYTEST }));
    const base = {
      status: 'FAILED', reward: 0, rewards: { reward: 0 }, exceptionType: null, exceptionMessage: null, failureKind: null,
      inputTokens: null, cacheTokens: null, outputTokens: null, costUsd: null, environmentSetupMs: null, agentSetupMs: null,
      agentExecutionMs: null, verifierMs: null, trialDir: null,
    };
    expect(runResultSchema.parse({ ...base, tests }).tests).toEqual(tests);
    expect(runResultSchema.parse(base).tests).toBeUndefined();
  });
});
