// The tasks pages against the real platform: three zips dropped at once upload with their own
// outcomes and land in the library without a reload; a repeat is a duplicate, broken packages are
// rejected with their reasons; search narrows the table; the task page renders the instruction and
// the file tree.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import yazl from 'yazl';
import { launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';
import { taskFiles, zipTask } from './support/tasks.js';

let platform: Platform;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  platform = await startPlatform();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

function zip(entries: Record<string, string>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, text] of Object.entries(entries)) z.addBuffer(Buffer.from(text), name);
  z.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    z.outputStream.on('error', reject);
  });
}

/** Drops files on the drop zone the way a browser does: a DataTransfer holding Files, then drop. */
async function drop(files: { name: string; bytes: Buffer }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, base64: f.bytes.toString('base64') }));
  const transfer = await page.evaluateHandle((items) => {
    const dt = new DataTransfer();
    for (const item of items) {
      const raw = atob(item.base64);
      const bytes = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
      dt.items.add(new File([bytes], item.name, { type: 'application/zip' }));
    }
    return dt;
  }, payload);
  const zone = page.locator('[data-dropzone]');
  await zone.dispatchEvent('dragenter', { dataTransfer: transfer });
  await zone.dispatchEvent('dragover', { dataTransfer: transfer });
  await zone.dispatchEvent('drop', { dataTransfer: transfer });
  await transfer.dispose();
}

function outcome(file: string, task: string) {
  return page.locator(`[data-upload="${file}"] [data-task-outcome="${task}"]`);
}

const NAMES = ['alpha-sort', 'beta-parser', 'gamma-server'];

test('three zips dropped at once are each created and appear in the library', async () => {
  await page.goto(`${platform.url}/tasks`);
  await page.locator('[data-task-table]').waitFor();
  await expect(page.locator('tr[data-task-row]').count()).resolves.toBe(0);

  await drop(await Promise.all(NAMES.map(async (name) => ({ name: `${name}.zip`, bytes: await zipTask(name) }))));
  for (const name of NAMES) {
    await page.locator(`[data-upload="${name}.zip"][data-state="done"]`).waitFor({ timeout: 30_000 });
    await expect(outcome(`${name}.zip`, name).getAttribute('data-status')).resolves.toBe('CREATED');
  }
  await expect(page.locator('[data-total="created"]').textContent()).resolves.toBe('3');
  // The library below fills in without a reload.
  await page.waitForFunction(() => document.querySelectorAll('tr[data-task-row]').length === 3);
  const rows = await page.locator('tr[data-task-row]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-task-row')));
  expect(rows.sort()).toEqual(NAMES);
  const row = await page.locator('tr[data-task-row="beta-parser"]').textContent();
  expect(row).toMatch(/software-engineering/);
  expect(row).toMatch(/easy/);
  expect(row).toMatch(/web/);
});

test('the same zip again is a duplicate; broken packages are rejected with their reasons', async () => {
  await drop([{ name: 'alpha-sort-again.zip', bytes: await zipTask('alpha-sort') }]);
  await page.locator('[data-upload="alpha-sort-again.zip"][data-state="done"]').waitFor({ timeout: 30_000 });
  await expect(outcome('alpha-sort-again.zip', 'alpha-sort').getAttribute('data-status')).resolves.toBe('DUPLICATE');

  const files = taskFiles('no-instruction');
  delete files['instruction.md'];
  const missing = await zip(Object.fromEntries(Object.entries(files).map(([p, t]) => [`no-instruction/${p}`, t])));
  await drop([
    { name: 'no-instruction.zip', bytes: missing },
    { name: 'not-a-zip.zip', bytes: Buffer.from('this is plain text, not a zip archive\n'.repeat(20)) },
  ]);
  await page.locator('[data-upload="no-instruction.zip"][data-state="done"]').waitFor({ timeout: 30_000 });
  const rejected = outcome('no-instruction.zip', 'no-instruction');
  await expect(rejected.getAttribute('data-status')).resolves.toBe('REJECTED');
  await expect(rejected.textContent()).resolves.toMatch(/instruction\.md/);
  await expect(rejected.locator('[data-problems="error"]').isVisible()).resolves.toBe(true);

  const broken = page.locator('[data-upload="not-a-zip.zip"]');
  await page.locator('[data-upload="not-a-zip.zip"][data-state="done"], [data-upload="not-a-zip.zip"][data-state="failed"]').waitFor({ timeout: 30_000 });
  await expect(broken.locator('[data-file-errors], [data-upload-error]').first().isVisible()).resolves.toBe(true);
  expect((await broken.textContent())!.length).toBeGreaterThan(40);

  await expect(page.locator('[data-total="duplicates"]').textContent()).resolves.toBe('1');
  await expect(page.locator('[data-total="rejected"]').textContent()).resolves.toBe('1');
  // Still three tasks: nothing rejected was stored.
  await expect(page.locator('tr[data-task-row]').count()).resolves.toBe(3);
  await screenshot(page, 'tasks');
});

