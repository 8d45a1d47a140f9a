// Where a run's files are on shared storage, owned here once: the runner lays JOBS_DIR out this way
// and the API reads (and deletes) it, so neither may guess the other's names. Harbor's part of the
// layout is harbor-contract.md §4: `<jobs_dir>/<job_name>/<trial_name>/{agent,verifier,artifacts}/…`.
import { readdir } from 'node:fs/promises';

/** The dataset label Harbor records as a trial's `source` when the API sets none. */
export const DEFAULT_SOURCE = 'thr';

/**
 * Under JOBS_DIR: the runners' own files — a Harbor job config `<job name>.json` per live delivery
 * (harborConfigFileName), kept outcomes, write probes.
 */
export const RUNNER_DIR = '.runner';

/** One delivery of one dispatch of a run: what a Harbor job directory belongs to. */
export interface HarborJobRef {
  runId: string;
  /** null for directories written by runners before dispatch numbers. */
  dispatch: number | null;
  delivery: number;
}

/**
 * The Harbor job name (= its directory under JOBS_DIR) of a delivery: unique per dispatch and
 * delivery, so a redelivered or re-dispatched order starts fresh and an earlier one can be told apart.
 */
export function harborJobName(ref: { runId: string; dispatch: number; delivery: number }): string {
  return `run-${ref.runId}-p${ref.dispatch}-d${ref.delivery}`;
}

/** The runner's config file of a job, relative to RUNNER_DIR. */
export function harborConfigFileName(jobName: string): string {
  return `${jobName}.json`;
}

const JOB_NAME = /^run-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:-p(\d+))?-d(\d+)$/;

/** The delivery a job directory name belongs to, or null when it is not one of ours. */
export function parseHarborJobName(name: string): HarborJobRef | null {
  const m = JOB_NAME.exec(name);
  if (!m) return null;
  return { runId: m[1]!, dispatch: m[2] === undefined ? null : Number(m[2]), delivery: Number(m[3]) };
}

/** The files of a trial directory the platform reads or serves, relative to it with `/` separators. */
export const TRIAL_FILES = {
  result: 'result.json',
  trialLog: 'trial.log',
  exception: 'exception.txt',
  agentDir: 'agent',
  verifierDir: 'verifier',
  artifactsDir: 'artifacts',
  /** asciicast v2 of the agent's terminal (terminus-2). */
  recording: 'agent/recording.cast',
  /** ATIF; rewritten whole after every step. */
  trajectory: 'agent/trajectory.json',
  pane: 'agent/terminus_2.pane',
  /** test.sh's stdout (and stderr, unless written apart to testStderr). */
  testStdout: 'verifier/test-stdout.txt',
  testStderr: 'verifier/test-stderr.txt',
  rewardTxt: 'verifier/reward.txt',
  rewardJson: 'verifier/reward.json',
  ctrf: 'verifier/ctrf.json',
} as const;

/**
 * Whether Harbor's agent `agent` keeps a log of its own, agent/<name>.txt: every installed agent
 * does (Harbor's agents/installed/*: `… | tee /logs/agent/<name>.txt`), so its agent/sessions/
 * files only repeat that log. Known from the name before any file exists: the files may arrive in
 * any order (copied out of a container after the agent phase). oracle, nop and terminus-* are
 * Harbor's own agents; a custom `module:Class` may keep any files, so it is decided by what it writes.
 */
export function keepsOwnAgentLog(agent: string): boolean {
  return agent !== 'oracle' && agent !== 'nop' && !agent.startsWith('terminus') && !agent.includes(':');
}

/**
 * A multi-step trial's folders (Harbor's multi-step trial): after each step Harbor moves what the step
 * wrote to agent/, verifier/ and artifacts/ into `steps/<step name>/{agent,verifier,artifacts}/`,
 * so a step's folder has a trial directory's shape and the root folders end up empty.
 */
export const STEPS_DIR = 'steps';

/** Whether a step name can be a folder of steps/ (one plain path segment); others have no folder to read. */
export function isStepFolderName(stepName: string): boolean {
  return stepName !== '' && stepName !== '.' && stepName !== '..' && !/[/\\\0]/.test(stepName);
}

/** A step's folder relative to the trial directory; the TRIAL_FILES paths apply inside it. */
export function stepDir(stepName: string): string {
  return `${STEPS_DIR}/${stepName}`;
}

/** A trial file of one step (`steps/<name>/verifier/reward.txt`), or the trial's own when `stepName` is null. */
export function stepFile(stepName: string | null, trialFile: string): string {
  return stepName === null ? trialFile : `${stepDir(stepName)}/${trialFile}`;
}

/** The trial-level path a step's file had before Harbor filed it (`agent/x.txt` of `steps/<name>/agent/x.txt`), or null. */
export function movedFrom(relative: string): string | null {
  const m = /^steps\/[^/]+\/(.+)$/.exec(relative);
  return m ? m[1]! : null;
}

/** The name of a trial directory's file inside its folder (`recording.cast` of `agent/recording.cast`). */
export function baseName(trialFile: string): string {
  return trialFile.slice(trialFile.lastIndexOf('/') + 1);
}

const AGENT_LOG = /^(?:steps\/([^/]+)\/)?agent\/(?:[^/]+\.txt|episode-(\d+)\/(?:prompt|response)\.txt)$/;

/**
 * Whether a trial file is one of an agent's text logs (harbor-contract.md §4, §9) — the trial's own
 * or a step's (`steps/<name>/agent/…`) — its step, its episode, and its rank among the agent's own
 * files: its log (oracle.txt, claude-code.txt, …) before the oracle's exit-code.txt, which only says
 * how solve.sh ended.
 */
export function agentLogEpisode(relative: string): { step: string | null; episode: number | null; rank: number } | null {
  const m = AGENT_LOG.exec(relative);
  if (!m) return null;
  return {
    step: m[1] ?? null,
    episode: m[2] === undefined ? null : Number(m[2]),
    rank: relative.endsWith('agent/exit-code.txt') ? 1 : 0,
  };
}

/**
 * The trial directory's name in a job directory, or null while there is none: a one-trial job's
 * only subdirectory (it appears when the trial gets its slot).
 */
export async function findTrialDir(jobDir: string): Promise<string | null> {
  const dirs = await readdir(jobDir, { withFileTypes: true }).catch(() => []);
  return (
    dirs
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort()[0] ?? null
  );
}
