// Reward integrity (issue 16 item 12). In Harbor's default shared-verifier mode the agent's container
// mounts the trial's verifier/ directory as /logs/verifier, and Harbor reads verifier/reward.json
// BEFORE verifier/reward.txt (verifier.py): an agent can write reward.json itself and be scored by it.
// After Harbor exits the runner looks at the reward files once and flags what the verifier cannot
// have written: a file older than the verifier phase, or reward.json and reward.txt that disagree.
// A flag is a suspicion, not a verdict: the run keeps Harbor's reward and the job counts it apart.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { TRIAL_FILES } from '../protocol/layout.js';
import type { RewardFlag } from '../protocol/messages.js';
import { harborTimeMs } from './result.js';

/**
 * How much older than the verifier's start a reward file may look: the file's mtime comes from the
 * file server's clock (NFS), the start from Harbor's, and Harbor stamps the phase just before the
 * verifier's first command.
 */
export const CLOCK_SLACK_MS = 2_000;

interface RewardFile {
  name: string;
  mtimeMs: number;
  text: string;
}

async function readRewardFile(dir: string, name: string): Promise<RewardFile | null> {
  const file = path.join(dir, name);
  try {
    const [info, text] = await Promise.all([stat(file), readFile(file, 'utf8')]);
    return info.isFile() ? { name, mtimeMs: info.mtimeMs, text } : null;
  } catch {
    return null;
  }
}

/** reward.json's main reward as Harbor reads it: the "reward" key, else its only key; null when unreadable. */
function jsonReward(text: string): number | null {
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => typeof v === 'number');
    const main = entries.find(([k]) => k === 'reward') ?? (entries.length === 1 ? entries[0] : undefined);
    return main ? (main[1] as number) : null;
  } catch {
    return null;
  }
}

/** reward.txt: one number, whitespace allowed (Harbor's float(text.strip())). */
function textReward(text: string): number | null {
  const trimmed = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) return null;
  return Number(trimmed);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The flag for a finished trial's reward files, or null when they look like the verifier's (or there
 * are none). `verifierStartedAt` is the trial result's verifier.started_at; without it (no verifier
 * phase) only a disagreement between the two files can be told.
 */
export async function checkRewardIntegrity(trialDir: string, verifierStartedAt: string | null): Promise<RewardFlag | null> {
  const dir = path.join(trialDir, TRIAL_FILES.verifierDir);
  const files = (await Promise.all([readRewardFile(dir, 'reward.json'), readRewardFile(dir, 'reward.txt')])).filter((f): f is RewardFile => f !== null);
  const startedMs = verifierStartedAt === null ? null : harborTimeMs(verifierStartedAt);
  if (startedMs !== null) {
    const early = files.find((f) => f.mtimeMs < startedMs - CLOCK_SLACK_MS);
    if (early) {
      return {
        kind: 'WRITTEN_BEFORE_VERIFIER',
        detail:
          `verifier/${early.name} was last written at ${new Date(early.mtimeMs).toISOString()}, ` +
          `${seconds(startedMs - early.mtimeMs)} before the verifier started (${verifierStartedAt}): the verifier did not write it`,
      };
    }
  }
  const json = files.find((f) => f.name === 'reward.json');
  const txt = files.find((f) => f.name === 'reward.txt');
  if (json && txt) {
    const fromJson = jsonReward(json.text);
    const fromTxt = textReward(txt.text);
    if (fromJson !== null && fromTxt !== null && Math.abs(fromJson - fromTxt) > 1e-9) {
      return {
        kind: 'FILES_DISAGREE',
        detail: `verifier/reward.json says ${fromJson} but verifier/reward.txt says ${fromTxt}; Harbor scored the run with reward.json`,
      };
    }
  }
  return null;
}
