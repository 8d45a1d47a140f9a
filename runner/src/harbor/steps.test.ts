import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { testResultsSchema } from '../protocol/messages.js';
import { parseTrialResult } from './result.js';
import { checkRunRewardIntegrity, readRunTests } from './steps.js';

const root = await mkdtemp(path.join(os.tmpdir(), 'steps-'));
afterAll(() => rm(root, { recursive: true, force: true }));
// A two-step trial result (build, ship) with each step's verifier timings, as Harbor's multi-step trial writes it.
const multiStep = parseTrialResult(await readFile(fileURLToPath(new URL('./fixtures/trial-multi-step.json', import.meta.url)), 'utf8'));
const shipVerifierMs = Date.parse(multiStep.step_results![1]!.verifier!.started_at!);

let n = 0;
async function trialWith(files: Record<string, string | { text: string; mtimeMs: number }>): Promise<string> {
  const trial = path.join(root, `trial-${++n}`);
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(trial, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, typeof content === 'string' ? content : content.text);
    if (typeof content !== 'string') await utimes(file, content.mtimeMs / 1000, content.mtimeMs / 1000);
  }
  await mkdir(path.join(trial, 'agent'), { recursive: true });
  await mkdir(path.join(trial, 'verifier'), { recursive: true });
  return trial;
}

/** pytest -rA's short summary, as test.sh's output ends. */
const pytest = (...lines: string[]) => {
  const failed = lines.filter((l) => l.startsWith('FAILED')).length;
  const counts = [`${lines.length - failed} passed`, ...(failed ? [`${failed} failed`] : [])].reverse().join(', ');
  return `============ short test summary info ============\n${lines.join('\n')}\n====== ${counts} in 0.12s ======\n`;
};

describe('a multi-step trial filed per step (steps/<name>/verifier/)', () => {
  it("reads every step's tests, names prefixed with the step, the root verifier folder being empty", async () => {
    const trial = await trialWith({
      'steps/build/verifier/test-stdout.txt': pytest('PASSED tests/test_outputs.py::test_build'),
      'steps/ship/verifier/test-stdout.txt': pytest('PASSED tests/test_outputs.py::test_build', 'FAILED tests/test_outputs.py::test_ship - assert False'),
    });
    const { tests, crash } = await readRunTests(trial, multiStep);
    expect(crash).toBeNull();
    expect(testResultsSchema.parse(tests)).toMatchObject({
      source: 'pytest',
      passed: 2,
      failed: 1,
      total: 3,
      cases: [
        { name: 'build/tests/test_outputs.py::test_build', status: 'PASSED' },
        { name: 'ship/tests/test_outputs.py::test_build', status: 'PASSED' },
        { name: 'ship/tests/test_outputs.py::test_ship', status: 'FAILED' },
      ],
    });
    expect(tests!.note).toMatch(/^tests of 2 steps, named <step>\/<test>; step build: read from verifier\/test-stdout\.txt \(pytest output\); step ship: /);
  });

  it("checks each step's reward files against that step's verifier start", async () => {
    // ship's reward.json predates ship's verifier (the agent of step ship wrote it); build's files are fine.
    const trial = await trialWith({
      'steps/build/verifier/reward.txt': '1\n',
      'steps/ship/verifier/reward.txt': { text: '0\n', mtimeMs: shipVerifierMs + 5_000 },
      'steps/ship/verifier/reward.json': { text: '{"reward": 0}\n', mtimeMs: shipVerifierMs - 60_000 },
    });
    expect(await checkRunRewardIntegrity(trial, multiStep)).toEqual({
      kind: 'WRITTEN_BEFORE_VERIFIER',
      detail: expect.stringMatching(/^step ship: verifier\/reward\.json was last written at .*, 60\.0 s before the verifier started \(2026-09-03T09:12:07Z\)/),
    });
    // The same file is fine for a trial whose only verifier ran long before: the step's start is what counts.
    const fine = await trialWith({ 'steps/ship/verifier/reward.txt': { text: '0\n', mtimeMs: shipVerifierMs + 5_000 } });
    expect(await checkRunRewardIntegrity(fine, multiStep)).toBeNull();
  });

  it("reads a step that died midway from the trial's own folders, where Harbor left its files, against that step's verifier start", async () => {
    // build was filed; ship's folder was made before it began and stayed empty, its files at the root.
    const trial = await trialWith({
      'steps/build/verifier/test-stdout.txt': pytest('PASSED tests/test_outputs.py::test_build'),
      'steps/ship/agent/.keep': '',
      'verifier/test-stdout.txt': pytest('FAILED tests/test_outputs.py::test_ship - assert False'),
      'verifier/reward.txt': { text: '1\n', mtimeMs: shipVerifierMs - 60_000 },
    });
    await rm(path.join(trial, 'steps/ship/agent/.keep'));
    const { tests } = await readRunTests(trial, multiStep);
    expect(tests!.cases.map((c) => [c.name, c.status])).toEqual([
      ['build/tests/test_outputs.py::test_build', 'PASSED'],
      ['ship/tests/test_outputs.py::test_ship', 'FAILED'],
    ]);
    expect(await checkRunRewardIntegrity(trial, multiStep)).toMatchObject({
      kind: 'WRITTEN_BEFORE_VERIFIER',
      detail: expect.stringMatching(/^step ship: verifier\/reward\.txt was last written at .*, 60\.0 s before the verifier started \(2026-09-03T09:12:07Z\)/),
    });
  });

  it('reads a single-step trial from its own folders, names unprefixed', async () => {
    const trial = await trialWith({ 'verifier/test-stdout.txt': pytest('PASSED tests/test_outputs.py::test_build') });
    const { tests } = await readRunTests(trial, { ...multiStep, step_results: null });
    expect(tests!.cases).toEqual([expect.objectContaining({ name: 'tests/test_outputs.py::test_build' })]);
  });
});
