// A multi-step trial's agent files (issue 16 item 9): Harbor files what each step's agent wrote under
// steps/<step name>/agent/ once the step ends, and the trial's own agent/ is left empty. A step's
// folder has a trial directory's shape, so the readers of the trial's files read it as one.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isStepFolderName, stepDir, stepFile, TRIAL_FILES } from 'runner/protocol';
import type { Trajectory } from './atif.js';
import { readTrajectory, type ReadOptions } from './trajectory.js';

const isFile = (dir: string, relative: string) => stat(path.join(dir, ...relative.split('/'))).then((s) => s.isFile(), () => false);

/**
 * Where a run's copy of a trial file is, relative to its trial directory: the trial's own while it
 * has one (a single-step trial, or the step that is running), else the last step's that has it.
 * `step` is null for the trial's own; null altogether when neither has it.
 */
export async function findRunFile(dir: string, stepNames: string[], trialFile: string): Promise<{ relative: string; step: string | null } | null> {
  if (await isFile(dir, trialFile)) return { relative: trialFile, step: null };
  for (const name of [...stepNames].reverse()) {
    if (!isStepFolderName(name)) continue;
    const relative = stepFile(name, trialFile);
    if (await isFile(dir, relative)) return { relative, step: name };
  }
  return null;
}

/**
 * The run's trajectory: the trial's agent/trajectory.json, else the last step's — the whole
 * conversation when the agent carries it across steps; each step's own stays among the files.
 */
export async function readRunTrajectory(dir: string | null, stepNames: string[], options: ReadOptions = {}): Promise<Trajectory> {
  const found = dir ? await findRunFile(dir, stepNames, TRIAL_FILES.trajectory) : null;
  if (!dir || found?.step == null) return readTrajectory(dir, options);
  const trajectory = await readTrajectory(path.join(dir, stepDir(found.step)), options);
  const where = `Step ${found.step}'s trajectory (${found.relative}), the last step's that has one; each step's is in its steps/<step>/agent/ folder.`;
  return { ...trajectory, note: trajectory.note ? `${where} ${trajectory.note}` : where };
}