test('search filters the table and is kept in the URL with links to a new job', async () => {
  await page.locator('[data-search]').fill('beta');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-task-row]').length === 1);
  await expect(page.locator('tr[data-task-row]').getAttribute('data-task-row')).resolves.toBe('beta-parser');
  await page.waitForURL(/\?search=beta/);
  await expect(page.locator('[data-new-job-filter]').getAttribute('href')).resolves.toBe('/jobs/new?search=beta');

  // The filtered view survives a reload, as a link would open it.
  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll('tr[data-task-row]').length === 1);
  await expect(page.locator('[data-search]').inputValue()).resolves.toBe('beta');

  await page.locator('tr[data-task-row="beta-parser"] input[type="checkbox"]').check();
  const id = (await page.locator('tr[data-task-row="beta-parser"] a').getAttribute('href'))!.split('/').pop();
  await expect(page.locator('[data-new-job-selected]').getAttribute('href')).resolves.toBe(`/jobs/new?tasks=${id}`);

  await page.locator('[data-search]').fill('');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-task-row]').length === 3);
});

test('the task page renders the instruction from Markdown and the file tree', async () => {
  await page.locator('tr[data-task-row="gamma-server"] a').click();
  await page.waitForURL(/\/tasks\/[^/]+$/);
  const instruction = page.locator('[data-instruction]');
  await instruction.locator('h1').waitFor();
  await expect(instruction.locator('h1').textContent()).resolves.toBe('gamma-server');
  await expect(instruction.locator('ul > li').count()).resolves.toBe(2);
  await expect(instruction.locator('strong').textContent()).resolves.toBe('gamma-server');

  const tree = page.locator('[data-file-tree]');
  await expect(tree.locator('[data-folder="tests"]').isVisible()).resolves.toBe(true);
  await expect(tree.locator('[data-file="tests/test.sh"]').isVisible()).resolves.toBe(true);
  await expect(tree.locator('[data-file="environment/Dockerfile"]').isVisible()).resolves.toBe(true);
  // Folders collapse.
  await tree.locator('[data-folder="tests"] > summary').click();
  await expect(tree.locator('[data-file="tests/test.sh"]').isVisible()).resolves.toBe(false);
  await tree.locator('[data-folder="tests"] > summary').click();

  const body = await page.locator('main').textContent();
  expect(body).toMatch(/Web Test/);
  expect(body).toMatch(/example\/gamma-server:1/);
  expect(body).toMatch(/gamma-server\.zip/);
  const id = page.url().split('/').pop();
  await expect(page.locator('[data-new-job-task]').getAttribute('href')).resolves.toBe(`/jobs/new?tasks=${id}`);
  await screenshot(page, 'task-uploaded');

  // Delete asks first, then returns to the library.
  await page.getByRole('button', { name: 'Delete task' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await page.waitForURL(/\/tasks$/);
  await page.waitForFunction(() => document.querySelectorAll('tr[data-task-row]').length === 2);
});

test('deleting a task that runs refer to is refused in words', async () => {
  const href = (await page.locator('tr[data-task-row="alpha-sort"] a').getAttribute('href'))!;
  const id = href.split('/').pop();
  const created = await platform.graphql(
    `mutation($input: CreateJobInput!) { createJob(input: $input) { __typename ... on Error { message } ... on MutationCreateJobSuccess { data { id } } } }`,
    { input: { agent: 'oracle', taskIds: [id], runsPerTask: 1 } },
  );
  expect(created.createJob.__typename).toBe('MutationCreateJobSuccess');
  await page.locator('tr[data-task-row="alpha-sort"] a').click();
  await page.locator('[data-instruction] h1').waitFor();
  await page.getByRole('button', { name: 'Delete task' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(page.locator('[data-delete-error]').textContent()).resolves.toMatch(/cannot be deleted: 1 run refers to it/);
  expect(page.url()).toMatch(new RegExp(`/tasks/${id}$`));
});

test('a zip over the server limit and a network failure are said in words', async () => {
  const small = await startPlatform({ UPLOAD_MAX_ZIP_MB: '0.001' });
  try {
    await page.goto(`${small.url}/tasks`);
    await page.locator('[data-task-table]').waitFor();
    await drop([{ name: 'big-task.zip', bytes: await zipTask('big-task') }]);
    const item = page.locator('[data-upload="big-task.zip"][data-state="failed"]');
    await item.waitFor({ timeout: 30_000 });
    await expect(item.locator('[data-upload-error]').textContent()).resolves.toMatch(
      /big-task\.zip is too large for the server: 1\.\d KB, over its limit of 1\.0 KB per zip/,
    );

    await page.route('**/graphql', (route) => (route.request().method() === 'POST' ? route.abort('connectionfailed') : route.fallback()));
    await drop([{ name: 'offline-task.zip', bytes: Buffer.from('PK') }]);
    const cut = page.locator('[data-upload="offline-task.zip"][data-state="failed"] [data-upload-error]');
    await cut.waitFor({ timeout: 30_000 });
    await expect(cut.textContent()).resolves.toMatch(/could not be reached/);
    await page.unroute('**/graphql');
  } finally {
    await small.stop();
  }
});
