// A multi-step trial's agent files (issue 16 item 9): Harbor files what each step's agent wrote under
// steps/<step name>/agent/ once the step ends, and the trial's own agent/ is left empty. A step's
// folder has a trial directory's shape, so the readers of the trial's files read it as one.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { isStepFolderName, stepDir, stepFile, TRIAL_FILES } from 'runner/protocol';
import type { Trajectory } from './atif.js';
import { readTrajectory, type ReadOptions } from './trajectory.js';

const isFile = (file: string) => stat(file).then((s) => s.isFile(), () => false);

/**
 * The run's trajectory: agent/trajectory.json while there is one (a single-step trial, or the step
 * that is running), else the last step's that wrote one — the whole conversation when the agent
 * carries it across steps; each step's own stays among the files (steps/<step>/agent/).
 */
export async function readRunTrajectory(dir: string | null, stepNames: string[], options: ReadOptions = {}): Promise<Trajectory> {
  if (!dir || stepNames.length === 0 || (await isFile(path.join(dir, ...TRIAL_FILES.trajectory.split('/'))))) return readTrajectory(dir, options);
  for (const name of [...stepNames].reverse()) {
    if (!isStepFolderName(name)) continue;
    if (!(await isFile(path.join(dir, ...stepFile(name, TRIAL_FILES.trajectory).split('/'))))) continue;
    const folder = path.join(dir, stepDir(name));
    const trajectory = await readTrajectory(folder, options);
    const where = `Step ${name}'s trajectory (${stepFile(name, TRIAL_FILES.trajectory)}), the last step's that has one; each step's is in its steps/<step>/agent/ folder.`;
    return { ...trajectory, note: trajectory.note ? `${where} ${trajectory.note}` : where };
  }
  return readTrajectory(dir, options);
}
