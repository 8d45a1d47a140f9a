// A multi-step trial's verifier files (issue 16 item 9): Harbor moves each step's agent/, verifier/ and
// artifacts/ into steps/<step name>/ once the step ends (and removes the emptied root folders at the
// end), so every step folder has a trial directory's shape; a step that died midway keeps its files
// in the trial's own folders. The run's tests are all steps' tests, each name
// prefixed `<step>/` (the wire keeps one flat list); its reward flag is the first step's whose reward
// files were not written by that step's verifier.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { isStepFolderName, stepDir, TRIAL_FILES } from '../protocol/layout.js';
import { TEST_LIMITS, type RewardFlag, type TestResults } from '../protocol/messages.js';
import type { TrialResult } from './result.js';
import { checkRewardIntegrity } from './reward-integrity.js';
import { readTrialTests, type TrialTests } from './tests/index.js';
import { joinNotes } from './tests/report.js';

/** A recorded step and the folder its files are in. */
interface RecordedStep {
  name: string;
  dir: string;
  verifierStartedAt: string | null;
}

const holdsFiles = (dir: string) => readdir(dir).then((names) => names.length > 0, () => false);
/** Whether a trial-shaped folder holds what an agent or verifier wrote. */
const hasStepFiles = async (dir: string) =>
  (await holdsFiles(path.join(dir, TRIAL_FILES.verifierDir))) || (await holdsFiles(path.join(dir, TRIAL_FILES.agentDir)));

/**
 * The recorded steps whose files can be read, in the order Harbor ran them: each from its
 * steps/<name>/ folder once Harbor filed it there, and a step that was not (one that died midway,
 * or a Harbor that does not file steps) from the trial's own folders, where its files stayed — the
 * last such step only, as each step's files replace the one's before. Empty for a single-step trial.
 */
export async function recordedSteps(trialDir: string, result: TrialResult): Promise<RecordedStep[]> {
  const steps: RecordedStep[] = [];
  let unfiled: RecordedStep | null = null;
  for (const step of result.step_results ?? []) {
    const name = step.step_name;
    if (!name || !isStepFolderName(name)) continue;
    const recorded = { name, dir: path.join(trialDir, stepDir(name)), verifierStartedAt: step.verifier?.started_at ?? null };
    if (await hasStepFiles(recorded.dir)) steps.push(recorded);
    else unfiled = recorded;
  }
  if (unfiled && (await hasStepFiles(trialDir))) steps.push({ ...unfiled, dir: trialDir });
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

/** The trial's tests: its steps' for a multi-step trial, else its own verifier folder's. */
export async function readRunTests(trialDir: string, result: TrialResult): Promise<TrialTests> {
  const steps = await recordedSteps(trialDir, result);
  if (steps.length === 0) return readTrialTests(trialDir);
  return mergeStepTests(await Promise.all(steps.map(async (s) => ({ name: s.name, read: await readTrialTests(s.dir) }))));
}

/** The reward flag: per step against that step's verifier start for a multi-step trial, else the trial's. */
export async function checkRunRewardIntegrity(trialDir: string, result: TrialResult): Promise<RewardFlag | null> {
  const steps = await recordedSteps(trialDir, result);
  if (steps.length === 0) return checkRewardIntegrity(trialDir, result.verifier?.started_at ?? null);
  for (const step of steps) {
    const flag = await checkRewardIntegrity(step.dir, step.verifierStartedAt);
    if (flag) return { ...flag, detail: `step ${step.name}: ${flag.detail}`.slice(0, 1_000) };
  }
  return null;
}
