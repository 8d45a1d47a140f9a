// Per-test results end to end: runner processes drive the Harbor simulator, the runner parses the
// verifier's files, the recorder stores them, GraphQL serves them.
import { describe, expect, it } from 'vitest';
import { graphql, type TestApp } from './support/app.js';
import { type JobHarness } from './support/jobs.js';
import { usePlatformWithRunners } from './support/platform.js';

let api: TestApp;
let h: JobHarness;

usePlatformWithRunners((p) => ({ api, h } = p));

const RUNS = `query($id: ID!, $taskId: ID) { job(id: $id) {
  runs(first: 100) { edges { node { id status failureKind exceptionType exceptionMessage reward task { id name }
    tests { position name status durationMs message } testsPassed testsFailed testsTotal testsSource testsNote } } }
  failingTests { task { name } name failures runs lastMessage sampleRunId }
  narrowed: failingTests(taskId: $taskId, first: 1) { task { id } name }
} }`;

const FAILED = [
  ['tests/test_outputs.py::test_task_solved', 'AssertionError: the task is not solved'],
  ['tests/test_outputs.py::test_file_exists', "AssertionError: assert os.path.exists('/app/result.json')"],
];

describe('per-test results with runner processes and the Harbor simulator', () => {
  it('records the tests of every outcome that reached the verifier, from ctrf.json or the pytest summary, with notes', async () => {
    const ctrf = await h.simulatedTask('tests-ctrf', { HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_TESTS: '5' });
    const pytest = await h.simulatedTask('tests-pytest', { HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_TESTS: '5', HARBOR_SIM_CTRF: 'none' });
    const malformed = await h.simulatedTask('tests-malformed', { HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_CTRF: 'malformed' });
    const crashed = await h.simulatedTask('tests-crashed', { HARBOR_SIM_SCENARIO: 'reward-missing' });
    const passing = await h.simulatedTask('tests-pass', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_TESTS: '3', HARBOR_SIM_TRAJECTORY: 'truncated', HARBOR_SIM_RECORDING: 'truncated' });
    const runner = h.startRunner('runner-tests', 4);
    await runner.waitFor(/ready/);
    const jobId = await h.createJob({ taskIds: [ctrf, pytest, malformed, crashed, passing], agent: 'terminus-2', model: 'openrouter/anthropic/claude-sonnet-4', runsPerTask: 2 });
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 90_000);

    const { data } = await graphql(api.url, RUNS, { id: jobId, taskId: malformed });
    const runs = data.job.runs.edges.map((e: any) => e.node);
    expect(runs).toHaveLength(10);
    for (const run of runs) {
      const failed = run.tests.filter((t: any) => t.status === 'FAILED').map((t: any) => [t.name, t.message]);
      switch (run.task.name) {
        case 'tests-ctrf':
          // ctrf.json as pytest-json-ctrf 0.3.5 writes it: seconds, and the assertion in trace.
          expect(run).toMatchObject({ status: 'FAILED', testsPassed: 3, testsFailed: 2, testsTotal: 5, testsSource: 'CTRF', testsNote: 'read from verifier/ctrf.json (CTRF)' });
          expect(run.tests.map((t: any) => t.position)).toEqual([0, 1, 2, 3, 4]);
          expect(run.tests[0]).toMatchObject({ name: 'tests/test_outputs.py::test_outputs_exist', status: 'PASSED', message: null });
          // 0.04 s in the file, not 0 ms.
          expect(run.tests.map((t: any) => t.durationMs)).toEqual([40, 27, 14, 51, 38]);
          expect(failed.map(([name, message]: string[]) => [name, message!.split('\n\n')[0]])).toEqual(FAILED);
          expect(failed[0][1]).toMatch(/\n\ndef test_task_solved\(\):\n>       check_test_task_solved\(\)\nE       AssertionError: the task is not solved\n/);
          expect(failed[0][1]).not.toContain('The test failed in the call phase');
          break;
        case 'tests-pytest':
          expect(run).toMatchObject({ testsPassed: 3, testsTotal: 5, testsSource: 'PYTEST', testsNote: 'read from verifier/test-stdout.txt (pytest output)' });
          expect(run.tests).toHaveLength(5);
          expect(failed).toEqual(FAILED);
          break;
        case 'tests-malformed':
          expect(run).toMatchObject({ testsPassed: 1, testsTotal: 2, testsSource: 'PYTEST' });
          expect(run.testsNote).toMatch(/^read from verifier\/test-stdout\.txt \(pytest output\); verifier\/ctrf\.json could not be read: it is not a CTRF report /);
          break;
        case 'tests-crashed':
          // Harbor's RewardFileNotFoundError stays the verdict; the note says what the output shows.
          expect(run).toMatchObject({ status: 'ERRORED', exceptionType: 'RewardFileNotFoundError', tests: [], testsTotal: null, testsSource: null });
          expect(run.testsNote).toBe(
            'the verifier crashed before any test ran: curl: (6) Could not resolve host: astral.sh; verifier/test-stdout.txt has no test results that pytest, unittest, go test or cargo would print',
          );
          break;
        default:
          // Broken agent files do not keep the run from recording its tests.
          expect(run).toMatchObject({ status: 'PASSED', testsPassed: 3, testsTotal: 3, testsSource: 'CTRF' });
      }
    }

    // Each failing test of each task failed in both of its runs: ranked by failures, then name.
    const failing = data.job.failingTests;
    expect(failing.map((f: any) => [f.task.name, f.name.split('::')[1], f.failures, f.runs])).toEqual([
      ['tests-ctrf', 'test_file_exists', 2, 2],
      ['tests-pytest', 'test_file_exists', 2, 2],
      ['tests-ctrf', 'test_task_solved', 2, 2],
      ['tests-malformed', 'test_task_solved', 2, 2],
      ['tests-pytest', 'test_task_solved', 2, 2],
    ]);
    const sample = runs.find((r: any) => r.id === failing[0].sampleRunId);
    expect(sample.task.name).toBe('tests-ctrf');
    expect(failing[0].lastMessage.split('\n\n')[0]).toBe(FAILED[1]![1]);
    expect(data.job.narrowed).toEqual([{ task: { id: malformed }, name: 'tests/test_outputs.py::test_task_solved' }]);

    const task = await graphql(api.url, `query($id: ID!) { task(id: $id) { failingTests(first: 5) { name failures runs } } }`, { id: ctrf });
    expect(task.data.task.failingTests).toEqual([
      { name: 'tests/test_outputs.py::test_file_exists', failures: 2, runs: 2 },
      { name: 'tests/test_outputs.py::test_task_solved', failures: 2, runs: 2 },
    ]);
    const bad = await graphql(api.url, `query($id: ID!) { job(id: $id) { failingTests(first: 0) { name } } }`, { id: jobId });
    expect(bad.errors?.[0]?.message).toMatch(/first must be a whole number from 1 to 100, got 0/);
  }, 120_000);
  it('records a verifier crash as ERRORED / INFRASTRUCTURE with its line, and reads the suites of go, cargo, unittest, JUnit, jest and pytest -v', async () => {
    const formats = ['crash', 'pytest-verbose', 'go-json', 'cargo', 'unittest', 'junit', 'jest'];
    const taskIds = [];
    for (const format of formats) taskIds.push(await h.simulatedTask(`verifier-${format}`, { HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_TESTS: '3', HARBOR_SIM_VERIFIER: format }));
    const runner = h.startRunner('runner-verifiers', 4);
    await runner.waitFor(/ready/);
    const jobId = await h.createJob({ taskIds, agent: 'terminus-2', model: 'openrouter/anthropic/claude-sonnet-4', runsPerTask: 1 });
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 90_000);

    const { data } = await graphql(api.url, RUNS, { id: jobId });
    const runs = Object.fromEntries(data.job.runs.edges.map((e: any) => [e.node.task.name.replace('verifier-', ''), e.node]));
    expect(runs.crash).toMatchObject({
      status: 'ERRORED',
      failureKind: 'INFRASTRUCTURE',
      exceptionType: 'VerifierCrashError',
      exceptionMessage: 'the verifier crashed before any test ran: Fatal Python error: init_import_site: Failed to import the site module',
      reward: 0,
      tests: [],
      testsSource: null,
    });
    expect(runs.crash.testsNote).toMatch(/^the verifier crashed before any test ran: Fatal Python error: /);
    const SOURCES: Record<string, string> = { 'pytest-verbose': 'PYTEST', 'go-json': 'GO', cargo: 'CARGO', unittest: 'UNITTEST', junit: 'JUNIT', jest: 'JEST' };
    for (const [format, source] of Object.entries(SOURCES)) {
      const run = runs[format];
      expect(run, format).toMatchObject({ status: 'FAILED', exceptionType: null, testsSource: source, testsPassed: 2, testsFailed: 1, testsTotal: 3 });
      expect(run.testsNote, format).toMatch(/^read from verifier\//);
      expect(run.tests.map((t: any) => t.status), format).toEqual(['PASSED', 'FAILED', 'PASSED']);
      expect(run.tests[1].name, format).toMatch(/task_solved/);
      if (format !== 'pytest-verbose') expect(run.tests[1].message, format).toContain('the task is not solved');
    }
  }, 120_000);
});
