// Drives the Harbor simulator exactly as the runner drives Harbor (a child process, files on disk)
// and reads what it writes with our own parser and classifier: the double and the reader agree.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { trialDetails } from '../src/harbor/details.js';
import { classifyTrial } from '../src/harbor/outcome.js';
import { HarborResultError, parseJobResult, parseTrialResult } from '../src/harbor/result.js';
import { checkRunRewardIntegrity, readRunTests } from '../src/harbor/steps.js';
import { readTrialTests as readTrial } from '../src/harbor/tests/index.js';
import { writeTaskPackage } from './support/simulator.js';
import { waitFor as waitForCondition } from './support/wait.js';

const SIM = fileURLToPath(new URL('./harbor-sim/harbor', import.meta.url));
const TRIAL_NAME = /^fix-git__[23456789A-HJ-NP-Za-km-z]{7}$/;
const roots: string[] = [];

afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Sim {
  pid: number;
  exited: Promise<Exit>;
}

function startSim(args: string[], env: Record<string, string> = {}, opts: { cwd?: string } = {}): Sim {
  const child = spawn(SIM, args, {
    // Only what the runner would pass, so nothing from the outer environment changes a scenario.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HARBOR_SIM_PHASE_MS: '50', ...env },
    cwd: opts.cwd,
    detached: true, // its own process group, so a test can check that no child outlives it
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Exit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { pid: child.pid!, exited };
}

const runSim = (args: string[], env?: Record<string, string>, opts?: { cwd?: string }) => startSim(args, env, opts).exited;

const waitFor = <T>(probe: () => Promise<T>, what: string) => waitForCondition(probe, { what, intervalMs: 20 });

const exists = (p: string) => stat(p).then(() => true, () => false);
const readText = (p: string) => readFile(p, 'utf8');

/** Members of a process group still alive (zombies excluded), from /proc. */
async function groupMembers(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const text = await readText(`/proc/${name}/stat`).catch(() => '');
    const [state, , pgrp] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(name));
  }
  return members;
}

interface Setup {
  root: string;
  taskDir: string;
  jobsDir: string;
  jobName: string;
  jobDir: string;
  configPath: string;
}

async function setup(opts: { harborSim?: string; config?: (c: Record<string, unknown>) => Record<string, unknown>; compact?: boolean; suffix?: string } = {}): Promise<Setup> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'harbor-sim-'));
  roots.push(root);
  const taskDir = path.join(root, 'tasks', 'f'.repeat(64), 'fix-git');
  const jobsDir = path.join(root, 'jobs');
  await mkdir(taskDir, { recursive: true });
  await mkdir(jobsDir);
  await writeTaskPackage(taskDir, '[task]\nname = "fix-git"\n');
  if (opts.harborSim !== undefined) await writeFile(path.join(taskDir, '.harbor-sim'), opts.harborSim);
  const jobName = `run-${path.basename(root).replace(/[^A-Za-z0-9]/g, '')}-d1`;
  let config: Record<string, unknown> = {
    job_name: jobName,
    jobs_dir: jobsDir,
    n_attempts: 1,
    n_concurrent_trials: 1,
    timeout_multiplier: 1.0,
    agent_timeout_multiplier: null,
    verifier_timeout_multiplier: null,
    agent_setup_timeout_multiplier: null,
    environment_build_timeout_multiplier: null,
    retry: { max_retries: 0 },
    environment: { type: 'docker', force_build: false, delete: true, kwargs: {} },
    agents: [{ name: 'terminus-2', model_name: 'openrouter/anthropic/claude-sonnet-4', kwargs: { temperature: 0.7, max_turns: 200 }, env: {}, override_timeout_sec: null }],
    tasks: [{ path: taskDir, source: 'terminal-bench-2' }],
  };
  if (opts.config) config = opts.config(config);
  const configPath = path.join(root, `config${opts.suffix ?? '.json'}`);
  await writeFile(configPath, opts.compact ? JSON.stringify(config) : JSON.stringify(config, null, 2));
  return { root, taskDir, jobsDir, jobName, jobDir: path.join(jobsDir, jobName), configPath };
}

const runArgs = (s: Setup) => ['run', '-c', s.configPath, '-y', '--quiet'];

async function trialDirOf(s: Setup): Promise<string> {
  const dirs = (await readdir(s.jobDir, { withFileTypes: true })).filter((e) => e.isDirectory());
  expect(dirs).toHaveLength(1);
  return path.join(s.jobDir, dirs[0]!.name);
}

const jobResult = async (s: Setup) => parseJobResult(await readText(path.join(s.jobDir, 'result.json')));
const trialResult = async (trialDir: string) => parseTrialResult(await readText(path.join(trialDir, 'result.json')));

describe('harbor simulator: command line', () => {
  it.concurrent.each([['--version'], ['-v']])('%s prints the pinned version', async (flag) => {
    const exit = await runSim([flag]);
    expect(exit).toMatchObject({ code: 0, stdout: '0.22.0\n', stderr: '' });
  });

  it.concurrent('rejects an unknown option with exit 2 on stderr', async ({ expect }) => {
    const exit = await runSim(['run', '-c', '/nowhere/config.json', '-y', '--quiet', '--frobnicate']);
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain('No such option: --frobnicate');
  });

  it.concurrent('reports an unreadable config on stdout with exit 1', async ({ expect }) => {
    const exit = await runSim(['run', '-c', '/nowhere/config.json', '-y', '--quiet']);
    expect(exit.code).toBe(1);
    expect(exit.stdout).toMatch(/^Error: Failed to read config from \/nowhere\/config\.json/);
  });

  it.concurrent('reports an unsupported suffix', async ({ expect }) => {
    const s = await setup({ suffix: '.txt' });
    const exit = await runSim(runArgs(s));
    expect(exit.code).toBe(1);
    expect(exit.stdout).toBe('Error: Unsupported config file format: .txt\n');
    expect(await exists(s.jobDir)).toBe(false);
  });

  it.concurrent('reports JSON it cannot understand as an invalid job config', async ({ expect }) => {
    const s = await setup();
    await writeFile(s.configPath, 'job_name: [oops');
    const garbage = await runSim(runArgs(s));
    expect(garbage.code).toBe(1);
    expect(garbage.stdout).toMatch(new RegExp(`^Error: Invalid job config ${s.configPath}: `));
    await writeFile(s.configPath, JSON.stringify({ job_name: 'x', jobs_dir: s.jobsDir, tasks: [{ path: s.taskDir }] }));
    const noAgent = await runSim(runArgs(s));
    expect(noAgent.code).toBe(1);
    expect(noAgent.stdout).toContain('agents.0.name');
  });

  it.concurrent('accepts `job start`, compact JSON and a .yml suffix holding JSON', async ({ expect }) => {
    const s = await setup({ compact: true, suffix: '.yml' });
    const exit = await runSim(['job', 'start', '-c', s.configPath, '-y', '--quiet']);
    expect(exit.code).toBe(0);
    expect((await jobResult(s)).finished_at).not.toBeNull();
  });
});

const scenarios = [
  { scenario: 'pass', env: {}, status: 'PASSED', failureKind: null, exceptionType: null, reward: 1 },
  { scenario: 'fail', env: {}, status: 'FAILED', failureKind: null, exceptionType: null, reward: 0 },
  { scenario: 'agent-timeout', env: {}, status: 'FAILED', failureKind: 'AGENT', exceptionType: 'AgentTimeoutError', reward: 0 },
  { scenario: 'agent-timeout', env: { HARBOR_SIM_REWARD: '1' }, status: 'PASSED', failureKind: null, exceptionType: 'AgentTimeoutError', reward: 1 },
  { scenario: 'rate-limit', env: {}, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'ApiRateLimitError', reward: 1 },
  { scenario: 'reward-missing', env: {}, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'RewardFileNotFoundError', reward: null },
  { scenario: 'infra-error', env: {}, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'RuntimeError', reward: null },
  { scenario: 'env-timeout', env: {}, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'EnvironmentStartTimeoutError', reward: null },
] as const;

