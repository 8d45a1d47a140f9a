// The datasets pages against the real platform: the list and its search, a dataset made from a
// library filter in the browser, the dataset page (versions, tasks linking to their pages, jobs on the
// version, links to its leaderboard and heatmap), and "New job on this dataset" launching on it.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';
import { taskFiles } from './support/tasks.js';
import { uploadTasks } from './support/upload.js';

let platform: Platform;
let browser: Browser;
let page: Page;
let ids: Record<string, string>;
let importRoot: string;

const CREATE = `mutation($input: CreateDatasetInput!) { createDataset(input: $input) {
  __typename ... on MutationCreateDatasetSuccess { data { id dataset { id } } } ... on Error { message } } }`;
const NEW_VERSION = `mutation($input: CreateDatasetVersionInput!) { createDatasetVersion(input: $input) {
  __typename ... on MutationCreateDatasetVersionSuccess { data { id } } ... on Error { message } } }`;

beforeAll(async () => {
  importRoot = await mkdtemp(path.join(os.tmpdir(), 'thr-web-import-'));
  platform = await startPlatform({ DATASET_IMPORT_ROOT: importRoot });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  ids = await uploadTasks(platform.url, [
    { name: 'fix-git', sim: { HARBOR_SIM_SCENARIO: 'pass' } },
    { name: 'regex-log', sim: { HARBOR_SIM_SCENARIO: 'pass' } },
    { name: 'hello-world', sim: { HARBOR_SIM_SCENARIO: 'pass' } },
  ]);
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await rm(importRoot, { recursive: true, force: true });
});

let datasetId: string;
let firstVersion: string;
let secondVersion: string;

test('the list explains an empty state, then shows datasets and narrows them by search', async () => {
  await page.goto(`${platform.url}/datasets`);
  await page.locator('[data-dataset-table] .empty').waitFor();
  await expect(page.locator('[data-dataset-table] .empty').textContent()).resolves.toMatch(/No datasets yet\. Make one below/);
  await expect(page.locator('header nav a[aria-current="page"]').textContent()).resolves.toBe('Datasets');

  const made = (await platform.graphql(CREATE, { input: { name: 'terminal-bench', version: '2.0', description: 'The sample', taskIds: [ids['fix-git'], ids['regex-log']] } }))
    .createDataset;
  expect(made.__typename).toBe('MutationCreateDatasetSuccess');
  datasetId = made.data.dataset.id;
  firstVersion = made.data.id;
  const next = (await platform.graphql(NEW_VERSION, { input: { datasetId, version: '2.1', fromVersionId: firstVersion, addTaskIds: [ids['hello-world']] } }))
    .createDatasetVersion;
  secondVersion = next.data.id;
  await platform.graphql(CREATE, { input: { name: 'smoke', version: '1', taskIds: [ids['hello-world']] } });

  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll('tr[data-dataset-row]').length === 2);
  const row = await page.locator('tr[data-dataset-row="terminal-bench"]').textContent();
  expect(row).toContain('2.1');
  expect(row).toContain('The sample');
  await page.locator('[data-dataset-search]').fill('smo');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-dataset-row]').length === 1);
  await expect(page.locator('tr[data-dataset-row]').getAttribute('data-dataset-row')).resolves.toBe('smoke');
});

test('a dataset is made in the browser from a library filter and opens on its page', async () => {
  await page.goto(`${platform.url}/datasets`);
  const form = page.locator('[data-create-dataset]');
  await form.locator('[data-field="name"]').fill('regex-only');
  await form.locator('[data-field="version"]').fill('1');
  await form.getByLabel('Search').fill('regex');
  await page.waitForFunction(() => document.querySelector('[data-testid="dataset-task-count"]')?.textContent === '1 task');
  await form.getByRole('button', { name: 'Make dataset' }).click();
  await page.waitForURL(/\/datasets\/[0-9a-f-]{36}\?version=/);
  await expect(page.locator('[data-testid="dataset-label"]').textContent()).resolves.toBe('regex-only@1');
  await page.locator('tr[data-dataset-task="regex-log"]').waitFor();

  // A taken name is refused with the API's words.
  await page.goto(`${platform.url}/datasets`);
  await form.locator('[data-field="name"]').fill('Terminal-Bench');
  await form.locator('[data-field="version"]').fill('9');
  await page.waitForFunction(() => /\d+ tasks?/.test(document.querySelector('[data-testid="dataset-task-count"]')?.textContent ?? ''));
  await form.getByRole('button', { name: 'Make dataset' }).click();
  await expect(page.locator('[data-create-dataset] [role="alert"]').textContent()).resolves.toMatch(/a dataset named terminal-bench exists already/);
});

test('tasks picked on the tasks page (or stored by an upload) become a dataset from the link they carry', async () => {
  await page.goto(`${platform.url}/datasets?tasks=${ids['fix-git']},${ids['hello-world']}#new`);
  await page.waitForFunction(() => document.querySelector('[data-testid="dataset-task-count"]')?.textContent === '2 tasks');
  const form = page.locator('[data-create-dataset]');
  await expect(form.getByLabel('Tasks picked on the tasks page (2)').isChecked()).resolves.toBe(true);
  await form.locator('[data-field="name"]').fill('picked');
  await form.getByRole('button', { name: 'Make dataset' }).click();
  await page.waitForURL(/\/datasets\/[0-9a-f-]{36}\?version=/);
  await expect(page.locator('[data-testid="dataset-label"]').textContent()).resolves.toBe('picked@1.0');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-dataset-task]').length === 2);
});

