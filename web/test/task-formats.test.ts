// The task page for task formats beyond the plain TB2 task, against the real platform: a multi-step
// task shows its steps in order (instruction, timeouts, network policy, files), Windows and GPU
// tasks carry badges, and a converted TB1 task says what changed and offers its original upload.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import yazl from 'yazl';
import { launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';
import { taskFiles } from './support/tasks.js';

let platform: Platform;
let browser: Browser;
let page: Page;
let ids: Record<string, string>;

function zip(entries: Record<string, string>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, text] of Object.entries(entries)) z.addBuffer(Buffer.from(text), name, { mode: name.endsWith('.sh') ? 0o100755 : 0o100644 });
  z.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    z.outputStream.on('error', reject);
  });
}

const under = (folder: string, files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([p, v]) => [`${folder}/${p}`, v]));

const MULTI_STEP = {
  'task.toml': [
    'schema_version = "1.4"',
    'multi_step_reward_strategy = "final"',
    '[environment]',
    'docker_image = "example/notes-app:1"',
    '[[steps]]',
    'name = "01-model"',
    'min_reward = 1.0',
    '[steps.agent]',
    'timeout_sec = 600.0',
    'network_mode = "no-network"',
    '[[steps]]',
    'name = "02-api"',
    '[steps.agent]',
    'allowed_hosts = ["pypi.org"]',
    '',
  ].join('\n'),
  'environment/Dockerfile': 'FROM python:3.13-slim-bookworm\nWORKDIR /app\n',
  'tests/test.sh': '#!/bin/bash\npytest /tests && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
  'steps/01-model/instruction.md': '# Model\n\nWrite a **Note** dataclass in `notes.py`.\n',
  'steps/01-model/solution/solve.sh': '#!/bin/bash\necho "class Note: pass" > notes.py\n',
  'steps/02-api/instruction.md': '# API\n\nServe the notes over HTTP.\n',
  'steps/02-api/tests/test.sh': '#!/bin/bash\ncurl -sf localhost:8000/notes && echo 1 > /logs/verifier/reward.txt\n',
};

const TB1 = {
  'task.yaml': 'instruction: |-\n  Create hello.txt containing "Hello, world!".\nauthor_name: Web Test\ndifficulty: easy\ncategory: file-operations\nmax_agent_timeout_sec: 360.0\nmax_test_timeout_sec: 60.0\n',
  Dockerfile: 'FROM ghcr.io/laude-institute/t-bench/ubuntu-24-04:20250624\nRUN apt-get update\n',
  'run-tests.sh': '#!/bin/bash\npytest $TEST_DIR/test_outputs.py -rA\n',
  'solution.sh': '#!/bin/bash\necho "Hello, world!" > hello.txt\n',
  'tests/test_outputs.py': 'def test_hello():\n    assert open("/app/hello.txt").read().strip() == "Hello, world!"\n',
};

beforeAll(async () => {
  platform = await startPlatform();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  const gpu = taskFiles('gpu-train');
  gpu['task.toml'] = gpu['task.toml']!.replace('[environment]\n', '[environment]\ngpus = 2\ngpu_types = ["H100"]\n');
  const win = taskFiles('win-build');
  win['task.toml'] = win['task.toml']!.replace('[environment]\n', '[environment]\nos = "windows"\n');
  delete win['tests/test.sh'];
  win['tests/test.bat'] = '@echo off\r\npytest C:\\tests\r\n';
  const zips = {
    'notes-app': await zip(under('notes-app', MULTI_STEP)),
    'gpu-train': await zip(under('gpu-train', gpu)),
    'win-build': await zip(under('win-build', win)),
    'hello-world': await zip(under('hello-world', TB1)),
  };
  const form = new FormData();
  const names = Object.keys(zips) as (keyof typeof zips)[];
  form.set(
    'operations',
    JSON.stringify({
      query: `mutation ($files: [Upload!]!) { uploadTasks(files: $files) { __typename ... on MutationUploadTasksSuccess { data { files { tasks { name status task { id } errors { message } } } } } } }`,
      variables: { files: names.map(() => null) },
    }),
  );
  form.set('map', JSON.stringify(Object.fromEntries(names.map((_, i) => [String(i), [`variables.files.${i}`]]))));
  names.forEach((name, i) => form.set(String(i), new Blob([new Uint8Array(zips[name])]), `${name}.zip`));
  const response = await fetch(`${platform.url}/graphql`, { method: 'POST', body: form, headers: { 'graphql-require-preflight': '1' } });
  const body = (await response.json()) as any;
  ids = {};
  for (const file of body.data.uploadTasks.data.files) {
    for (const t of file.tasks) {
      if (!t.task) throw new Error(`upload of ${t.name} failed: ${JSON.stringify(t.errors)}`);
      ids[t.name] = t.task.id;
    }
  }
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

test('a multi-step task shows its steps in order with their overrides', async () => {
  await page.goto(`${platform.url}/tasks/${ids['notes-app']}`);
  await page.locator('[data-steps]').waitFor();
  await expect(page.locator('[data-badge="steps"]').textContent()).resolves.toBe('2 steps');
  await expect(page.locator('[data-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')))).resolves.toEqual(['01-model', '02-api']);
  const first = page.locator('[data-step="01-model"]');
  await expect(first.locator('strong').textContent()).resolves.toBe('Note');
  await expect(first.locator('[data-step-agent-timeout]').textContent()).resolves.toBe('10 min');
  await expect(first.locator('[data-step-agent-network]').textContent()).resolves.toBe('none');
  await expect(first.textContent()).resolves.toMatch(/Stops the trial unless\s*reward ≥ 1/);
  const second = page.locator('[data-step="02-api"]');
  await expect(second.locator('[data-step-agent-network]').textContent()).resolves.toBe('only pypi.org');
  await expect(second.textContent()).resolves.toMatch(/its own tests\//);
  await expect(page.locator('[data-step-strategy]').textContent()).resolves.toMatch(/the last step's/);
  // No task-level instruction: the agent reads only the steps'.
  await expect(page.locator('[data-instruction]').count()).resolves.toBe(0);
  await screenshot(page, 'task-multi-step');
});

test('Windows and GPU tasks carry badges and say what they need', async () => {
  await page.goto(`${platform.url}/tasks/${ids['gpu-train']}`);
  await page.locator('[data-badge="gpu"]').waitFor();
  await expect(page.locator('[data-badge="gpu"]').textContent()).resolves.toBe('2 GPUs (H100)');
  await expect(page.locator('[data-gpus]').textContent()).resolves.toBe('2 (H100)');
  await page.goto(`${platform.url}/tasks/${ids['win-build']}`);
  await page.locator('[data-badge="windows"]').waitFor();
  await expect(page.locator('[data-os]').textContent()).resolves.toBe('Windows');
});

test('a converted TB1 task says what changed and offers the original upload', async () => {
  await page.goto(`${platform.url}/tasks/${ids['hello-world']}`);
  await page.locator('[data-conversion]').waitFor();
  await expect(page.locator('[data-badge="converted"]').textContent()).resolves.toBe('converted from TB1');
  const notes = await page.locator('[data-conversion] [data-note]').allTextContents();
  expect(notes.some((n) => n.includes('replaced by ubuntu:24.04'))).toBe(true);
  const download = page.locator('[data-original-download]');
  await expect(download.getAttribute('href')).resolves.toBe(`/tasks/${ids['hello-world']}/original.zip`);
  const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
  expect(file.suggestedFilename()).toBe('hello-world-tb1-original.zip');
  await screenshot(page, 'task-converted-tb1');
});