describe('harbor simulator: outcomes', () => {
  it.concurrent.each(scenarios)('$scenario $env → $status / $failureKind', async ({ scenario, env, status, failureKind, exceptionType, reward }) => {
    const s = await setup();
    const exit = await runSim(runArgs(s), { HARBOR_SIM_SCENARIO: scenario, ...env });
    expect(exit.code).toBe(0);
    expect(exit.stdout.endsWith(`Results written to ${s.jobDir}/result.json\n`)).toBe(true);

    const trialDir = await trialDirOf(s);
    const trialName = path.basename(trialDir);
    expect(trialName).toMatch(TRIAL_NAME);
    const trial = await trialResult(trialDir);
    const outcome = classifyTrial(trial);
    expect(outcome).toMatchObject({ status, failureKind, exceptionType, reward });

    expect(trial).toMatchObject({
      task_name: 'fix-git',
      trial_name: trialName,
      trial_uri: `file://${trialDir}`,
      task_id: { path: s.taskDir },
      source: 'terminal-bench-2',
      agent_info: { name: 'terminus-2', version: '2.0.0', model_info: { name: 'anthropic/claude-sonnet-4', provider: 'openrouter' } },
      step_results: null,
    });
    expect(trial.started_at).toMatch(/Z$/);
    expect(trial.environment_setup?.finished_at).toMatch(/Z$/);
    expect(outcome.environmentSetupMs).toBeGreaterThanOrEqual(40);

    const agentRan = !['infra-error', 'env-timeout'].includes(scenario);
    const rewarded = reward !== null;
    expect(trial.agent_result === null).toBe(!agentRan);
    expect(trial.agent_setup === null).toBe(!agentRan);
    expect(trial.verifier === null).toBe(!agentRan);
    expect(trial.verifier_result === null).toBe(!rewarded);
    if (agentRan) {
      expect(outcome).toMatchObject({ inputTokens: 1000, cacheTokens: 0, outputTokens: 200, costUsd: 0.01 });
      expect(outcome.agentExecutionMs).toBeGreaterThanOrEqual(30);
      const trajectory = JSON.parse(await readText(path.join(trialDir, 'agent', 'trajectory.json')));
      expect(trajectory).toMatchObject({ schema_version: 'ATIF-v1.6', agent: { name: 'terminus-2', version: '2.0.0', model_name: 'openrouter/anthropic/claude-sonnet-4' } });
      expect(trajectory.steps[0]).toMatchObject({ step_id: 1, source: 'user' });
      // Harbor's manifest: a list of entries, here the convention folder /logs/artifacts.
      expect(JSON.parse(await readText(path.join(trialDir, 'artifacts', 'manifest.json')))).toEqual([
        { source: '/logs/artifacts', destination: 'artifacts', type: 'directory', status: 'empty', service: 'main' },
      ]);
      expect(await readText(path.join(trialDir, 'verifier', 'test-stdout.txt'))).toContain('test session starts');
    } else {
      expect(outcome).toMatchObject({ inputTokens: null, agentSetupMs: null, agentExecutionMs: null, verifierMs: null });
      expect(await readdir(path.join(trialDir, 'agent'))).toEqual([]);
    }
    if (rewarded) {
      expect((await readText(path.join(trialDir, 'verifier', 'reward.txt'))).trim()).toBe(String(reward));
      const ctrf = JSON.parse(await readText(path.join(trialDir, 'verifier', 'ctrf.json')));
      expect(ctrf.results.summary.failed).toBe(reward === 1 ? 0 : 1);
      expect(await readText(path.join(trialDir, 'verifier', 'test-stdout.txt'))).toContain(
        `${reward === 1 ? 'PASSED' : 'FAILED'} tests/test_outputs.py::test_task_solved`,
      );
    } else {
      expect(await exists(path.join(trialDir, 'verifier', 'reward.txt'))).toBe(false);
    }
    expect(await exists(path.join(trialDir, 'exception.txt'))).toBe(exceptionType !== null);
    if (exceptionType) expect(await readText(path.join(trialDir, 'exception.txt'))).toMatch(new RegExp(`^Traceback[^]*${exceptionType}: `, 'm'));
    if (scenario === 'infra-error') expect(outcome.exceptionMessage).toMatch(/^Docker compose command failed for environment /);
    if (scenario === 'agent-timeout') expect(outcome.exceptionMessage).toBe('Agent execution timed out after 0.05 seconds');

    const job = await jobResult(s);
    expect(job.finished_at).not.toBeNull();
    expect(job.finished_at).not.toMatch(/Z$/); // naive local time
    expect(job.stats).toMatchObject({
      n_completed_trials: 1,
      n_errored_trials: exceptionType ? 1 : 0,
      n_running_trials: 0,
      n_pending_trials: 0,
      n_cancelled_trials: 0,
      n_retries: 0,
    });
    const evals = job.stats.evals['terminus-2__anthropic/claude-sonnet-4__terminal-bench-2'];
    expect(evals).toMatchObject({ n_trials: rewarded ? 1 : 0, pass_at_k: {}, metrics: [{ mean: reward ?? 0 }] });
    if (exceptionType) expect(evals?.exception_stats).toEqual({ [exceptionType]: [trialName] });

    const lock = JSON.parse(await readText(path.join(s.jobDir, 'lock.json')));
    expect(lock.harbor.version).toBe('0.22.0');
    expect(JSON.parse(await readText(path.join(s.jobDir, 'config.json')))).toMatchObject({ job_name: s.jobName });
    expect(await readText(path.join(s.jobDir, 'job.log'))).toContain(trialName);
    expect(await readText(path.join(trialDir, 'trial.log'))).toContain('Stopping environment');
  });

  it.concurrent("fails Harbor's Docker pre-flight for docker environments only in the docker-down scenario", async ({ expect }) => {
    const docker = await setup();
    const daytona = await setup({ config: (c) => ({ ...c, environment: { type: 'daytona' } }) });
    const [down, other] = await Promise.all([
      runSim(runArgs(docker), { HARBOR_SIM_SCENARIO: 'docker-down' }),
      runSim(runArgs(daytona), { HARBOR_SIM_SCENARIO: 'docker-down' }),
    ]);
    expect(down).toMatchObject({ code: 1, stdout: 'Docker daemon is not running. Please start Docker and try again.\n' });
    expect(await exists(docker.jobDir)).toBe(false);
    expect(other.code).toBe(0);
  });

  it.concurrent('reports a model without a provider, and no model at all', async ({ expect }) => {
    const noProvider = await setup({ config: (c) => ({ ...c, agents: [{ name: 'terminus-2', model_name: 'gpt-5' }], tasks: [{ path: (c.tasks as { path: string }[])[0]!.path }] }) });
    const oracle = await setup({ config: (c) => ({ ...c, agents: [{ name: 'oracle', model_name: null }] }) });
    await Promise.all([runSim(runArgs(noProvider)), runSim(runArgs(oracle))]);
    const a = await trialResult(await trialDirOf(noProvider));
    expect(a.agent_info.model_info).toEqual({ name: 'gpt-5', provider: null });
    expect(a.source).toBe('adhoc');
    expect(Object.keys((await jobResult(noProvider)).stats.evals)).toEqual(['terminus-2__gpt-5__adhoc']);
    const b = await trialResult(await trialDirOf(oracle));
    expect(b.agent_info).toEqual({ name: 'oracle', version: '1.0.0', model_info: null });
    expect(Object.keys((await jobResult(oracle)).stats.evals)).toEqual(['oracle__terminal-bench-2']);
  });

  it.concurrent.each([
    ['the preflight-crash scenario', { HARBOR_SIM_SCENARIO: 'preflight-crash' }, 'terminus-2', /ValueError: Environment variable/],
    ['the agent name terminus', {}, 'terminus', /Unknown agent type: terminus/],
    ['the agent name terminus-1', {}, 'terminus-1', /Unknown agent type: terminus-1/],
  ])('crashes before the trial starts for %s', async (_name, env, agent, message) => {
    const s = await setup({ config: (c) => ({ ...c, agents: [{ name: agent, model_name: 'openrouter/anthropic/claude-sonnet-4' }] }) });
    const exit = await runSim(runArgs(s), env);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/^Traceback \(most recent call last\):/);
    expect(exit.stderr).toMatch(message);
    const trialDir = await trialDirOf(s);
    expect((await readdir(trialDir)).sort()).toEqual(['agent', 'artifacts', 'lock.json', 'trial.log', 'verifier']);
    const job = await jobResult(s);
    expect(job.finished_at).toBeNull();
    expect(job.stats).toMatchObject({ n_pending_trials: 1, n_running_trials: 0, n_completed_trials: 0 });
  });

  it.concurrent('crash: killed mid-agent, leaving no trial result', async ({ expect }) => {
    const s = await setup();
    const exit = await runSim(runArgs(s), { HARBOR_SIM_SCENARIO: 'crash' });
    expect(exit.signal).toBe('SIGKILL');
    const trialDir = await trialDirOf(s);
    expect(await exists(path.join(trialDir, 'result.json'))).toBe(false);
    expect(await readText(path.join(trialDir, 'agent', 'terminus_2.pane'))).toContain(`sim-agent ${s.jobName} line 1`);
    const job = await jobResult(s);
    expect(job).toMatchObject({ finished_at: null, stats: { n_running_trials: 1, n_completed_trials: 0 } });
  });

  it.concurrent('lets a task .harbor-sim file override the environment', async ({ expect }) => {
    const s = await setup({ harborSim: '# chosen per task\nHARBOR_SIM_SCENARIO=fail\nHARBOR_SIM_LOG_LINES=3\nOTHER=ignored\n' });
    const exit = await runSim(runArgs(s), { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_LOG_LINES: '50' });
    expect(exit.code).toBe(0);
    const trialDir = await trialDirOf(s);
    expect(classifyTrial(await trialResult(trialDir)).status).toBe('FAILED');
    expect((await readText(path.join(trialDir, 'agent', 'terminus_2.pane'))).trim().split('\n')).toHaveLength(3);
  });

  it.concurrent('retries a retryable failure under the same trial name', async ({ expect }) => {
    const s = await setup({ config: (c) => ({ ...c, retry: { max_retries: 2 } }) });
    const exit = await runSim(runArgs(s), { HARBOR_SIM_SCENARIO: 'env-timeout' });
    expect(exit.code).toBe(0);
    const trialDir = await trialDirOf(s);
    expect((await trialResult(trialDir)).exception_info?.exception_type).toBe('EnvironmentStartTimeoutError');
    expect((await jobResult(s)).stats).toMatchObject({ n_retries: 2, n_completed_trials: 1, n_errored_trials: 1 });
    expect((await readText(path.join(s.jobDir, 'job.log'))).match(/Retrying trial/g)).toHaveLength(2);
  });
});

