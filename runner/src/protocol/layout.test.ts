import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  agentLogEpisode,
  findTrialDir,
  harborConfigFileName,
  harborJobName,
  isStepFolderName,
  movedFrom,
  parseHarborJobName,
  stepFile,
  TRIAL_FILES,
} from './layout.js';

const runId = '0b7e6a52-6f0e-4d43-9a51-2d1e0c9f4a11';

describe('the trial directory layout', () => {
  it('names a delivery so the name reads back as the same delivery', () => {
    const name = harborJobName({ runId, dispatch: 3, delivery: 2 });
    expect(name).toBe(`run-${runId}-p3-d2`);
    expect(parseHarborJobName(name)).toEqual({ runId, dispatch: 3, delivery: 2 });
    expect(harborConfigFileName(name)).toBe(`${name}.json`);
  });

  it('reads names of runners before dispatch numbers, and nothing else', () => {
    expect(parseHarborJobName(`run-${runId}-d1`)).toEqual({ runId, dispatch: null, delivery: 1 });
    for (const other of [`run-${runId}-p1-d1.json`, `run-${runId}`, `run-${runId}-p1`, 'run-abc-p1-d1', `x-run-${runId}-d1`, `run-${runId.toUpperCase()}-d1`]) {
      expect(parseHarborJobName(other)).toBeNull();
    }
  });

  it("tells an agent's text logs and their episodes", () => {
    expect(agentLogEpisode('agent/oracle.txt')).toEqual({ step: null, episode: null, rank: 0 });
    expect(agentLogEpisode('agent/exit-code.txt')).toEqual({ step: null, episode: null, rank: 1 });
    expect(agentLogEpisode('agent/episode-4/response.txt')).toEqual({ step: null, episode: 4, rank: 0 });
    expect(agentLogEpisode('agent/trajectory.json')).toBeNull();
    expect(agentLogEpisode('verifier/test-stdout.txt')).toBeNull();
  });

  it("tells a multi-step trial's step files: steps/<name>/agent/…, and the trial-level path each had before Harbor filed it", () => {
    expect(agentLogEpisode('steps/02_api.v2/agent/oracle.txt')).toEqual({ step: '02_api.v2', episode: null, rank: 0 });
    expect(agentLogEpisode('steps/build/agent/exit-code.txt')).toEqual({ step: 'build', episode: null, rank: 1 });
    expect(agentLogEpisode('steps/build/agent/episode-2/prompt.txt')).toEqual({ step: 'build', episode: 2, rank: 0 });
    expect(agentLogEpisode('steps/build/verifier/test-stdout.txt')).toBeNull();
    expect(agentLogEpisode('steps/a/b/agent/oracle.txt')).toBeNull();
    expect(stepFile('build', TRIAL_FILES.rewardTxt)).toBe('steps/build/verifier/reward.txt');
    expect(stepFile(null, TRIAL_FILES.rewardTxt)).toBe('verifier/reward.txt');
    expect(movedFrom('steps/build/agent/terminus_2.pane')).toBe('agent/terminus_2.pane');
    expect(movedFrom('agent/terminus_2.pane')).toBeNull();
    expect(['build', '02_api.v2', '..', '.', '', 'a/b', 'a\\b'].map(isStepFolderName)).toEqual([true, true, false, false, false, false, false]);
  });

  describe('findTrialDir', () => {
    let dir: string;
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it("finds the job directory's trial subdirectory once it appears, ignoring Harbor's files", async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'layout-'));
      expect(await findTrialDir(path.join(dir, 'missing'))).toBeNull();
      await writeFile(path.join(dir, 'job.log'), '');
      await writeFile(path.join(dir, 'result.json'), '{}');
      expect(await findTrialDir(dir)).toBeNull();
      await mkdir(path.join(dir, 'fix-git__aB3dE9x'));
      expect(await findTrialDir(dir)).toBe('fix-git__aB3dE9x');
    });
  });
});
