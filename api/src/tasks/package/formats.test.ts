// Multi-step, Windows and GPU tasks through the package reader: which files Harbor's rules require
// of each, and what is kept for the task page (step summaries) and runner routing (task.toml as parsed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, Scratch, TASK_TOML, taskFiles, under, without } from './test-zips.js';

let scratch: Scratch;
beforeAll(async () => {
  scratch = await Scratch.create();
});
afterAll(async () => {
  await scratch.cleanup();
});

const STEPS_TOML = `schema_version = "1.4"
multi_step_reward_strategy = "final"

[task]
name = "example/build-then-ship"
description = "Scaffold a service, then ship it"

[environment]
docker_image = "example/build-then-ship:1"
workdir = "/app"

[[steps]]
name = "scaffold"
min_reward = 1.0

[steps.agent]
timeout_sec = 600.0

[steps.verifier]
timeout_sec = 120.0

[[steps]]
name = "ship"

[steps.agent]
timeout_sec = 1200.0
network_mode = "allowlist"
allowed_hosts = ["pypi.org"]
`;

/** A multi-step task: no instruction.md at the root, shared tests/test.sh, one step with its own tests. */
function multiStep(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    'task.toml': STEPS_TOML,
    'environment/Dockerfile': 'FROM python:3.13-slim-bookworm\nWORKDIR /app\n',
    'tests/test.sh': '#!/bin/bash\npytest /tests -q && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
    'steps/scaffold/instruction.md': '# Scaffold\n\nCreate `app.py` with a /health endpoint.\n',
    'steps/scaffold/tests/test_scaffold.py': 'def test_health():\n    assert True\n',
    'steps/scaffold/solution/solve.sh': '#!/bin/bash\ntouch app.py\n',
    'steps/ship/instruction.md': '# Ship\n\nPackage the app as a wheel.\n',
    'steps/ship/tests/test.sh': '#!/bin/bash\ntest -f dist/*.whl && echo 1 > /logs/verifier/reward.txt\n',
    ...overrides,
  };
}

describe('multi-step tasks', () => {
  it('accepts [[steps]] with steps/<name>/ folders and summarises each step', async () => {
    const archive = await scratch.extract(under('build-then-ship', multiStep()));
    const task = archive.tasks[0]!;
    expect(task.errors).toEqual([]);
    expect(task.instruction).toBe('');
    expect(codes(task.warnings)).toEqual(['missing_solution']);
    expect(task.warnings[0]!.message).toBe('step "ship" has no solution/solve.sh (nor does the task): the oracle agent cannot check them');
    expect(task.config!.multiStepRewardStrategy).toBe('final');
    expect(task.steps).toEqual([
      {
        name: 'scaffold',
        instruction: '# Scaffold\n\nCreate `app.py` with a /health endpoint.\n',
        instructionTruncated: false,
        agentTimeoutSec: 600,
        verifierTimeoutSec: 120,
        agentNetwork: null,
        verifierNetwork: null,
        minReward: 1,
        tests: 'task',
        solution: 'step',
        files: ['instruction.md', 'solution/solve.sh', 'tests/test_scaffold.py'],
      },
      {
        name: 'ship',
        instruction: '# Ship\n\nPackage the app as a wheel.\n',
        instructionTruncated: false,
        agentTimeoutSec: 1200,
        verifierTimeoutSec: null,
        agentNetwork: { mode: 'allowlist', allowedHosts: ['pypi.org'] },
        verifierNetwork: null,
        minReward: null,
        tests: 'step',
        solution: null,
        files: ['instruction.md', 'tests/test.sh'],
      },
    ]);
  });

  it("requires each step's instruction and a test script of its own or the task's", async () => {
    const files = without(multiStep(), 'tests/test.sh', 'steps/ship/instruction.md');
    const archive = await scratch.extract(under('build-then-ship', files));
    expect(archive.tasks[0]!.errors.map((e) => [e.code, e.message])).toEqual([
      ['missing_required_file', 'step "scaffold" has no test script: required file "build-then-ship/steps/scaffold/tests/test.sh" (or the shared "build-then-ship/tests/test.sh") is missing'],
      ['missing_required_file', 'required file "build-then-ship/steps/ship/instruction.md" is missing'],
    ]);
  });

  it('needs no test script for a step whose verifier runs in its own environment', async () => {
    const toml = STEPS_TOML.replace('[steps.verifier]\ntimeout_sec = 120.0', '[steps.verifier]\ntimeout_sec = 120.0\nenvironment_mode = "separate"');
    const archive = await scratch.extract(under('build-then-ship', without(multiStep({ 'task.toml': toml }), 'tests/test.sh')));
    expect(archive.tasks[0]!.errors).toEqual([]);
    expect(archive.tasks[0]!.steps![0]!.tests).toBe('separate');
  });

  it('rejects an empty step instruction', async () => {
    const archive = await scratch.extract(under('build-then-ship', multiStep({ 'steps/ship/instruction.md': '  \n' })));
    expect(archive.tasks[0]!.errors).toEqual([
      { code: 'instruction_invalid', message: 'build-then-ship/steps/ship/instruction.md is empty', path: 'build-then-ship/steps/ship/instruction.md' },
    ]);
  });
});

describe('Windows and GPU tasks', () => {
  const windowsToml = TASK_TOML.replace('[environment]\n', '[environment]\nos = "windows"\n');

  it('requires tests/test.bat of a Windows task, and accepts it', async () => {
    const files = without(taskFiles({ 'task.toml': windowsToml, 'tests/test.bat': '@echo off\r\npytest C:\\tests\r\n' }), 'tests/test.sh');
    const archive = await scratch.extract(under('win-task', files));
    expect(archive.tasks[0]!.errors).toEqual([]);
    expect(archive.tasks[0]!.config).toMatchObject({ os: 'windows', raw: expect.objectContaining({ environment: expect.objectContaining({ os: 'windows' }) }) });
    const missing = await scratch.extract(under('win-task', without(taskFiles({ 'task.toml': windowsToml }), 'tests/test.bat')));
    expect(missing.tasks[0]!.errors.map((e) => e.path)).toEqual(['win-task/tests/test.bat']);
  });

  it('keeps gpus and gpu_types as parsed for runner routing', async () => {
    const toml = TASK_TOML.replace('[environment]\n', '[environment]\ngpus = 1\ngpu_types = ["H100", "A100"]\n');
    const archive = await scratch.extract(under('gpu-task', taskFiles({ 'task.toml': toml })));
    expect(archive.tasks[0]!.errors).toEqual([]);
    expect(archive.tasks[0]!.config!.raw).toMatchObject({ environment: { gpus: 1, gpu_types: ['H100', 'A100'] } });
  });
});
