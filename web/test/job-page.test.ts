// A job page that scales (issue 17 item 7), in Chromium against the real platform: a finished job of
// 89 tasks × 5 repeats (seeded through SQL: the simulator would take minutes for 445 trials) shows
// its matrix full width with only the rows in sight in the DOM; tabs, rename, notes and tags; a
// simulated running job shows its pace; the jobs list filters and archives in bulk.
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';
import { uploadTasks } from './support/upload.js';

let platform: Platform;
let browser: Browser;
let page: Page;
let bigJob: string;

const TASKS = 89;
const REPEATS = 5;

async function sql<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: platform.databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A stopped job over `tasks` task rows, its runs' outcomes by (task, repeat), its counters to match. */
async function seedJob(name: string, opts: { tasks: number; repeats: number; agent?: string; model?: string; tags?: string[]; status?: string }): Promise<string> {
  const [job] = await sql<{ id: string }>(
    `INSERT INTO "Job" (id, name, agent, model, "runsPerTask", status, tags, "createdAt", "startedAt", "finishedAt")
     VALUES (gen_random_uuid(), $1, $2, $3, $4, $5::"JobStatus", $6, now() - interval '1 hour', now() - interval '1 hour', now()) RETURNING id::text`,
    [name, opts.agent ?? 'terminus-2', opts.model ?? 'openrouter/anthropic/claude-sonnet-4', opts.repeats, opts.status ?? 'COMPLETED', opts.tags ?? []],
  );
  // Tasks of their own (content hashes from the job id), named task-001 …; mostly passed, some failed or errored.
  await sql(
    `WITH t AS (
       INSERT INTO "Task" (id, "contentHash", name, instruction, "sizeBytes", "fileCount")
       SELECT gen_random_uuid(), md5($1 || i) || md5(i || $1), 'task-' || lpad(i::text, 3, '0'), 'Seeded task ' || i, 1, 1
         FROM generate_series(1, $2::int) i
       RETURNING id, name)
     INSERT INTO "Run" (id, "jobId", "taskId", repeat, status, reward, "startedAt", "finishedAt")
     SELECT gen_random_uuid(), $1::uuid, t.id, r,
            s::"RunStatus", CASE s WHEN 'PASSED' THEN 1 WHEN 'FAILED' THEN 0 END,
            now() - interval '50 minutes', now() - interval '40 minutes'
       FROM t CROSS JOIN generate_series(1, $3::int) r,
            -- About a quarter of the tasks fail twice, a few runs error, the rest pass.
            LATERAL (SELECT CASE WHEN (substr(t.name, 6)::int * 7 + r * 3) % 23 = 0 THEN 'ERRORED'
                                 WHEN substr(t.name, 6)::int % 4 = 0 AND r <= 2 THEN 'FAILED' ELSE 'PASSED' END AS s) o`,
    [job!.id, opts.tasks, opts.repeats],
  );
  await sql(
    `UPDATE "Job" j SET "runsTotal" = c.total, "runsPassed" = c.passed, "runsFailed" = c.failed, "runsErrored" = c.errored
       FROM (SELECT count(*)::int total, count(*) FILTER (WHERE status = 'PASSED')::int passed,
                    count(*) FILTER (WHERE status = 'FAILED')::int failed, count(*) FILTER (WHERE status = 'ERRORED')::int errored
               FROM "Run" WHERE "jobId" = $1::uuid) c
      WHERE j.id = $1::uuid`,
    [job!.id],
  );
  return job!.id;
}

