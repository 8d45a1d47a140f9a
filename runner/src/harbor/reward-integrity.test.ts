import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { runResultSchema } from '../protocol/messages.js';
import { checkRewardIntegrity, CLOCK_SLACK_MS } from './reward-integrity.js';

const root = await mkdtemp(path.join(os.tmpdir(), 'reward-integrity-'));
afterAll(() => rm(root, { recursive: true, force: true }));

let trial: string;
let n = 0;
beforeEach(async () => {
  trial = path.join(root, `trial-${++n}`);
  await mkdir(path.join(trial, 'verifier'), { recursive: true });
});

/** The verifier started at this time (as Harbor writes it in result.json), files written around it. */
const STARTED = '2026-09-02T14:16:06.250000Z';
const startedMs = Date.parse(STARTED);

async function reward(name: 'reward.json' | 'reward.txt', text: string, mtimeMs: number): Promise<void> {
  const file = path.join(trial, 'verifier', name);
  await writeFile(file, text);
  await utimes(file, mtimeMs / 1000, mtimeMs / 1000);
}

describe('checkRewardIntegrity', () => {
  it('finds nothing without reward files, or without a verifier directory at all', async () => {
    expect(await checkRewardIntegrity(trial, STARTED)).toBeNull();
    expect(await checkRewardIntegrity(path.join(root, 'no-such-trial'), STARTED)).toBeNull();
  });

  it('accepts a reward.txt the verifier wrote after it started, and one within the clock slack before', async () => {
    await reward('reward.txt', '1\n', startedMs + 4_000);
    expect(await checkRewardIntegrity(trial, STARTED)).toBeNull();
    await reward('reward.txt', ' 0.0 ', startedMs - CLOCK_SLACK_MS + 500);
    expect(await checkRewardIntegrity(trial, STARTED)).toBeNull();
  });

  it('flags a reward.json last written before the verifier started (beyond the slack): the agent wrote it', async () => {
    await reward('reward.json', '{"reward": 1.0}', startedMs - 95_000);
    await reward('reward.txt', '1', startedMs + 3_000);
    const flag = await checkRewardIntegrity(trial, STARTED);
    expect(flag).toEqual({
      kind: 'WRITTEN_BEFORE_VERIFIER',
      detail: `verifier/reward.json was last written at ${new Date(startedMs - 95_000).toISOString()}, 95.0 s before the verifier started (${STARTED}): the verifier did not write it`,
    });
    // What the runner reports fits the wire.
    expect(runResultSchema.shape.rewardFlag.parse(flag)).toEqual(flag);
  });

  it('reads naive and offset timestamps of the verifier start as Harbor writes them', async () => {
    await reward('reward.txt', '1', startedMs - 10_000);
    expect((await checkRewardIntegrity(trial, '2026-09-02T14:16:06.25'))?.kind).toBe('WRITTEN_BEFORE_VERIFIER');
    expect((await checkRewardIntegrity(trial, '2026-09-02T16:16:06.25+02:00'))?.kind).toBe('WRITTEN_BEFORE_VERIFIER');
  });

  it('flags reward.json and reward.txt that disagree, even without a verifier start time', async () => {
    await reward('reward.json', '{"reward": 1.0, "style": 0.5}', startedMs + 1_000);
    await reward('reward.txt', '0\n', startedMs + 2_000);
    const expected = {
      kind: 'FILES_DISAGREE',
      detail: 'verifier/reward.json says 1 but verifier/reward.txt says 0; Harbor scored the run with reward.json',
    };
    expect(await checkRewardIntegrity(trial, STARTED)).toEqual(expected);
    expect(await checkRewardIntegrity(trial, null)).toEqual(expected);
  });

  it('reads a one-key reward.json under any name, and lets agreeing files be', async () => {
    await reward('reward.json', '{"accuracy": 0.75}', startedMs + 1_000);
    await reward('reward.txt', '0.75', startedMs + 1_000);
    expect(await checkRewardIntegrity(trial, STARTED)).toBeNull();
  });

  it('says nothing about files it cannot read as rewards: Harbor reports those itself', async () => {
    await reward('reward.json', '{"reward": "high"}', startedMs + 1_000);
    await reward('reward.txt', 'pass', startedMs + 1_000);
    expect(await checkRewardIntegrity(trial, STARTED)).toBeNull();
    await reward('reward.json', '[1]', startedMs + 1_000);
    await reward('reward.txt', '0', startedMs + 1_000);
    expect(await checkRewardIntegrity(trial, STARTED)).toBeNull();
  });
});