describe("harbor simulator: the trial's record beyond the outcome", () => {
  it.concurrent('writes the traceback, its time, the verifier mode and the agent metadata as Harbor does', async ({ expect }) => {
    const s = await setup();
    expect((await runSim(runArgs(s), { HARBOR_SIM_SCENARIO: 'agent-timeout', HARBOR_SIM_STEPS: '3', HARBOR_SIM_MODEL_USAGE: '1' })).code).toBe(0);
    const trial = await trialResult(await trialDirOf(s));
    const details = trialDetails(trial);
    expect(details).toMatchObject({ agentVersion: '2.0.0', verifierEnvironmentMode: 'shared', steps: [] });
    expect(details.exceptionTraceback).toMatch(/^Traceback \(most recent call last\):[^]*AgentTimeoutError: Agent execution timed out/);
    expect(Date.parse(details.exceptionOccurredAt!)).toBeGreaterThanOrEqual(Date.parse(trial.agent_execution!.started_at!));
    expect(details.agentMetadata).toMatchObject({ values: { n_episodes: 3, summarization_count: 0 }, apiRequestTimes: { count: 3 }, omittedKeys: [] });
    expect(details.modelUsage).toEqual([{ model: 'openrouter/anthropic/claude-sonnet-4', inputTokens: 1000, cacheTokens: 0, outputTokens: 200, costUsd: 0.01 }]);

    // Harbor resolves the verifier mode when the trial starts: it is there when the environment failed too.
    const infra = await setup();
    await writeFile(path.join(infra.taskDir, 'task.toml'), '[task]\nname = "fix-git"\n\n[verifier]\nenvironment_mode = "separate"\n');
    expect((await runSim(runArgs(infra), { HARBOR_SIM_SCENARIO: 'infra-error' })).code).toBe(0);
    const failed = await trialResult(await trialDirOf(infra));
    expect(failed).toMatchObject({ verifier_environment_mode: 'separate', agent_result: null });
    expect(trialDetails(failed).modelUsage).toEqual([]);
  });

  const MULTI = '[task]\nname = "fix-git"\n\n[[steps]]\nname = "build"\n\n[[steps]]\nname = "ship"\nmin_reward = 0.5\n\n[[steps]]\nname = "verify"\n';

  it.concurrent.each([
    { strategy: null, rewards: '1,0.5,0', scenario: 'pass', reward: 0.5, status: 'FAILED', exceptionType: null },
    { strategy: 'final', rewards: '1,0.5,0', scenario: 'pass', reward: 0, status: 'FAILED', exceptionType: null },
    { strategy: 'mean', rewards: '1,1', scenario: 'agent-timeout', reward: 2 / 3, status: 'FAILED', exceptionType: 'AgentTimeoutError' },
    { strategy: 'mean', rewards: '1,1', scenario: 'reward-missing', reward: 1, status: 'ERRORED', exceptionType: 'RewardFileNotFoundError' },
  ])('multi-step ($strategy, $rewards, $scenario): per-step results and the trial reward by the strategy', async ({ strategy, rewards, scenario, reward, status, exceptionType }) => {
    const s = await setup();
    await writeTaskPackage(s.taskDir, (strategy ? `multi_step_reward_strategy = "${strategy}"\n` : '') + MULTI);
    expect((await runSim(runArgs(s), { HARBOR_SIM_SCENARIO: scenario, HARBOR_SIM_STEPS: '6', HARBOR_SIM_STEP_REWARDS: rewards })).code).toBe(0);
    const trial = await trialResult(await trialDirOf(s));
    expect(trial).toMatchObject({ agent_result: null, verifier_environment_mode: null, exception_info: null });
    expect(trial.step_results!.map((r) => r.step_name)).toEqual(['build', 'ship', 'verify']);
    const details = trialDetails(trial);
    const expected = rewards.split(',').map(Number);
    expect(details.steps.map((r) => r.reward)).toEqual(
      scenario === 'reward-missing' ? [...expected, null] : scenario === 'agent-timeout' ? [...expected, 0] : expected,
    );
    expect(details.steps.at(-1)!.exceptionType).toBe(exceptionType);
    for (const step of details.steps) {
      expect(step.agentExecutionMs).toBeGreaterThan(0);
      expect(step.verifierMs).toBeGreaterThan(0);
    }
    // The steps take their turns: each one's agent starts after the previous one's verifier.
    const times = trial.step_results!.flatMap((r) => [r.agent_execution!.started_at!, r.agent_execution!.finished_at!, r.verifier!.started_at!, r.verifier!.finished_at!]);
    expect(times.map((t) => Date.parse(t))).toEqual([...times.map((t) => Date.parse(t))].sort((a, b) => a - b));
    const outcome = classifyTrial(trial);
    expect(outcome.reward).toBeCloseTo(reward, 5);
    expect(outcome).toMatchObject({ status, exceptionType, inputTokens: 1000, outputTokens: 200, costUsd: 0.01 });
    const evals = (await jobResult(s)).stats.evals['terminus-2__anthropic/claude-sonnet-4__terminal-bench-2'];
    // Harbor counts only trial-level exceptions as errors; a step's stays in its step.
    expect(evals).toMatchObject({ n_errors: 0, exception_stats: {} });
    expect(evals!.metrics![0]!.mean).toBeCloseTo(reward, 5);
  });

  it.concurrent('a step below its min_reward is the last one: the later steps never run', async ({ expect }) => {
    const s = await setup();
    await writeTaskPackage(s.taskDir, MULTI);
    expect((await runSim(runArgs(s), { HARBOR_SIM_STEP_REWARDS: '1,0.4,1' })).code).toBe(0);
    const trial = await trialResult(await trialDirOf(s));
    expect(trial.step_results!.map((r) => [r.step_name, r.verifier_result?.rewards?.reward])).toEqual([['build', 1], ['ship', 0.4]]);
    expect(trial.verifier_result?.rewards?.reward).toBeCloseTo(0.7, 5);
  });

  it.concurrent("files each recorded step's agent, verifier and artifacts under steps/<name>/, the emptied root folders removed", async ({ expect }) => {
    const s = await setup();
    await writeTaskPackage(s.taskDir, MULTI);
    expect((await runSim(runArgs(s), { HARBOR_SIM_STEP_REWARDS: '1,0.4,1', HARBOR_SIM_AGENT_WRITES_REWARD: '1' })).code).toBe(0);
    const dir = await trialDirOf(s);
    // Emptied, the trial's own mount folders are removed (TrialPaths.cleanup_empty_mount_dirs).
    for (const root of ['agent', 'verifier', 'artifacts']) expect(await exists(path.join(dir, root))).toBe(false);
    // "verify" never ran: ship fell below its min_reward.
    expect((await readdir(path.join(dir, 'steps'))).sort()).toEqual(['build', 'ship']);
    for (const step of ['build', 'ship']) {
      expect((await readdir(path.join(dir, 'steps', step))).sort()).toEqual(['agent', 'artifacts', 'verifier']);
      expect(await readdir(path.join(dir, 'steps', step, 'agent'))).toEqual(expect.arrayContaining(['terminus_2.pane', 'trajectory.json']));
      expect(await readdir(path.join(dir, 'steps', step, 'verifier'))).toEqual(expect.arrayContaining(['test-stdout.txt', 'reward.txt']));
      expect(JSON.parse(await readText(path.join(dir, 'steps', step, 'artifacts', 'manifest.json')))).toEqual([expect.objectContaining({ source: '/logs/artifacts' })]);
    }
    expect([await readText(path.join(dir, 'steps/build/verifier/reward.txt')), await readText(path.join(dir, 'steps/ship/verifier/reward.txt'))]).toEqual(['1.0\n', '0.4\n']);
    // The reward.json the agent wrote stays with the step that was running: the last one.
    expect(await exists(path.join(dir, 'steps/ship/verifier/reward.json'))).toBe(true);
    expect(await exists(path.join(dir, 'steps/build/verifier/reward.json'))).toBe(false);
    // What the runner reads of it: every step's tests, named by step, and the step whose reward files disagree.
    const trial = await trialResult(dir);
    const { tests } = await readRunTests(dir, trial);
    expect(tests!.cases.length).toBeGreaterThan(0);
    expect(new Set(tests!.cases.map((c) => c.name.split('/')[0]))).toEqual(new Set(['build', 'ship']));
    expect(tests!.total).toBe(tests!.cases.length);
    expect(tests!.note).toMatch(/^tests of 2 steps, named <step>\/<test>; step build: read from verifier\//);
    expect(await checkRunRewardIntegrity(dir, trial)).toEqual({
      kind: 'FILES_DISAGREE',
      detail: 'step ship: verifier/reward.json says 1 but verifier/reward.txt says 0.4; Harbor scored the run with reward.json',
    });
  });

  it.concurrent("reads step names as task authors write them: '…' strings, [[ steps ]], comments", async ({ expect }) => {
    const s = await setup();
    await writeTaskPackage(s.taskDir, '[task]\nname = "fix-git"\n\n[[ steps ]]  # the data model\nname = \'01-model\'\n[steps.agent]\ntimeout_sec = 600.0\n\n[[steps]]\nname = "02_api.v2" # served\n');
    // writeTaskPackage reads double-quoted names only: the first step's folder by hand.
    await mkdir(path.join(s.taskDir, 'steps', '01-model'), { recursive: true });
    await writeFile(path.join(s.taskDir, 'steps', '01-model', 'instruction.md'), 'Model.\n');
    expect((await runSim(runArgs(s), { HARBOR_SIM_STEP_REWARDS: '1,0' })).code).toBe(0);
    const trial = await trialResult(await trialDirOf(s));
    expect(trial.step_results!.map((r) => [r.step_name, r.verifier_result?.rewards?.reward])).toEqual([['01-model', 1], ['02_api.v2', 0]]);
    expect(trial.verifier_result?.rewards?.reward).toBe(0.5);
  });
});

describe('harbor simulator: loading the task as Harbor does', () => {
  it.concurrent.each([
    { what: 'no task.toml', drop: 'task.toml', message: "FileNotFoundError: [Errno 2] No such file or directory: '<task>/task.toml'" },
    { what: 'no instruction.md', drop: 'instruction.md', message: "FileNotFoundError: [Errno 2] No such file or directory: '<task>/instruction.md'" },
  ])('$what: a traceback, exit 1, no trial directory', async ({ drop, message }) => {
    const s = await setup();
    await rm(path.join(s.taskDir, drop));
    const result = await runSim(runArgs(s), {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message.replace('<task>', s.taskDir));
    expect((await readdir(s.jobDir, { withFileTypes: true })).filter((e) => e.isDirectory())).toEqual([]);
  });

  it.concurrent("a step without its folder's instruction.md, or without a test script of its own or the task's", async ({ expect }) => {
    const s = await setup();
    await writeTaskPackage(s.taskDir, '[[steps]]\nname = "build"\n\n[[steps]]\nname = "ship"\n');
    await rm(path.join(s.taskDir, 'steps', 'ship', 'instruction.md'));
    let result = await runSim(runArgs(s), {});
    expect([result.code, result.stderr]).toEqual([1, expect.stringContaining(`FileNotFoundError: Step instruction not found: ${s.taskDir}/steps/ship/instruction.md`)]);
    await writeFile(path.join(s.taskDir, 'steps', 'ship', 'instruction.md'), 'Ship.\n');
    await rm(path.join(s.taskDir, 'tests', 'test.sh'));
    await rm(s.jobDir, { recursive: true });
    result = await runSim(runArgs(s), {});
    expect(result.stderr).toContain(`No linux test script for step 'build': neither ${s.taskDir}/steps/build/tests/test.sh nor ${s.taskDir}/tests/test.sh exist`);
  });

  it.concurrent("the oracle without solve.sh, the verifier without test.sh: the trial's FileNotFoundError", async ({ expect }) => {
    const s = await setup({ config: (c) => ({ ...c, agents: [{ name: 'oracle' }] }) });
    await rm(path.join(s.taskDir, 'solution', 'solve.sh'));
    expect((await runSim(runArgs(s), {})).code).toBe(0);
    const noSolution = await trialResult(await trialDirOf(s));
    expect(noSolution.exception_info).toMatchObject({ exception_type: 'FileNotFoundError', exception_message: `Solution script not found: ${s.taskDir}/solution/solve.sh` });
    expect(noSolution.verifier).toBeNull();

    const t = await setup();
    await rm(path.join(t.taskDir, 'tests', 'test.sh'));
    expect((await runSim(runArgs(t), {})).code).toBe(0);
    const noTests = await trialResult(await trialDirOf(t));
    expect(noTests.exception_info).toMatchObject({ exception_type: 'FileNotFoundError', exception_message: `No test script found in: ${t.taskDir}/tests (target OS: linux)` });
    expect(noTests.verifier_result).toBeNull();
  });
});

describe('harbor simulator: live files', () => {
  it.concurrent('appends pane lines in order while the agent runs, with the echoed secret', async ({ expect }) => {
    const s = await setup();
    const sim = startSim(runArgs(s), {
      HARBOR_SIM_PHASE_MS: '1000',
      HARBOR_SIM_LOG_LINES: '8',
      HARBOR_SIM_ECHO_SECRET: 'OPENROUTER_API_KEY',
      OPENROUTER_API_KEY: 'sk-or-v1-sim-secret',
    });
    const pane = await waitFor(async () => {
      const dir = await trialDirOf(s);
      return readText(path.join(dir, 'agent', 'terminus_2.pane'));
    }, 'the pane');
    expect(pane.split('\n').filter((l) => l.startsWith('sim-agent')).length).toBeLessThan(8);
    expect((await sim.exited).code).toBe(0);
    const lines = (await readText(path.join(await trialDirOf(s), 'agent', 'terminus_2.pane'))).trim().split('\n');
    const counters = lines.filter((l) => l.startsWith('sim-agent')).map((l) => {
      expect(l).toContain(s.jobName);
      return Number(/line (\d+)$/.exec(l)?.[1]);
    });
    expect(counters).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(lines.filter((l) => l === 'sk-or-v1-sim-secret')).toHaveLength(1);
    const trajectory = JSON.parse(await readText(path.join(await trialDirOf(s), 'agent', 'trajectory.json')));
    expect(trajectory.steps.length).toBeGreaterThan(2);
  });

  it.concurrent('writes result.json non-atomically: a reader sees a half-written file first', async ({ expect }) => {
    const s = await setup();
    const sim = startSim(runArgs(s), { HARBOR_SIM_SCENARIO: 'hang', HARBOR_SIM_WRITE_PAUSE_MS: '300' });
    const file = path.join(s.jobDir, 'result.json');
    const partial = await waitFor(async () => {
      const text = await readText(file);
      return text.length > 0 ? text : null;
    }, 'the first bytes of result.json');
    expect(() => parseJobResult(partial)).toThrow(HarborResultError);
    const job = await waitFor(async () => parseJobResult(await readText(file)), 'a complete result.json');
    expect(job.finished_at).toBeNull();
    process.kill(-sim.pid, 'SIGKILL');
    await sim.exited;
  });

  it.concurrent('fills agent files only after the phase when the environment is not mounted', async ({ expect }) => {
    const s = await setup({ config: (c) => ({ ...c, environment: { type: 'modal' } }) });
    const sim = startSim(runArgs(s), { HARBOR_SIM_SCENARIO: 'hang', HARBOR_SIM_CANCEL_DELAY_MS: '50' });
    const trialDir = await waitFor(async () => {
      const dir = await trialDirOf(s);
      return (await readText(path.join(dir, 'trial.log'))).includes('never returns') && dir;
    }, 'the hanging agent');
    // terminus-2's episode files come from Harbor's own process, so they are there already.
    expect((await readdir(path.join(trialDir, 'agent'))).filter((f) => !f.startsWith('episode-'))).toEqual([]);
    process.kill(sim.pid, 'SIGTERM');
    expect((await sim.exited).code).toBe(1);
    expect(await readText(path.join(trialDir, 'agent', 'terminus_2.pane'))).toContain(`sim-agent ${s.jobName} line 20`);
    expect(JSON.parse(await readText(path.join(trialDir, 'agent', 'trajectory.json')))).toHaveProperty('steps');
  });
});

describe('harbor simulator: files worth parsing (harbor-contract §9)', () => {
  const FAILED = [
    ['tests/test_outputs.py::test_task_solved', 'AssertionError: the task is not solved'],
    ['tests/test_outputs.py::test_file_exists', "AssertionError: assert os.path.exists('/app/result.json')"],
  ];

  async function trialOf(env: Record<string, string>): Promise<{ s: Setup; trialDir: string }> {
    const s = await setup();
    const exit = await runSim(runArgs(s), env);
    expect(exit.code).toBe(0);
    return { s, trialDir: await trialDirOf(s) };
  }

  /** The tests the runner reads from a trial directory. */
  const readTrialTests = async (trialDir: string) => (await readTrial(trialDir)).tests;

  it.concurrent('fail with 5 tests: ctrf.json as pytest-json-ctrf writes it and the pytest summary agree', async ({ expect }) => {
    const { trialDir } = await trialOf({ HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_TESTS: '5' });
    const ctrf = await readTrialTests(trialDir);
    expect(ctrf).toMatchObject({ source: 'ctrf', passed: 3, failed: 2, skipped: 0, total: 5, note: 'read from verifier/ctrf.json (CTRF)' });
    expect(ctrf?.cases.map((c) => c.name)).toEqual(
      ['test_outputs_exist', 'test_task_solved', 'test_file_exists', 'test_output_format', 'test_permissions'].map((n) => `tests/test_outputs.py::${n}`),
    );
    // The assertion leads, then pytest's trace: not the plugin's generic message.
    expect(ctrf?.cases.filter((c) => c.status === 'FAILED').map((c) => [c.name, c.message!.split('\n\n')[0]])).toEqual(FAILED);
    for (const c of ctrf!.cases) expect(c.durationMs).toBeGreaterThan(0);
    // Seconds in the file became milliseconds: test 1 takes 40 ms, test 2 77 ms.
    expect(ctrf?.cases.slice(0, 2).map((c) => c.durationMs)).toEqual([40, 27]);

    const stdout = await readText(path.join(trialDir, 'verifier', 'test-stdout.txt'));
    expect(stdout).toContain(`FAILED ${FAILED[0]![0]} - ${FAILED[0]![1]}\n`);
    expect(stdout).toMatch(/\n=+ 2 failed, 3 passed in \d\.\d\ds =+\n$/);
    const ctrfJson = JSON.parse(await readText(path.join(trialDir, 'verifier', 'ctrf.json')));
    expect(ctrfJson.results.tool).toEqual({ name: 'pytest', version: '8.4.1' });
    expect(ctrfJson.results.summary.start).toBeLessThan(1e11);
    expect(ctrfJson.results.tests[0]).toEqual({
      name: 'tests/test_outputs.py::test_outputs_exist',
      status: 'passed',
      duration: 0.04,
      start: expect.any(Number),
      stop: expect.any(Number),
      retries: 0,
      file_path: 'tests/test_outputs.py',
    });
    expect(ctrfJson.results.tests[1]).toMatchObject({
      raw_status: 'call_failed',
      message: 'The test failed in the call phase due to an assertion error',
      trace: expect.stringMatching(/^def test_task_solved\(\):\n>/),
    });
  });

  it.concurrent('pass: every test passes', async ({ expect }) => {
    const { trialDir } = await trialOf({ HARBOR_SIM_TESTS: '4' });
    expect(await readTrialTests(trialDir)).toMatchObject({ source: 'ctrf', passed: 4, failed: 0, total: 4 });
    expect(await readText(path.join(trialDir, 'verifier', 'test-stdout.txt'))).toMatch(/=+ 4 passed in /);
  });

  it.concurrent('CTRF=none: the pytest summary gives the same tests', async ({ expect }) => {
    const { trialDir } = await trialOf({ HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_TESTS: '5', HARBOR_SIM_CTRF: 'none' });
    expect(await exists(path.join(trialDir, 'verifier', 'ctrf.json'))).toBe(false);
    const results = await readTrialTests(trialDir);
    expect(results).toMatchObject({ source: 'pytest', passed: 3, failed: 2, total: 5 });
    expect(results?.cases.filter((c) => c.status === 'FAILED').map((c) => [c.name, c.message])).toEqual(FAILED);
  });

  it.concurrent.each(['malformed', 'truncated'])('CTRF=%s: read from the pytest summary, with a note', async (mode) => {
    const { trialDir } = await trialOf({ HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_CTRF: mode });
    const results = await readTrialTests(trialDir);
    expect(results).toMatchObject({ source: 'pytest', failed: 1, total: 2 });
    expect(results?.note).toMatch(mode === 'malformed' ? /; verifier\/ctrf\.json could not be read: it is not a CTRF report/ : /not complete JSON/);
  });

  it.concurrent.each`
    format              | source        | reader                                              | file
    ${'pytest-verbose'} | ${'pytest'}   | ${'verifier/test-stdout.txt (pytest output)'}        | ${null}
    ${'go-json'}        | ${'go'}       | ${'verifier/test-stdout.txt (go test -json)'}        | ${null}
    ${'cargo'}          | ${'cargo'}    | ${'verifier/test-stdout.txt (cargo test / nextest output)'} | ${null}
    ${'unittest'}       | ${'unittest'} | ${'verifier/test-stdout.txt (unittest -v output)'}   | ${null}
    ${'junit'}          | ${'junit'}    | ${'verifier/junit.xml (JUnit XML)'}                  | ${'junit.xml'}
    ${'jest'}           | ${'jest'}     | ${'verifier/jest.json (jest/vitest JSON)'}           | ${'jest.json'}
  `('VERIFIER=$format: the runner reads the same suite with its $source reader', async ({ format, source, reader, file }) => {
    const { trialDir } = await trialOf({ HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_TESTS: '5', HARBOR_SIM_VERIFIER: format });
    expect(await exists(path.join(trialDir, 'verifier', 'ctrf.json'))).toBe(false);
    if (file) expect(await exists(path.join(trialDir, 'verifier', file))).toBe(true);
    expect(await readText(path.join(trialDir, 'verifier', 'reward.txt'))).toBe('0\n');
    const results = await readTrialTests(trialDir);
    expect(results).toMatchObject({ source, passed: 3, failed: 2, total: 5, note: `read from ${reader}` });
    const failed = results!.cases.filter((c) => c.status === 'FAILED');
    expect(failed.map((c) => c.name)).toEqual([expect.stringContaining('task_solved'), expect.stringContaining('file_exists')]);
    // Each format carries the failure's assertion somewhere in its message (pytest -v has none).
    if (format !== 'pytest-verbose') expect(failed[0]!.message).toContain('the task is not solved');
  });

  it.concurrent('VERIFIER=crash: reward 0, no test anywhere, and the crash line found', async ({ expect }) => {
    const { trialDir } = await trialOf({ HARBOR_SIM_VERIFIER: 'crash' });
    expect(await readText(path.join(trialDir, 'verifier', 'reward.txt'))).toBe('0\n');
    expect(JSON.parse(await readText(path.join(trialDir, 'result.json'))).verifier_result).toEqual({ rewards: { reward: 0.0 } });
    const { tests, crash } = await readTrial(trialDir);
    expect(crash).toBe('Fatal Python error: init_import_site: Failed to import the site module');
    expect(tests).toMatchObject({ source: null, total: 0 });
  });

  it.concurrent('refuses an unknown VERIFIER', async ({ expect }) => {
    const s = await setup();
    const exit = await runSim(runArgs(s), { HARBOR_SIM_VERIFIER: 'mocha' });
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('HARBOR_SIM_VERIFIER=mocha: expected pytest, pytest-verbose, crash, go-json, cargo, unittest, junit or jest');
  });

  it.concurrent('writes an ATIF trajectory whose step metrics add up, and a recording of the same output', async ({ expect }) => {
    const before = Date.now();
    const { s, trialDir } = await trialOf({ HARBOR_SIM_STEPS: '3', HARBOR_SIM_LOG_LINES: '6', HARBOR_SIM_PHASE_MS: '150', HARBOR_SIM_COST_USD: '0.01' });
    const after = Date.now();
    const trajectory = JSON.parse(await readText(path.join(trialDir, 'agent', 'trajectory.json')));
    const agentSteps = trajectory.steps.filter((step: any) => step.source === 'agent');
    expect(agentSteps).toHaveLength(3);
    // The shell's own clock (uptime + one date) is wall-clock time: within the run, never backwards.
    let previous = before - 50;
    for (const step of trajectory.steps) {
      expect(step.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      const at = Date.parse(step.timestamp);
      expect(at).toBeGreaterThanOrEqual(previous);
      expect(at).toBeLessThanOrEqual(after);
      previous = at;
    }
    for (const step of agentSteps) {
      expect(step.reasoning_content).toEqual(expect.any(String));
      expect(step.tool_calls[0]).toMatchObject({ function_name: 'bash_command', arguments: { keystrokes: expect.stringMatching(/\n$/), duration: 1 } });
      expect(step.observation.results[0].source_call_id).toBe(step.tool_calls[0].tool_call_id);
    }
    const sum = (key: string) => agentSteps.reduce((n: number, step: any) => n + step.metrics[key], 0);
    expect(trajectory.final_metrics).toMatchObject({ total_prompt_tokens: sum('prompt_tokens'), total_completion_tokens: sum('completion_tokens'), total_steps: 4 });
    expect(sum('cost_usd')).toBeCloseTo(0.01, 6);

    const [header, ...events] = (await readText(path.join(trialDir, 'agent', 'recording.cast'))).trim().split('\n').map((l) => JSON.parse(l));
    expect(header).toMatchObject({ version: 2, width: 160, height: 40 });
    const times = events.map((e: any) => e[0]);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const output = events.map((e: any) => e[2]).join('');
    for (let n = 1; n <= 6; n += 1) expect(output).toContain(`sim-agent ${s.jobName} line ${n}\r\n`);
    expect(output).toContain(`root@sandbox:/app# ${agentSteps[0].tool_calls[0].arguments.keystrokes.trim()}\r\n`);
  });

  it.concurrent('with fewer steps than batches, a step spans several batches of pane lines', async ({ expect }) => {
    // 2,000 ms: four batches of two lines, two steps of two batches each.
    const { trialDir } = await trialOf({ HARBOR_SIM_STEPS: '2', HARBOR_SIM_LOG_LINES: '8', HARBOR_SIM_PHASE_MS: '2000', HARBOR_SIM_LOG_STAMP: '1' });
    const pane = (await readText(path.join(trialDir, 'agent', 'terminus_2.pane'))).trim().split('\n');
    expect(pane.map((l) => l.replace(/ @\d+$/, '').replace(/^.* line /, 'line '))).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => `line ${n}`));
    // One write time per batch, 500 ms apart.
    const stamps = [...new Set(pane.map((l) => Number(/ @(\d+)$/.exec(l)![1])))];
    expect(stamps).toHaveLength(4);
    for (let i = 1; i < 4; i++) expect(stamps[i]! - stamps[i - 1]!).toBeGreaterThanOrEqual(400);
    const trajectory = JSON.parse(await readText(path.join(trialDir, 'agent', 'trajectory.json')));
    const agentSteps = trajectory.steps.filter((step: any) => step.source === 'agent');
    expect(agentSteps.map((step: any) => (step.observation.results[0].content.match(/ line \d+/g) ?? []).map((m: string) => m.trim()))).toEqual([
      ['line 1', 'line 2', 'line 3', 'line 4'],
      ['line 5', 'line 6', 'line 7', 'line 8'],
    ]);
    expect(Date.parse(agentSteps[0].timestamp)).toBe(stamps[0]);
    const events = (await readText(path.join(trialDir, 'agent', 'recording.cast'))).trim().split('\n').slice(1).map((l) => JSON.parse(l));
    // Per step: the typed command, then one output event per batch.
    expect(events.map((e: any) => (e[2].startsWith('root@sandbox') ? 'command' : 'output'))).toEqual(['command', 'output', 'output', 'command', 'output', 'output']);
  });

  it.concurrent('two attempts run the same commands up to DIVERGE_AT and different ones from there', async ({ expect }) => {
    const env = { HARBOR_SIM_STEPS: '4', HARBOR_SIM_PHASE_MS: '120', HARBOR_SIM_DIVERGE_AT: '4' };
    const [a, b] = await Promise.all([trialOf(env), trialOf(env)]);
    const commands = async (trialDir: string) =>
      JSON.parse(await readText(path.join(trialDir, 'agent', 'trajectory.json')))
        .steps.filter((step: any) => step.tool_calls)
        .map((step: any) => [step.step_id, step.tool_calls[0].arguments.keystrokes]);
    const [ca, cb] = [await commands(a.trialDir), await commands(b.trialDir)];
    expect(ca.map((c: any) => c[0])).toEqual([2, 3, 4, 5]);
    expect(ca.slice(0, 2)).toEqual(cb.slice(0, 2));
    expect(ca[2][1]).toBe(`git checkout -b try-${path.basename(a.trialDir).split('__')[1]}\n`);
    expect(ca[2]).not.toEqual(cb[2]);
  });

  it.concurrent.each([
    ['TRAJECTORY', 'none'],
    ['TRAJECTORY', 'malformed'],
    ['TRAJECTORY', 'truncated'],
    ['RECORDING', 'none'],
    ['RECORDING', 'truncated'],
  ])('%s=%s', async (knob, mode) => {
    const { trialDir } = await trialOf({ [`HARBOR_SIM_${knob}`]: mode, HARBOR_SIM_SCENARIO: 'fail' });
    const file = path.join(trialDir, 'agent', knob === 'TRAJECTORY' ? 'trajectory.json' : 'recording.cast');
    // The run itself is unaffected.
    expect(classifyTrial(await trialResult(trialDir)).status).toBe('FAILED');
    if (mode === 'none') return expect(await exists(file)).toBe(false);
    const text = await readText(file);
    if (knob === 'TRAJECTORY') {
      if (mode === 'malformed') expect(Array.isArray(JSON.parse(text).steps)).toBe(false);
      else expect(() => JSON.parse(text)).toThrow();
    } else {
      const lines = text.split('\n');
      expect(() => JSON.parse(lines.at(-1)!)).toThrow();
      for (const line of lines.slice(0, -1)) JSON.parse(line);
    }
  });

  it.concurrent('rejects an unknown file mode', async ({ expect }) => {
    const s = await setup();
    const exit = await runSim(runArgs(s), { HARBOR_SIM_CTRF: 'sometimes' });
    expect(exit.code).toBe(2);
    expect(exit.stderr).toContain('HARBOR_SIM_CTRF=sometimes');
  });
});

describe('harbor simulator: signals', () => {
  it.concurrent('SIGTERM during the agent phase records CancelledError after the cleanup delay', async ({ expect }) => {
    const s = await setup();
    const sim = startSim(runArgs(s), { HARBOR_SIM_SCENARIO: 'hang', HARBOR_SIM_CANCEL_DELAY_MS: '400' });
    const trialDir = await waitFor(async () => {
      const dir = await trialDirOf(s);
      return (await readText(path.join(dir, 'trial.log'))).includes('never returns') && dir;
    }, 'the hanging agent');
    const signalledAt = Date.now();
    process.kill(sim.pid, 'SIGTERM'); // the shell only: it must stop its own sleep children
    const exit = await sim.exited;
    const tookMs = Date.now() - signalledAt;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toBe('Aborted.\n');
    // The cleanup delay is a floor; what came after the signal is told by the logs, in order.
    expect(tookMs).toBeGreaterThanOrEqual(380);
    const trialLog = await readText(path.join(trialDir, 'trial.log'));
    expect(trialLog.indexOf('Trial cancelled; stopping environment')).toBeGreaterThan(trialLog.indexOf('never returns'));
    expect(await readText(path.join(s.jobDir, 'job.log'))).toContain(`Job ${s.jobName} cancelled`);

    const trial = await trialResult(trialDir);
    expect(trial.exception_info).toMatchObject({ exception_type: 'CancelledError', exception_message: '' });
    expect(trial.agent_execution?.finished_at).toMatch(/Z$/);
    expect(trial.verifier).toBeNull();
    expect(classifyTrial(trial)).toMatchObject({ status: 'CANCELLED', failureKind: null, exceptionType: 'CancelledError', exceptionMessage: '', inputTokens: 1000 });
    expect(await readText(path.join(trialDir, 'exception.txt'))).toContain('CancelledError');
    const job = await jobResult(s);
    expect(job).toMatchObject({ finished_at: null, stats: { n_cancelled_trials: 1, n_completed_trials: 1, n_running_trials: 0 } });
    expect(job.updated_at).toMatch(/Z$/);
    expect(await exists(path.join(s.jobDir, 'LEAKED_CONTAINER'))).toBe(false);
    await waitFor(async () => (await groupMembers(sim.pid)).length === 0, 'the sleep children to be gone');
  });

  it.concurrent('a second signal during cleanup exits at once and leaks the container', async ({ expect }) => {
    const s = await setup();
    // A cleanup of 10 minutes: that the process ends and its output closes at all (within the
    // test's timeout) shows the second signal cut it short and no child of it held the output.
    const sim = startSim(runArgs(s), { HARBOR_SIM_SCENARIO: 'hang', HARBOR_SIM_CANCEL_DELAY_MS: '600000' });
    const trialDir = await waitFor(async () => {
      const dir = await trialDirOf(s);
      return (await readText(path.join(dir, 'trial.log'))).includes('never returns') && dir;
    }, 'the hanging agent');
    process.kill(sim.pid, 'SIGINT');
    await waitFor(async () => (await readText(path.join(trialDir, 'trial.log'))).includes('Trial cancelled'), 'the cleanup to begin');
    process.kill(sim.pid, 'SIGTERM');
    const exit = await sim.exited;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('Aborted.');
    // The cleanup never finished: it would have logged the job cancelled.
    expect(await readText(path.join(s.jobDir, 'job.log'))).not.toContain('cancelled');
    expect(await readText(path.join(s.jobDir, 'LEAKED_CONTAINER'))).toMatch(/__env\n$/);
    expect(await exists(path.join(trialDir, 'result.json'))).toBe(false);
    expect((await jobResult(s)).finished_at).toBeNull();
    await waitFor(async () => (await groupMembers(sim.pid)).length === 0, 'the sleep children to be gone');
  });

  it.concurrent('keeps a ledger of trial starts and process ends: which process, started by whom, and how the trial ended', async ({ expect }) => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'harbor-sim-ledger-'));
    roots.push(root);
    const ledger = path.join(root, 'ledger');
    const [pass, hang, crash, preflight] = await Promise.all([setup(), setup(), setup(), setup()]);
    const env = { HARBOR_SIM_LEDGER: ledger, HARBOR_SIM_CANCEL_DELAY_MS: '50' };
    const hanging = startSim(runArgs(hang!), { ...env, HARBOR_SIM_SCENARIO: 'hang' });
    await Promise.all([
      runSim(runArgs(pass!), env),
      runSim(runArgs(crash!), { ...env, HARBOR_SIM_SCENARIO: 'crash' }),
      runSim(runArgs(preflight!), { ...env, HARBOR_SIM_SCENARIO: 'preflight-crash' }),
      waitFor(async () => (await readText(ledger)).includes(`start ${hang!.jobName} `), 'the hanging trial to start'),
    ]);
    process.kill(-hanging.pid, 'SIGTERM'); // the whole group, as the runner does
    expect((await hanging.exited).code).toBe(1);

    const lines = (await readText(ledger)).trim().split('\n');
    for (const line of lines) expect(line).toMatch(/^(start run-\S+ \d{13} \d+ \d+|end run-\S+ \d{13} \d+ \d+ (finished|cancelled|aborted))$/);
    const events = (name: string) =>
      lines
        .filter((l) => l.split(' ')[1] === name)
        .map((l) => l.split(' '))
        .map(([kind, , at, pid, ppid, how]) => ({ kind, at: Number(at), pid: Number(pid), ppid: Number(ppid), how }));
    for (const [s, how] of [[pass!, 'finished'], [hang!, 'cancelled']] as const) {
      const e = events(s.jobName);
      expect(e.map((x) => x.kind)).toEqual(['start', 'end']);
      expect(e[1]!.at).toBeGreaterThanOrEqual(e[0]!.at);
      expect(e[1]!.how).toBe(how);
      // The simulator's own process, started by this test's process.
      expect(e[0]!.ppid).toBe(process.pid);
      expect(e[1]!.pid).toBe(e[0]!.pid);
    }
    expect(events(hang!.jobName)[0]!.pid).toBe(hanging.pid);
    expect(events(crash!.jobName).map((x) => x.kind)).toEqual(['start']); // kill -9: no trap, no end
    expect(events(preflight!.jobName)).toEqual([]); // the trial never started
  });

});