test('the dataset page shows versions, tasks linking to their pages, its jobs and the leaderboard links', async () => {
  const launched = await platform.graphql(
    `mutation($input: CreateJobInput!) { createJob(input: $input) { __typename ... on MutationCreateJobSuccess { data { id } } ... on Error { message } } }`,
    { input: { datasetVersionId: firstVersion, agent: 'oracle', runsPerTask: 1, name: 'oracle on 2.0' } },
  );
  expect(launched.createJob.__typename).toBe('MutationCreateJobSuccess');

  await page.goto(`${platform.url}/datasets/${datasetId}`);
  // The latest version first.
  await expect(page.locator('[data-testid="dataset-label"]').textContent()).resolves.toBe('terminal-bench@2.1');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-dataset-task]').length === 3);
  await expect(page.locator('[data-testid="no-jobs"]').textContent()).resolves.toMatch(/No job was launched on this version yet/);
  await expect(page.locator('[data-link="leaderboard"]').getAttribute('href')).resolves.toBe(`/datasets/${datasetId}/leaderboard?version=${secondVersion}`);

  await page.locator('[data-version-select]').selectOption(firstVersion);
  await page.waitForURL(`${platform.url}/datasets/${datasetId}?version=${firstVersion}`);
  await page.waitForFunction(() => document.querySelectorAll('tr[data-dataset-task]').length === 2);
  await page.locator('[data-dataset-jobs] a', { hasText: 'oracle on 2.0' }).waitFor();
  await expect(page.locator('[data-link="heatmap"]').getAttribute('href')).resolves.toBe(`/datasets/${datasetId}/heatmap?version=${firstVersion}`);
  await expect(page.locator('tr[data-dataset-task="fix-git"] a').getAttribute('href')).resolves.toBe(`/tasks/${ids['fix-git']}`);
  await screenshot(page, 'dataset');

  await page.locator('tr[data-dataset-task="fix-git"] a').click();
  await page.waitForURL(`${platform.url}/tasks/${ids['fix-git']}`);
});

test('"New job on this dataset" preselects the version and launches a job on it', async () => {
  await page.goto(`${platform.url}/datasets/${datasetId}?version=${secondVersion}`);
  await page.locator('[data-link="new-job"]').click();
  await page.waitForURL(`${platform.url}/jobs/new?dataset=${secondVersion}`);
  await page.waitForFunction(() => document.querySelector('[data-testid="task-count"]')?.textContent === '3 tasks');
  await expect(page.locator('[data-dataset-picker]').inputValue()).resolves.toBe(secondVersion);
  await page.locator('select[name="agent"]').selectOption('oracle');
  await page.getByRole('button', { name: 'Launch job' }).click();
  await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
  const jobId = page.url().split('/').pop();
  const job = (await platform.graphql(`query($id: ID!) { job(id: $id) { runsTotal datasetVersion { label } } }`, { id: jobId })).job;
  expect(job).toEqual({ runsTotal: 3, datasetVersion: { label: 'terminal-bench@2.1' } });
});

test('an ADMIN imports a folder of task folders from the server; refused folders are listed and nothing is stored', async () => {
  const write = async (dir: string, files: Record<string, string>) => {
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), text);
    }
  };
  const checkout = path.join(importRoot, 'terminal-bench-2');
  await write(path.join(checkout, 'fix-git'), taskFiles('fix-git', { HARBOR_SIM_SCENARIO: 'pass' }));
  const broken = taskFiles('build-cython');
  delete broken['tests/test.sh'];
  await write(path.join(checkout, 'build-cython'), broken);

  await page.goto(`${platform.url}/datasets`);
  const panel = page.locator('[data-import-panel]');
  await panel.locator('summary').click();
  await panel.locator('[data-field="import-path"]').fill('terminal-bench-2');
  await panel.locator('[data-field="import-name"]').fill('tb2');
  await panel.locator('[data-field="import-version"]').fill('2.0');
  await panel.getByRole('button', { name: 'Import' }).click();
  const error = panel.locator('[data-import-error]');
  await error.waitFor();
  await expect(error.textContent()).resolves.toMatch(/1 of 2 task folders could not be imported, so nothing was stored/);
  await expect(error.locator('li').textContent()).resolves.toMatch(/terminal-bench-2\/build-cython\/tests\/test\.sh: .*\(missing_required_file\)/);

  await rm(path.join(checkout, 'build-cython'), { recursive: true });
  await panel.getByRole('button', { name: 'Import' }).click();
  await page.waitForURL(/\/datasets\/[0-9a-f-]{36}\?version=/);
  await expect(page.locator('[data-testid="dataset-label"]').textContent()).resolves.toBe('tb2@2.0');
  // The folder's fix-git has the uploaded content: the same task, so its runs and page are shared.
  await expect(page.locator('tr[data-dataset-task="fix-git"] a').getAttribute('href')).resolves.toBe(`/tasks/${ids['fix-git']}`);
});
