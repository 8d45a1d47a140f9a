// Whose fault a failure is: the runner's own (released, the runner degrades) or the run's (recorded).
// One trial each, in process, with the Harbor simulator.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, it } from 'vitest';
import type { RunnerConfig } from '../src/config.js';
import { findParentDeathWrapper } from '../src/harbor/process.js';
import { PROTOCOL_VERSION, runOrderSchema } from '../src/protocol/index.js';
import { startTrial, type TrialOutcome } from '../src/trial.js';
import { SIMULATOR } from './support/processes.js';
import { writeTaskPackage } from './support/simulator.js';

const roots: string[] = [];
afterAll(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});
const CONTENT = 'd'.repeat(64);

async function runOne(options: { sim?: Record<string, string>; harborBin?: string; environmentType?: string; taskDir?: string; tasksDir?: (root: string) => string } = {}): Promise<TrialOutcome> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'thr-faults-'));
  roots.push(root);
  const tasksDir = options.tasksDir?.(root) ?? path.join(root, 'tasks');
  const taskDir = path.join(root, 'tasks', CONTENT, 'sim-task');
  await mkdir(taskDir, { recursive: true });
  await mkdir(path.join(root, 'jobs'));
  await writeTaskPackage(taskDir, '[task]\nname = "sim-task"\n');
  await writeFile(path.join(taskDir, '.harbor-sim'), Object.entries({ HARBOR_SIM_PHASE_MS: '20', ...options.sim }).map(([k, v]) => `${k}=${v}\n`).join(''));
  const order = runOrderSchema.parse({
    v: PROTOCOL_VERSION,
    runId: randomUUID(),
    jobId: randomUUID(),
    taskId: randomUUID(),
    taskName: 'sim-task',
    taskDir: options.taskDir ?? `${CONTENT}/sim-task`,
    repeat: 1,
    attempt: 1,
    agent: 'oracle',
    model: null,
    harbor: { environmentType: options.environmentType ?? 'docker' },
  });
  const config = {
    runnerId: 'runner-faults',
    tasksDir,
    jobsDir: path.join(root, 'jobs'),
    harborBin: options.harborBin ?? SIMULATOR,
    secretsKey: null,
    cancelGraceMs: 5_000,
    wallClockSlackMs: 60_000,
    logPollMs: 50,
    logFlushMs: 20,
  } as RunnerConfig;
  const trial = startTrial(config, order, 1, await findParentDeathWrapper(), { started: () => {}, publishLog: async () => {}, log: () => {} });
  return trial.done;
}

describe('faults of the runner itself release the order', () => {
  it.concurrent("Harbor's Docker pre-flight failing on a docker-environment run: recovery waits for Docker", async ({ expect }) => {
    const outcome = await runOne({ sim: { HARBOR_SIM_SCENARIO: 'docker-down' } });
    expect(outcome).toMatchObject({ kind: 'released', reason: 'runner-unhealthy', message: expect.stringMatching(/Docker is not reachable for Harbor: Docker daemon is not running/) });
    expect(outcome.kind === 'released' && outcome.reason === 'runner-unhealthy' && outcome.fault.docker).toBe(true);
  });

  it.concurrent('Harbor missing, or not executable', async ({ expect }) => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'thr-faults-bin-'));
    roots.push(root);
    const notExecutable = path.join(root, 'harbor');
    await writeFile(notExecutable, '#!/bin/sh\n');
    await chmod(notExecutable, 0o644);
    for (const harborBin of ['/nonexistent/harbor', notExecutable]) {
      expect(await runOne({ harborBin })).toMatchObject({ kind: 'released', reason: 'runner-unhealthy', message: expect.stringMatching(/Harbor cannot be run here/) });
    }
  });

  it.concurrent('TASKS_DIR not there at all (the shared storage is not mounted)', async ({ expect }) => {
    const outcome = await runOne({ tasksDir: (root) => path.join(root, 'not-mounted') });
    expect(outcome).toMatchObject({ kind: 'released', reason: 'runner-unhealthy', message: expect.stringMatching(/TASKS_DIR .* is not readable/) });
  });
});

describe("faults of one run's own are recorded as its outcome", () => {
  it.concurrent('a task package missing from a readable TASKS_DIR', async ({ expect }) => {
    const outcome = await runOne({ taskDir: `${'e'.repeat(64)}/gone` });
    expect(outcome).toMatchObject({ kind: 'finished', result: { status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionMessage: expect.stringMatching(/is not under TASKS_DIR/) } });
  });

  it.concurrent('the docker-down scenario does not touch a run on another environment', async ({ expect }) => {
    expect(await runOne({ sim: { HARBOR_SIM_SCENARIO: 'docker-down' }, environmentType: 'daytona' })).toMatchObject({ kind: 'finished', result: { status: 'PASSED' } });
  });
});