describe('harbor simulator: per-agent files (Harbor 0.22 src/harbor/agents/)', () => {
  /** Files under agent/ of a finished trial, sorted, with session and rollout names generalised. */
  async function agentFiles(trialDir: string): Promise<string[]> {
    const files = (await readdir(path.join(trialDir, 'agent'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    return files
      .map((e) => path.relative(path.join(trialDir, 'agent'), path.join(e.parentPath, e.name)))
      .map((f) => f.replace(/[0-9a-f-]{36}\.jsonl$/, '<id>.jsonl').replace(/\d{4}\/\d{2}\/\d{2}\/rollout-.*$/, 'Y/M/D/rollout-<id>.jsonl'))
      .sort();
  }
  const agentSetup = (name: string, model: string | null = 'anthropic/claude-sonnet-4-5') =>
    setup({ config: (c) => ({ ...c, agents: [{ name, model_name: model }] }) });

  const AGENTS = [
    { agent: 'oracle', version: '1.0.0', status: 'PASSED', tokens: 1000, files: ['oracle.txt'] },
    { agent: 'nop', version: '1.0.0', status: 'FAILED', tokens: null, files: [] },
    {
      agent: 'terminus-2', version: '2.0.0', status: 'PASSED', tokens: 1000,
      files: ['episode-0/prompt.txt', 'episode-0/response.txt', 'episode-1/prompt.txt', 'episode-1/response.txt', 'recording.cast', 'terminus_2.pane', 'trajectory.json'],
    },
    {
      agent: 'claude-code', version: '2.0.76', status: 'PASSED', tokens: 1000,
      files: ['claude-code.txt', 'sessions/projects/-app/<id>.jsonl', 'setup/return-code.txt', 'setup/stdout.txt', 'trajectory.json'],
    },
    { agent: 'codex', version: '0.77.0', status: 'PASSED', tokens: 1000, files: ['codex.txt', 'sessions/Y/M/D/rollout-<id>.jsonl', 'setup/return-code.txt', 'setup/stdout.txt', 'trajectory.json'] },
    { agent: 'aider', version: 'unknown', status: 'PASSED', tokens: null, files: ['aider.txt', 'setup/return-code.txt', 'setup/stdout.txt', 'trajectory.json'] },
  ];

  it.concurrent.each(AGENTS)('$agent writes its own files, version $version, $status', async ({ agent, version, status, tokens, files }) => {
    const s = await agentSetup(agent);
    expect((await runSim(runArgs(s), { HARBOR_SIM_PHASE_MS: '1000', HARBOR_SIM_LOG_LINES: '4' })).code).toBe(0);
    const trialDir = await trialDirOf(s);
    expect(await agentFiles(trialDir)).toEqual(files);
    const result = await trialResult(trialDir);
    expect(result.agent_info.version).toBe(version);
    expect(result.agent_result?.n_input_tokens ?? null).toBe(tokens);
    expect(classifyTrial(result).status).toBe(status);
    const trialLog = await readText(path.join(trialDir, 'trial.log'));
    // Installed agents' output is only in their own files; trial.log names the commands.
    expect(/Running command: /.test(trialLog)).toBe(files.includes('setup/stdout.txt'));
    if (files.includes('trajectory.json')) {
      const trajectory = JSON.parse(await readText(path.join(trialDir, 'agent/trajectory.json')));
      expect(trajectory.agent).toMatchObject({ name: agent, version });
      expect(trajectory.steps).toHaveLength(3);
      expect(trajectory.final_metrics.total_prompt_tokens).toBe(tokens);
    }
  });

  it.concurrent('oracle: solve.sh output in oracle.txt while it runs; exit-code.txt when it fails', async ({ expect }) => {
    const running = await agentSetup('oracle', null);
    const sim = startSim(runArgs(running), { HARBOR_SIM_SCENARIO: 'hang', HARBOR_SIM_PHASE_MS: '600', HARBOR_SIM_LOG_LINES: '3' });
    const dir = await waitFor(async () => {
      const d = await trialDirOf(running);
      return (await readText(path.join(d, 'agent/oracle.txt')).catch(() => '')).includes('line 3') && d;
    }, 'oracle.txt to fill');
    expect(await exists(path.join(dir, 'result.json'))).toBe(false);
    process.kill(sim.pid, 'SIGTERM');
    await sim.exited;

    const failing = await agentSetup('oracle', null);
    await runSim(runArgs(failing), { HARBOR_SIM_SCENARIO: 'fail' });
    const failedDir = await trialDirOf(failing);
    expect(await readText(path.join(failedDir, 'agent/exit-code.txt'))).toBe('1');
    expect(await readText(path.join(failedDir, 'agent/oracle.txt'))).toMatch(/command not found\n$/);
  });

  it.concurrent('claude-code: stream-json lines and the session live, the ATIF trajectory only after the run', async ({ expect }) => {
    const s = await agentSetup('claude-code');
    const sim = startSim(runArgs(s), { HARBOR_SIM_SCENARIO: 'hang', HARBOR_SIM_PHASE_MS: '600', HARBOR_SIM_LOG_LINES: '3' });
    const dir = await waitFor(async () => {
      const d = await trialDirOf(s);
      return (await readText(path.join(d, 'trial.log'))).includes('never returns') && d;
    }, 'the hanging agent');
    const lines = (await readText(path.join(dir, 'agent/claude-code.txt'))).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ type: 'system', subtype: 'init' });
    expect(lines.some((l) => l.type === 'assistant' && l.message.content.some((c: { type: string }) => c.type === 'tool_use'))).toBe(true);
    expect(await agentFiles(dir)).toEqual(['claude-code.txt', 'sessions/projects/-app/<id>.jsonl', 'setup/return-code.txt', 'setup/stdout.txt']);
    process.kill(sim.pid, 'SIGTERM');
    await sim.exited;
  });

  it.concurrent('rewards: reward.json with several keys, both files, and a bad knob', async ({ expect }) => {
    const [multi, both, bad] = await Promise.all([agentSetup('oracle'), agentSetup('oracle'), agentSetup('oracle')]);
    const [, , badExit] = await Promise.all([
      runSim(runArgs(multi!), { HARBOR_SIM_REWARDS: '{"reward": 0, "style": 0.5}' }),
      runSim(runArgs(both!), { HARBOR_SIM_REWARD_FILE: 'both' }),
      runSim(runArgs(bad!), { HARBOR_SIM_REWARDS: '{"a": "x"}' }),
    ]);
    const multiDir = await trialDirOf(multi!);
    expect(await exists(path.join(multiDir, 'verifier/reward.txt'))).toBe(false);
    expect(JSON.parse(await readText(path.join(multiDir, 'verifier/reward.json')))).toEqual({ reward: 0, style: 0.5 });
    expect((await trialResult(multiDir)).verifier_result?.rewards).toEqual({ reward: 0, style: 0.5 });
    expect(Object.keys(Object.values((await jobResult(multi!)).stats.evals)[0]!.reward_stats ?? {})).toEqual(['reward', 'style']);
    const bothDir = await trialDirOf(both!);
    expect(await readText(path.join(bothDir, 'verifier/reward.txt'))).toBe('1\n');
    expect(JSON.parse(await readText(path.join(bothDir, 'verifier/reward.json')))).toEqual({ reward: 1 });
    expect(badExit.code).toBe(2);
    expect(badExit.stderr).toContain('HARBOR_SIM_REWARDS');
  });

  it.concurrent.each(['malformed', 'truncated'])('RESULT=%s: the final trial result.json does not parse', async (mode) => {
    const s = await agentSetup('oracle');
    expect((await runSim(runArgs(s), { HARBOR_SIM_RESULT: mode })).code).toBe(0);
    const text = await readText(path.join(await trialDirOf(s), 'result.json'));
    expect(() => parseTrialResult(text)).toThrow(HarborResultError);
  });
});
