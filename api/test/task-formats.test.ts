// Task formats beyond the plain TB2 task, uploaded through the API: a multi-step task, a Windows
// task, a GPU task, TB1 tasks (compose-based, Dockerfile-only with the old base images, and one with
// a keystroke solution that cannot be converted), and a zip whose UTF-8 names lack the UTF-8 flag;
// then what the task page reads of each, and the original TB1 upload served for download.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { rawZip } from '../src/tasks/package/test-zips.js';
import { composeTask, dockerfileTask, solutionYamlTask } from '../src/tasks/tb1/fixtures.js';
import { anonymousFetch } from './support/auth.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { tb2Task, under, zip } from './support/task-zips.js';
import { unzip } from './support/unzip.js';
import { uploadZips } from './support/upload.js';

let api: TestApp;
beforeAll(async () => {
  api = await startTestApp();
});
afterAll(() => api?.close());

const TASK_PAGE = `query($id: ID!) { task(id: $id) {
  name instruction os gpus gpuTypes multiStepRewardStrategy convertedFrom originalUrl
  conversionNotes { kind message }
  steps { name instruction instructionTruncated agentTimeoutSec verifierTimeoutSec minReward tests solution files
    agentNetwork { mode allowedHosts } verifierNetwork { mode allowedHosts } }
  files { path executable } config
} }`;

async function upload(zips: { name: string; bytes: Uint8Array }[]) {
  const { status, body } = await uploadZips(api.url, zips);
  expect(status, JSON.stringify(body)).toBe(200);
  expect(body.errors).toBeUndefined();
  return body.data.uploadTasks.data;
}

async function taskPage(id: string) {
  const { data, errors } = await graphql(api.url, TASK_PAGE, { id });
  expect(errors).toBeUndefined();
  return data.task;
}

function withToml(name: string, edit: (toml: string) => string, drop: string[] = []) {
  const files = tb2Task(name);
  files['task.toml'] = edit(files['task.toml'] as string);
  for (const file of drop) delete files[file];
  return files;
}

const MULTI_STEP_TOML = `schema_version = "1.4"
multi_step_reward_strategy = "mean"

[task]
name = "example/notes-app"

[environment]
docker_image = "example/notes-app:1"

[[steps]]
name = "01-model"
min_reward = 1.0
[steps.agent]
timeout_sec = 600.0
network_mode = "no-network"
[steps.verifier]
timeout_sec = 120.0

[[steps]]
name = "02-api"
[steps.agent]
timeout_sec = 900.0
`;