beforeAll(async () => {
  platform = await startPlatform();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  bigJob = await seedJob('tb2 sweep · sonnet', { tasks: TASKS, repeats: REPEATS, tags: ['tb2'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

const rowsInDom = () => page.locator('[data-task-row]').count();

test('89 tasks × 5 repeats: the matrix is the page, full width, with only the visible rows in the DOM', async () => {
  await page.goto(`${platform.url}/jobs/${bigJob}`);
  await page.locator('[data-task-row="task-001"]').waitFor();
  expect(await page.getByTestId('matrix-count').textContent()).toBe(`${TASKS} tasks × ${REPEATS} repeats`);

  const sizes = await page.evaluate(() => {
    const main = document.querySelector('main')!;
    const style = getComputedStyle(main);
    return {
      content: main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
      matrix: document.querySelector('.matrix')!.getBoundingClientRect().width,
      page: document.documentElement.scrollHeight,
    };
  });
  expect(sizes.matrix).toBeGreaterThanOrEqual(0.9 * sizes.content);
  // It was 7,860 px tall; now the matrix scrolls inside a bounded box.
  expect(sizes.page).toBeLessThan(1_800);
  const drawn = await rowsInDom();
  expect(drawn).toBeGreaterThan(10);
  expect(drawn).toBeLessThan(40);
  // A row holds its five counted attempts and the task's tally.
  const first = page.locator('[data-task-row="task-001"]');
  expect(await first.locator('a.chip').count()).toBe(REPEATS);
  await screenshot(page, 'job');

  // Scrolling the matrix brings the last tasks in, and the first ones leave the DOM.
  const viewport = page.getByTestId('matrix-viewport');
  await viewport.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await page.locator('[data-task-row="task-089"]').waitFor();
  expect(await page.locator('[data-task-row="task-001"]').count()).toBe(0);
  expect(await rowsInDom()).toBeLessThan(40);
  const lastRow = page.locator('[data-task-row="task-089"] a.chip').first();
  expect(await lastRow.isVisible()).toBe(true);

  // Filters narrow the rows: by name, and to the tasks that went wrong.
  await page.getByLabel('Filter tasks by name').fill('task-05');
  await expect.poll(() => page.getByTestId('matrix-count').textContent()).toBe(`10 of ${TASKS} tasks × ${REPEATS} repeats`);
  expect(await rowsInDom()).toBe(10);
  await page.getByLabel('Filter tasks by name').fill('');
  await page.getByLabel('Show', { exact: true }).selectOption('problems');
  const problems = Number((await page.getByTestId('matrix-count').textContent())!.split(' ')[0]);
  expect(problems).toBeGreaterThan(0);
  expect(problems).toBeLessThan(TASKS);
  await page.getByLabel('Show', { exact: true }).selectOption('all');
});

test('the per-task table, the errors and the run list are tabs kept in the URL', async () => {
  await page.getByRole('tab', { name: /^Per task/ }).click();
  await page.waitForURL(/\?tab=tasks$/);
  await page.locator('tr[data-task="task-089"]').waitFor();
  expect(await page.locator('tr[data-task]').count()).toBe(TASKS);
  expect(await page.locator('[data-task-row]').count()).toBe(0);

  await page.getByRole('tab', { name: /^Runs/ }).click();
  await page.waitForURL(/\?tab=runs$/);
  await page.locator('tr[data-run]').first().waitFor();

  // Arrow keys move between tabs; a reload keeps the tab.
  await page.getByRole('tab', { name: /^Runs/ }).press('ArrowLeft');
  await page.waitForURL(/\?tab=errors$/);
  await page.reload();
  expect(await page.getByRole('tab', { selected: true }).textContent()).toMatch(/^Errors & timings/);
  await page.getByRole('heading', { name: 'Errors' }).waitFor();

  await page.getByRole('tab', { name: /^Matrix/ }).click();
  await page.waitForURL(`${platform.url}/jobs/${bigJob}`);
  await page.locator('[data-task-row="task-001"]').waitFor();
});

test('rename the job, write notes and tags; a taken name is refused in the dialog', async () => {
  await page.getByRole('button', { name: 'Edit…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Edit job' });
  await dialog.getByLabel('Name').fill('TB2 sweep, Sonnet 4');
  await dialog.getByLabel('Notes').fill('First full pass.\nInfra errors on three tasks: retry later.');
  await dialog.getByLabel('Tags').fill('tb2, Baseline sonnet');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect.poll(() => page.getByTestId('job-name').textContent()).toBe('TB2 sweep, Sonnet 4');
  expect(await page.getByTestId('job-notes').textContent()).toBe('First full pass.\nInfra errors on three tasks: retry later.');
  expect(await page.locator('[data-testid="job-about"] a.tag').allTextContents()).toEqual(['tb2', 'baseline', 'sonnet']);

  const other = await seedJob('Already taken', { tasks: 1, repeats: 1, agent: 'oracle', model: '' });
  expect(other).toBeTruthy();
  await page.getByRole('button', { name: 'Edit…' }).click();
  await dialog.getByLabel('Name').fill('already TAKEN');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.getByText('a job named "already TAKEN" already exists (names are unique regardless of case): choose another name').waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  expect(await page.getByTestId('job-name').textContent()).toBe('TB2 sweep, Sonnet 4');
});

test('a running job shows its throughput, slots in use and ETA, live', async () => {
  const ids = await uploadTasks(platform.url, [{ name: 'pace-task', sim: { HARBOR_SIM_PHASE_MS: '700' } }]);
  const launched = await platform.graphql(
    `mutation ($input: CreateJobInput!) { createJob(input: $input) { ... on MutationCreateJobSuccess { data { id } } } }`,
    { input: { agent: 'oracle', taskIds: [ids['pace-task']], runsPerTask: 9, name: 'pace' } },
  );
  const jobId = launched.createJob.data.id as string;
  await page.goto(`${platform.url}/jobs/${jobId}`);
  // Three runner slots: the job holds some while its first wave runs.
  await expect.poll(async () => Number(await page.getByTestId('slots').locator('.value').textContent()), { timeout: 60_000, interval: 250 }).toBeGreaterThan(0);
  // Once a wave has finished the pace is real and the ETA rests on it.
  await expect.poll(async () => (await page.getByTestId('pace').count()) && (await page.getByTestId('eta').textContent()), { timeout: 60_000, interval: 250 }).toMatch(
    /ETA · \d+ to go · \d+ runs left at \d+\.\d a minute/,
  );
  expect(await page.getByTestId('throughput').textContent()).toMatch(/^\s*\d+\.\d\s*\/ min\s*runs finished per minute · last \d\.\d min \(\d+\)\s*$/);
  // A finished job has no pace.
  await page.locator('h1 [data-status="COMPLETED"]').waitFor({ timeout: 90_000 });
  await expect.poll(() => page.getByTestId('pace').count()).toBe(0);
});

test('the jobs list filters by agent, tag and archived (in the URL), and archives stopped jobs in bulk', async () => {
  await seedJob('codex baseline', { tasks: 2, repeats: 1, agent: 'codex', model: 'openai/gpt-5', tags: ['baseline'] });
  const running = await seedJob('still running', { tasks: 1, repeats: 1, agent: 'codex', model: 'openai/gpt-5', status: 'RUNNING' });
  await page.goto(`${platform.url}/jobs`);
  await page.locator('tr[data-job]').nth(3).waitFor();
  await screenshot(page, 'jobs');

  await page.locator('select[name=agent]').selectOption('codex');
  await page.waitForURL(/agent=codex/);
  await expect.poll(() => page.locator('tr[data-job]').count()).toBe(2);
  await page.locator('input[name=tag]').fill('baseline');
  await page.locator('input[name=tag]').press('Enter');
  await page.waitForURL(/tag=baseline/);
  await expect.poll(() => page.locator('tr[data-job] a[href^="/jobs/"]').allTextContents()).toEqual(['codex baseline']);
  // The filters come back from the URL.
  await page.reload();
  expect(await page.locator('select[name=agent]').inputValue()).toBe('codex');
  await expect.poll(() => page.locator('tr[data-job] a[href^="/jobs/"]').allTextContents()).toEqual(['codex baseline']);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect.poll(() => page.locator('tr[data-job]').count()).toBe(5);

  // A running job in the selection: refused by name, nothing archived.
  await page.getByRole('checkbox', { name: 'Select still running' }).check();
  await page.getByRole('checkbox', { name: 'Select codex baseline' }).check();
  await page.getByRole('button', { name: 'Archive (2)', exact: true }).click();
  await page.getByRole('dialog', { name: 'Archive (2)' }).getByRole('button', { name: 'Archive' }).click();
  await page.getByText('this job has not stopped: "still running"').waitFor();
  expect(await page.locator('tr[data-job]').count()).toBe(5);

  await page.getByRole('checkbox', { name: 'Select still running' }).uncheck();
  await page.getByRole('checkbox', { name: 'Select Already taken' }).check();
  await page.getByRole('button', { name: 'Archive (2)', exact: true }).click();
  await page.getByRole('dialog', { name: 'Archive (2)' }).getByRole('button', { name: 'Archive' }).click();
  await page.getByText('2 jobs archived.').waitFor();
  await expect.poll(() => page.locator('tr[data-job]').count()).toBe(3);
  await page.locator('select[name=archived]').selectOption('archived');
  await page.waitForURL(/archived=archived/);
  await expect.poll(() => page.locator('tr[data-job] a[href^="/jobs/"]').allTextContents()).toEqual(['codex baseline', 'Already taken']);
  expect(await page.locator('tr[data-job] .badge').first().textContent()).toBe('archived');
  const { job } = await platform.graphql(`query($id: ID!) { job(id: $id) { status archivedAt } }`, { id: running });
  expect(job).toEqual({ status: 'RUNNING', archivedAt: null });
});
