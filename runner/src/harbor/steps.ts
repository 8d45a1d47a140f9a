// A multi-step trial's verifier files (issue 16 item 9): Harbor moves each step's agent/, verifier/ and
// artifacts/ into steps/<step name>/ once the step ends, so the trial's root folders are empty and
// every step folder has a trial directory's shape. The run's tests are all steps' tests, each name
// prefixed `<step>/` (the wire keeps one flat list); its reward flag is the first step's whose reward
// files were not written by that step's verifier.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isStepFolderName, stepDir } from '../protocol/layout.js';
import { TEST_LIMITS, type RewardFlag, type TestResults } from '../protocol/messages.js';
import type { TrialResult } from './result.js';
import { checkRewardIntegrity } from './reward-integrity.js';
import { readTrialTests, type TrialTests } from './tests/index.js';
import { joinNotes } from './tests/report.js';

/** A recorded step with a folder of its own; step names that are not plain folder names are skipped. */
interface RecordedStep {
  name: string;
  dir: string;
  verifierStartedAt: string | null;
}

/**
 * The recorded steps whose folder exists, in the order Harbor ran them; empty for a single-step
 * trial (and for one written before Harbor moved step files, whose root folders are read instead).
 */
export async function recordedSteps(trialDir: string, result: TrialResult): Promise<RecordedStep[]> {
  const steps: RecordedStep[] = [];
  for (const step of result.step_results ?? []) {
    const name = step.step_name;
    if (!name || !isStepFolderName(name)) continue;
    const dir = path.join(trialDir, stepDir(name));
    if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) continue;
    steps.push({ name, dir, verifierStartedAt: step.verifier?.started_at ?? null });
  }
  return steps;
}

/** Every step's tests in one list, names prefixed with the step; the note names each step's reader. */
function mergeStepTests(perStep: { name: string; read: TrialTests }[]): TrialTests {
  const read = perStep.filter((s) => s.read.tests !== null);
  if (read.length === 0) return { tests: null, crash: null };
  const merged: TestResults = { source: null, passed: 0, failed: 0, skipped: 0, total: 0, cases: [] };
  const notes: string[] = [];
  let cut = 0;
  for (const { name, read: r } of read) {
    const t = r.tests!;
    merged.source ??= t.source;
    merged.passed += t.passed;
    merged.failed += t.failed;
    merged.skipped += t.skipped;
    merged.total += t.total;
    for (const c of t.cases) {
      if (merged.cases.length >= TEST_LIMITS.cases) {
        cut += 1;
        continue;
      }
      merged.cases.push({ ...c, name: `${name}/${c.name}`.slice(0, TEST_LIMITS.nameChars) });
    }
    notes.push(`step ${name}: ${t.note ?? 'read'}`);
  }
  if (cut) notes.push(`${cut} tests beyond the ${TEST_LIMITS.cases} a run stores were dropped`);
  const note = joinNotes(`tests of ${read.length} step${read.length === 1 ? '' : 's'}, named <step>/<test>`, ...notes);
  if (note) merged.note = note;
  const crashed = read.find((s) => s.read.crash !== null);
  return { tests: merged, crash: crashed ? `step ${crashed.name}: ${crashed.read.crash}` : null };
}

/** The trial's tests: its steps' when Harbor filed them per step, else its own verifier folder's. */
export async function readRunTests(trialDir: string, result: TrialResult): Promise<TrialTests> {
  const steps = await recordedSteps(trialDir, result);
  if (steps.length === 0) return readTrialTests(trialDir);
  return mergeStepTests(await Promise.all(steps.map(async (s) => ({ name: s.name, read: await readTrialTests(s.dir) }))));
}

/** The reward flag: per step against that step's verifier start when Harbor filed steps, else the trial's. */
export async function checkRunRewardIntegrity(trialDir: string, result: TrialResult): Promise<RewardFlag | null> {
  const steps = await recordedSteps(trialDir, result);
  if (steps.length === 0) return checkRewardIntegrity(trialDir, result.verifier?.started_at ?? null);
  for (const step of steps) {
    const flag = await checkRewardIntegrity(step.dir, step.verifierStartedAt);
    if (flag) return { ...flag, detail: `step ${step.name}: ${flag.detail}`.slice(0, 1_000) };
  }
  return null;
}