describe('uploading task formats', () => {
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const result = await upload([
      {
        name: 'notes-app.zip',
        bytes: await zip(
          under('notes-app', {
            'task.toml': MULTI_STEP_TOML,
            'environment/Dockerfile': 'FROM python:3.13-slim-bookworm\nWORKDIR /app\n',
            'tests/test.sh': '#!/bin/bash\npytest /tests -q; [ $? -eq 0 ] && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
            'steps/01-model/instruction.md': '# Model\n\nWrite a `Note` dataclass in notes.py.\n',
            'steps/01-model/tests/test_model.py': 'def test_note():\n    assert True\n',
            'steps/01-model/solution/solve.sh': '#!/bin/bash\necho "class Note: pass" > notes.py\n',
            'steps/02-api/instruction.md': '# API\n\nServe the notes over HTTP on port 8000.\n',
            'steps/02-api/tests/test_api.py': 'def test_api():\n    assert True\n',
            'steps/02-api/solution/solve.sh': '#!/bin/bash\ntouch api.py\n',
          }),
        ),
      },
      {
        name: 'win-build.zip',
        bytes: await zip(
          under('win-build', {
            ...withToml('win-build', (t) => t.replace('[environment]\n', '[environment]\nos = "windows"\n'), ['tests/test.sh', 'solution/solve.sh']),
            'tests/test.bat': '@echo off\r\npython -m pytest C:\\tests\\test_outputs.py\r\n',
            'solution/solve.bat': '@echo off\r\necho solved\r\n',
          }),
        ),
      },
      {
        name: 'gpu-train.zip',
        bytes: await zip(under('gpu-train', withToml('gpu-train', (t) => t.replace('[environment]\n', '[environment]\ngpus = 2\ngpu_types = ["H100", "A100"]\n')))),
      },
      { name: 'db-connect.zip', bytes: await zip(under('db-connect', composeTask())) },
      { name: 'hello-world.zip', bytes: await zip(under('hello-world', dockerfileTask())) },
      { name: 'keys-only.zip', bytes: await zip(under('keys-only', solutionYamlTask())) },
      {
        name: 'c-locale.zip',
        // Info-ZIP under LANG=C: UTF-8 bytes, general-purpose bit 11 clear.
        bytes: rawZip(
          Object.entries(under('c-locale', tb2Task('c-locale'))).map(([name, data]) => ({ name: Buffer.from(name, 'utf8'), data: Buffer.from(data) })).concat([
            { name: Buffer.from('c-locale/tests/données/entrée.txt', 'utf8'), data: Buffer.from('é\n') },
          ]),
        ),
      },
    ]);
    for (const file of result.files) for (const t of file.tasks) if (t.task) ids[t.name] = t.task.id;
    expect(result.files.map((f: any) => f.tasks.map((t: any) => [t.name, t.status, t.errors.map((e: any) => e.code)]))).toEqual([
      [['notes-app', 'CREATED', []]],
      [['win-build', 'CREATED', []]],
      [['gpu-train', 'CREATED', []]],
      [['db-connect', 'CREATED', []]],
      [['hello-world', 'CREATED', []]],
      [['keys-only', 'REJECTED', ['tb1_not_convertible']]],
      [['c-locale', 'CREATED', []]],
    ]);
    const keys = result.files[5].tasks[0];
    expect(keys.errors[0]).toEqual({
      code: 'tb1_not_convertible',
      message:
        "Terminal-Bench 1 task cannot be converted automatically: solution.yaml (tmux keystrokes) cannot be converted automatically (Harbor's mapper refuses it too); write solution.sh",
      path: 'keys-only/solution.yaml',
    });
    expect(await api.database.db.task.count({ where: { name: 'keys-only' } })).toBe(0);
  });

  it('shows a multi-step task with its steps, timeouts, network policy and files', async () => {
    const task = await taskPage(ids['notes-app']!);
    expect(task).toMatchObject({ name: 'notes-app', instruction: '', multiStepRewardStrategy: 'mean', convertedFrom: null, originalUrl: null });
    expect(task.steps).toEqual([
      {
        name: '01-model',
        instruction: '# Model\n\nWrite a `Note` dataclass in notes.py.\n',
        instructionTruncated: false,
        agentTimeoutSec: 600,
        verifierTimeoutSec: 120,
        minReward: 1,
        tests: 'task',
        solution: 'step',
        files: ['instruction.md', 'solution/solve.sh', 'tests/test_model.py'],
        agentNetwork: { mode: 'no-network', allowedHosts: [] },
        verifierNetwork: null,
      },
      {
        name: '02-api',
        instruction: '# API\n\nServe the notes over HTTP on port 8000.\n',
        instructionTruncated: false,
        agentTimeoutSec: 900,
        verifierTimeoutSec: null,
        minReward: null,
        tests: 'task',
        solution: 'step',
        files: ['instruction.md', 'solution/solve.sh', 'tests/test_api.py'],
        agentNetwork: null,
        verifierNetwork: null,
      },
    ]);
    // Single-step tasks carry none.
    expect((await taskPage(ids['gpu-train']!)).steps).toBeNull();
  });

  it('shows Windows and GPU tasks as such, reading [environment] of the stored task.toml', async () => {
    const win = await taskPage(ids['win-build']!);
    expect(win).toMatchObject({ os: 'windows', gpus: 0, gpuTypes: null });
    expect(win.config.environment.os).toBe('windows');
    const gpu = await taskPage(ids['gpu-train']!);
    expect(gpu).toMatchObject({ os: 'linux', gpus: 2, gpuTypes: ['H100', 'A100'] });
    expect(gpu.config.environment).toMatchObject({ gpus: 2, gpu_types: ['H100', 'A100'] });
  });

  it('converts a compose-based TB1 task into a compose environment, marked and noted', async () => {
    const task = await taskPage(ids['db-connect']!);
    expect(task.convertedFrom).toBe('TB1');
    expect(task.originalUrl).toBe(`/tasks/${ids['db-connect']}/original.zip`);
    expect(task.conversionNotes).toContainEqual({
      kind: 'changed',
      message: 'docker-compose.yaml became environment/docker-compose.yaml (service "main" built by Harbor, other services kept)',
    });
    const row = await api.database.db.task.findUniqueOrThrow({ where: { id: ids['db-connect'] }, select: { contentHash: true } });
    const dir = path.join(api.tasksDir, row.contentHash, 'db-connect');
    const compose = parseYaml(await readFile(path.join(dir, 'environment/docker-compose.yaml'), 'utf8'));
    expect(Object.keys(compose.services)).toEqual(['main', 'db']);
    expect(compose.services.db.container_name).toBe('hb__db');
  });

  it('converts a Dockerfile-only TB1 task: FROM rewritten, WORKDIR /app, ENV TEST_DIR; hash of the converted files', async () => {
    const task = await taskPage(ids['hello-world']!);
    expect(task.instruction).toBe('Create a file called hello.txt in the current directory.\nWrite "Hello, world!" to it.\n');
    expect(task.conversionNotes).toContainEqual({
      kind: 'changed',
      message: 'Dockerfile: base image ghcr.io/laude-institute/t-bench/ubuntu-24-04:20250624 (TB1 harness) replaced by ubuntu:24.04, then WORKDIR /app as the old image set it',
    });
    const row = await api.database.db.task.findUniqueOrThrow({ where: { id: ids['hello-world'] }, select: { contentHash: true } });
    const dockerfile = await readFile(path.join(api.tasksDir, row.contentHash, 'hello-world', 'environment/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM ubuntu:24\.04\nWORKDIR \/app\n/);
    expect(dockerfile).toMatch(/\nENV TEST_DIR=\/tests\n$/);
    // Uploading the same TB1 zip again converts to the same bytes: a duplicate.
    const again = await upload([{ name: 'again.zip', bytes: await zip(under('hello-world', dockerfileTask())) }]);
    expect(again.files[0].tasks[0]).toMatchObject({ status: 'DUPLICATE', task: { id: ids['hello-world'], contentHash: row.contentHash } });
  });

  it('serves the original TB1 upload to signed-in callers only', async () => {
    const url = new URL(`/tasks/${ids['hello-world']}/original.zip`, api.url).toString();
    const anonymous = await anonymousFetch(url);
    expect(anonymous.status).toBe(401);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="hello-world-tb1-original.zip"');
    const entries = await unzip(Buffer.from(await response.arrayBuffer()));
    expect([...entries.keys()].sort()).toEqual(['Dockerfile', 'run-tests.sh', 'solution.sh', 'task.yaml', 'tests/test_outputs.py']);
    expect(entries.get('task.yaml')!.toString('utf8')).toBe(dockerfileTask()['task.yaml']);
    // A task stored as uploaded has no original to offer.
    expect((await fetch(new URL(`/tasks/${ids['gpu-train']}/original.zip`, api.url))).status).toBe(404);
    // Malformed or unknown ids: a clear 4xx, and the API answers on.
    for (const bad of ['not-a-uuid', '%E0%A4%A', '00000000-0000-0000-0000-000000000000', `${ids['hello-world']}%00`]) {
      const answer = await fetch(new URL(`/tasks/${bad}/original.zip`, api.url));
      expect(answer.status, bad).toBeGreaterThanOrEqual(400);
      expect(answer.status, bad).toBeLessThan(500);
    }
    expect((await fetch(url)).status).toBe(200);
  });

  it('reads UTF-8 names without the UTF-8 flag as UTF-8', async () => {
    const task = await taskPage(ids['c-locale']!);
    expect(task.files.map((f: any) => f.path)).toContain('tests/données/entrée.txt');
  });
});
