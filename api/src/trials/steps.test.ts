import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { findRunFile, readRunTrajectory } from './steps.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

let trial: string;
beforeEach(async () => {
  trial = await mkdtemp(path.join(os.tmpdir(), 'thr-steps-'));
  await mkdir(path.join(trial, 'agent'));
});
afterEach(() => rm(trial, { recursive: true, force: true }));

/** A terminus-2 trajectory (with its continuation file) in `rel`'s agent folder. */
const trajectoryIn = (rel: string) => cp(path.join(fixtures, 'terminus-2'), path.join(trial, rel, 'agent'), { recursive: true });

describe('readRunTrajectory', () => {
  it("reads the last step's trajectory once Harbor filed the steps (the trial's agent/ is empty), saying which", async () => {
    await trajectoryIn('steps/01-model');
    await trajectoryIn('steps/02_api.v2');
    await mkdir(path.join(trial, 'steps/03-ui/agent'), { recursive: true });
    const t = await readRunTrajectory(trial, ['01-model', '02_api.v2', '03-ui']);
    expect(t.steps).toHaveLength(6);
    expect(t.note).toBe("Step 02_api.v2's trajectory (steps/02_api.v2/agent/trajectory.json), the last step's that has one; each step's is in its steps/<step>/agent/ folder.");
  });

  it("reads the trial's own agent/trajectory.json while there is one (the step that is running), and without steps", async () => {
    await trajectoryIn('');
    await trajectoryIn('steps/01-model');
    expect((await readRunTrajectory(trial, ['01-model', '02_api.v2'])).note).toBeNull();
    expect((await readRunTrajectory(trial, [])).note).toBeNull();
  });

  it('skips step names that cannot be folders, and says the trial has no trajectory when no step has one', async () => {
    await trajectoryIn('steps/01-model');
    const t = await readRunTrajectory(trial, ['..', '01-model/../..']);
    expect(t.steps).toEqual([]);
    expect(t.note).toMatch(/no agent\/trajectory\.json/);
  });

  it("finds a run's file in the trial's own folder first, else in the last step that has it", async () => {
    await mkdir(path.join(trial, 'steps/build/agent'), { recursive: true });
    await mkdir(path.join(trial, 'steps/ship/agent'), { recursive: true });
    await writeFile(path.join(trial, 'steps/build/agent/recording.cast'), '{"version": 2}\n');
    expect(await findRunFile(trial, ['build', 'ship'], 'agent/recording.cast')).toEqual({ relative: 'steps/build/agent/recording.cast', step: 'build' });
    await writeFile(path.join(trial, 'agent/recording.cast'), '{"version": 2}\n');
    expect(await findRunFile(trial, ['build', 'ship'], 'agent/recording.cast')).toEqual({ relative: 'agent/recording.cast', step: null });
    expect(await findRunFile(trial, ['build'], 'agent/terminus_2.pane')).toBeNull();
  });
});
