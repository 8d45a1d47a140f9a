// The simulator's regrade (harbor-sim/regrade.sh) and its agent that writes its own reward, read with
// the runner's parser, classifier and reward-integrity check: the double and the reader agree.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyTrial } from '../src/harbor/outcome.js';
import { parseTrialResult } from '../src/harbor/result.js';
import { checkRewardIntegrity } from '../src/harbor/reward-integrity.js';
import { writeTaskPackage } from './support/simulator.js';

const SIM = fileURLToPath(new URL('./harbor-sim/harbor', import.meta.url));
const root = await mkdtemp(path.join(os.tmpdir(), 'sim-regrade-'));
afterAll(() => rm(root, { recursive: true, force: true }));
const jobsDir = path.join(root, 'jobs');

async function sim(config: Record<string, unknown>, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = path.join(root, `${String(config.job_name)}.json`);
  await writeFile(file, JSON.stringify({ jobs_dir: jobsDir, ...config }));
  try {
    const { stdout, stderr } = await promisify(execFile)(SIM, ['run', '-c', file, '-y', '--quiet'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HARBOR_SIM_PHASE_MS: '50', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A task package under <root>/tasks/<version>/<name>, its verifier in separate mode unless told. */
async function task(version: string, name: string, knobs: Record<string, string>, separate = true): Promise<string> {
  const dir = path.join(root, 'tasks', version, name);
  await mkdir(dir, { recursive: true });
  await writeTaskPackage(dir, `version = "1.0"\n\n[verifier]\ntimeout_sec = 60.0\n${separate ? 'environment_mode = "separate"\n' : ''}\n[agent]\ntimeout_sec = 60.0\n`);
  await writeFile(path.join(dir, '.harbor-sim'), Object.entries(knobs).map(([k, v]) => `${k}=${v}\n`).join(''));
  return dir;
}

async function onlyTrial(jobName: string): Promise<string> {
  const entries = (await readdir(path.join(jobsDir, jobName), { withFileTypes: true })).filter((e) => e.isDirectory());
  expect(entries).toHaveLength(1);
  return path.join(jobsDir, jobName, entries[0]!.name);
}

const exists = (p: string) => stat(p).then(() => true, () => false);
const agents = [{ name: 'terminus-2', model_name: 'openrouter/anthropic/claude-sonnet-4' }];

describe('simulated regrade', () => {
  it('re-runs only the verifier with the fixed task on the source trial: a new trial, verdict FAILED → PASSED', async () => {
    const broken = await task('v1', 'fix-git', { HARBOR_SIM_SCENARIO: 'fail' });
    const fixed = await task('v2', 'fix-git', { HARBOR_SIM_SCENARIO: 'pass' });
    expect((await sim({ job_name: 'source', agents, tasks: [{ path: broken, source: 'thr' }] })).code).toBe(0);
    const source = await onlyTrial('source');
    const before = parseTrialResult(await readFile(path.join(source, 'result.json'), 'utf8'));
    expect(classifyTrial(before).status).toBe('FAILED');
    const sourceResult = await readFile(path.join(source, 'result.json'), 'utf8');

    const regrade = await sim({
      job_name: 'regrade',
      n_concurrent_trials: 1,
      tasks: [{ path: fixed, source: 'thr' }],
      source_jobs: [{ action: 'regrade', type: 'local', path: path.join(jobsDir, 'source') }],
    });
    expect(regrade.code, regrade.stderr).toBe(0);
    const trial = await onlyTrial('regrade');
    expect(path.basename(trial)).not.toBe(path.basename(source));
    const after = parseTrialResult(await readFile(path.join(trial, 'result.json'), 'utf8'));
    expect(classifyTrial(after)).toMatchObject({ status: 'PASSED', reward: 1 });
    // Harbor's RegradeTrial: agent identity and usage carried from the source, no agent phase, separate verifier.
    expect(after.agent_info).toEqual(before.agent_info);
    expect(after.agent_result?.n_input_tokens).toBe(before.agent_result?.n_input_tokens);
    expect([after.environment_setup, after.agent_setup, after.agent_execution]).toEqual([null, null, null]);
    expect(after.verifier?.started_at).toBeTruthy();
    expect(after.verifier_environment_mode).toBe('separate');
    // The recorded agent output was copied; the source is untouched.
    expect(await readFile(path.join(trial, 'agent/trajectory.json'), 'utf8')).toBe(await readFile(path.join(source, 'agent/trajectory.json'), 'utf8'));
    expect(await exists(path.join(trial, 'artifacts/manifest.json'))).toBe(true);
    expect(await readFile(path.join(source, 'result.json'), 'utf8')).toBe(sourceResult);
  });

  it('refuses like Harbor: a shared-mode task, a task of another name (exit 1, no job dir); a Harbor without regrade (exit 2)', async () => {
    const source = path.join(jobsDir, 'source');
    const shared = await task('v3', 'fix-git', { HARBOR_SIM_SCENARIO: 'pass' }, false);
    const refused = await sim({ job_name: 'shared', tasks: [{ path: shared }], source_jobs: [{ action: 'regrade', type: 'local', path: source }] });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`ValueError: Task at ${shared} resolves to a shared-mode verifier`);
    expect(await exists(path.join(jobsDir, 'shared'))).toBe(false);

    const other = await task('v4', 'other-task', {});
    const mismatch = await sim({ job_name: 'other', tasks: [{ path: other }], source_jobs: [{ action: 'regrade', type: 'local', path: source }] });
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain('ValueError: Source job contains trials for tasks with no matching task path: fix-git.');

    // A multi-step task, even with its verifier in separate mode.
    const steps = path.join(root, 'tasks', 'v6', 'fix-git');
    await writeTaskPackage(steps, 'version = "1.0"\n\n[verifier]\nenvironment_mode = "separate"\n\n[[steps]]\nname = "build"\n');
    const multi = await sim({ job_name: 'multi', tasks: [{ path: steps }], source_jobs: [{ action: 'regrade', type: 'local', path: source }] });
    expect([multi.code, multi.stderr]).toEqual([1, expect.stringContaining(`ValueError: Task at ${steps} is a multi-step task`)]);
    expect(await exists(path.join(jobsDir, 'multi'))).toBe(false);

    const help = await promisify(execFile)(SIM, ['job', 'regrade', '--help']);
    expect(help.stdout).toMatch(/^Usage: harbor job regrade/);
    const missing = await promisify(execFile)(SIM, ['job', 'regrade', '--help'], { env: { ...process.env, HARBOR_SIM_NO_REGRADE: '1' } }).catch((e) => e);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining("No such command 'regrade'.")]);
  });
});

describe("the source trial's artifacts/manifest.json", () => {
  it("is Harbor's list of entries; a regrade of a source without one ends in RegradeError", async () => {
    const fixed = await task('v7', 'manifest-task', { HARBOR_SIM_SCENARIO: 'pass' });
    expect((await sim({ job_name: 'm-source', agents, tasks: [{ path: fixed, source: 'thr' }] })).code).toBe(0);
    const source = await onlyTrial('m-source');
    expect(JSON.parse(await readFile(path.join(source, 'artifacts/manifest.json'), 'utf8'))).toEqual([
      { source: '/logs/artifacts', destination: 'artifacts', type: 'directory', status: 'empty', service: 'main' },
    ]);
    // The shape the simulator wrote before: an object, which Harbor cannot read as a manifest.
    await writeFile(path.join(source, 'artifacts/manifest.json'), '{"files": [], "collected_at": "2026-01-01T00:00:00Z"}\n');
    expect((await sim({ job_name: 'm-regrade', tasks: [{ path: fixed, source: 'thr' }], source_jobs: [{ action: 'regrade', type: 'local', path: path.join(jobsDir, 'm-source') }] })).code).toBe(0);
    const result = parseTrialResult(await readFile(path.join(await onlyTrial('m-regrade'), 'result.json'), 'utf8'));
    expect(result.exception_info).toMatchObject({ exception_type: 'RegradeError', exception_message: expect.stringContaining('is not a list of artifact entries') });
  });
});

describe('an agent that writes its own reward (HARBOR_SIM_AGENT_WRITES_REWARD)', () => {
  it('passes through reward.json, which Harbor prefers; the runner flags the two files disagreeing', async () => {
    const cheat = await task('v5', 'cheat', { HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_AGENT_WRITES_REWARD: '1' });
    expect((await sim({ job_name: 'cheat', agents, tasks: [{ path: cheat }] })).code).toBe(0);
    const trial = await onlyTrial('cheat');
    const result = parseTrialResult(await readFile(path.join(trial, 'result.json'), 'utf8'));
    expect(classifyTrial(result)).toMatchObject({ status: 'PASSED', reward: 1 });
    expect(await readFile(path.join(trial, 'verifier/reward.txt'), 'utf8')).toBe('0\n');
    expect(await checkRewardIntegrity(trial, result.verifier?.started_at ?? null)).toEqual({
      kind: 'FILES_DISAGREE',
      detail: 'verifier/reward.json says 1 but verifier/reward.txt says 0; Harbor scored the run with reward.json',
    });
  });
});
