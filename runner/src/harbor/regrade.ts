// Regrade (issue 16 item 11): re-run only the verifier of a finished trial, on its recorded agent
// logs and artifacts, with a task's current tests. Harbor's own regrade (harbor/trial/regrade.py,
// harbor/job.py `_build_regrade_trial_configs`, in releases after 0.22.0) is a job whose config has
// `source_jobs: [{action: "regrade", type: "local", path: <source job dir>}]` and the verifying task in
// `tasks`: one regrade trial per source trial whose task_name matches that task, in a fresh trial dir
// seeded with the source's agent/ and artifacts/, a nop agent, and the verifier in a SEPARATE
// environment. Harbor refuses (exit 1) a task whose verifier resolves to shared mode, a multi-step
// task, and a source trial without a readable artifacts/manifest.json.
//
// A Harbor without it silently ignores the unknown `source_jobs` key and would run the agent again,
// so the runner first asks for `harbor job regrade --help` and refuses to start when that fails.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { RunOrder } from '../protocol/messages.js';
import { harborJobName, TRIAL_FILES } from '../protocol/layout.js';

export interface HarborRegradeConfig {
  job_name: string;
  jobs_dir: string;
  n_concurrent_trials: 1;
  timeout_multiplier: number;
  verifier_timeout_multiplier: number | null;
  environment_build_timeout_multiplier: number | null;
  environment: { type: string; force_build: boolean; delete: true; kwargs: Record<string, never> };
  tasks: { path: string; source: string }[];
  source_jobs: { action: 'regrade'; type: 'local'; path: string }[];
}

/** The Harbor job directory holding the source trial: regrade reads every trial of it (ours hold one). */
export function sourceJobDir(jobsDir: string, sourceTrialDir: string): string {
  return path.dirname(path.join(jobsDir, sourceTrialDir));
}

export function buildHarborRegradeConfig(
  order: RunOrder & { regrade: NonNullable<RunOrder['regrade']> },
  paths: { taskDir: string; jobsDir: string },
  deliveryCount: number,
): HarborRegradeConfig {
  const h = order.harbor;
  return {
    job_name: harborJobName({ runId: order.runId, dispatch: order.dispatch, delivery: deliveryCount }),
    jobs_dir: paths.jobsDir,
    n_concurrent_trials: 1,
    timeout_multiplier: h.timeoutMultiplier,
    verifier_timeout_multiplier: h.verifierTimeoutMultiplier,
    environment_build_timeout_multiplier: h.environmentBuildTimeoutMultiplier,
    environment: { type: h.environmentType, force_build: h.forceBuild, delete: true, kwargs: {} },
    tasks: [{ path: paths.taskDir, source: order.source }],
    source_jobs: [{ action: 'regrade', type: 'local', path: sourceJobDir(paths.jobsDir, order.regrade.sourceTrialDir) }],
  };
}

/**
 * Why this regrade cannot start here, or null: a Harbor without the regrade command, or a source
 * trial this runner cannot see (JOBS_DIR not shared with the runner that ran it, or deleted).
 */
export async function regradeProblem(harborBin: string, jobsDir: string, sourceTrialDir: string): Promise<string | null> {
  const help = await execa(harborBin, ['job', 'regrade', '--help'], { reject: false, timeout: 30_000, stdin: 'ignore' });
  if (help.exitCode !== 0) {
    const version = await execa(harborBin, ['--version'], { reject: false, timeout: 15_000, stdin: 'ignore' });
    const which = version.exitCode === 0 ? `Harbor ${String(version.stdout).trim()}` : 'this Harbor';
    return `${which} cannot regrade: it has no \`harbor job regrade\` command (regrade needs a later Harbor release); the source run was not touched`;
  }
  const source = path.join(jobsDir, sourceTrialDir);
  const found = await stat(path.join(source, TRIAL_FILES.result)).then(() => true, () => false);
  if (!found) return `the source trial ${sourceTrialDir} is not under JOBS_DIR on this runner (deleted, or JOBS_DIR is not shared storage)`;
  return null;
}
