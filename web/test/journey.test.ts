// A person's path through the app against the real platform and the Harbor simulator: launch a job
// of 3 tasks × 3 runs from the New job page, watch the matrix fill live, follow a run's log while it
// runs, download the log, retry the errored runs, retry the failed ones (extra attempts, best of 2),
// and cancel a second job.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';
import { uploadTasks } from './support/upload.js';

let platform: Platform;
let browser: Browser;
let page: Page;
let ids: Record<string, string>;

beforeAll(async () => {
  platform = await startPlatform({ HARBOR_SIM_PHASE_MS: '700', HARBOR_SIM_LOG_LINES: '40' });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  ids = await uploadTasks(platform.url, [
    { name: 'alpha-pass' },
    { name: 'beta-fail', sim: { HARBOR_SIM_SCENARIO: 'fail' } },
    { name: 'gamma-infra', sim: { HARBOR_SIM_SCENARIO: 'infra-error' } },
    { name: 'delta-hang', sim: { HARBOR_SIM_SCENARIO: 'hang' } },
  ]);
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

const cells = (status?: string) => page.locator(status ? `.matrix a.chip[data-status="${status}"]` : '.matrix a.chip');

test('launch 3 × 3 from the New job page and watch the matrix fill live', async () => {
  const picked = [ids['alpha-pass'], ids['beta-fail'], ids['gamma-infra']].join(',');
  await page.goto(`${platform.url}/jobs/new?tasks=${picked}`);
  await page.locator('[data-connection="live"]').waitFor();
  await page.locator('select[name=agent]').selectOption('oracle');
  await page.locator('input[name=runsPerTask]').fill('3');
  await page.locator('input[name=name]').fill('journey 3x3');
  await expect.poll(() => page.getByTestId('trial-count').textContent(), { timeout: 10_000 }).toContain('This starts 9 trials (3 tasks × 3 runs)');
  await screenshot(page, 'new-job');
  await page.getByRole('button', { name: 'Launch job' }).click();
  await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);

  // Three slots: the first wave shows running cells before anything finished.
  await cells('RUNNING').first().waitFor({ timeout: 30_000 });
  expect(await cells().count()).toBe(9);
  await screenshot(page, 'job-running');

  // Open a running run: its log lines arrive while it runs.
  const running = await cells('RUNNING').first().getAttribute('href');
  const jobUrl = page.url();
  await page.goto(`${platform.url}${running}`);
  await page.getByText(/sim-agent \S+ line 1\b/).first().waitFor({ timeout: 30_000 });
  await screenshot(page, 'run-live');

  const logUrl = await page.getByRole('link', { name: /download log/i }).first().getAttribute('href');
  await page.goto(jobUrl);
  await expect.poll(async () => (await cells('PASSED').count()) + (await cells('FAILED').count()) + (await cells('ERRORED').count()), {
    timeout: 90_000,
    interval: 500,
  }).toBe(9);
  expect(await cells('PASSED').count()).toBe(3);
  expect(await cells('FAILED').count()).toBe(3);
  expect(await cells('ERRORED').count()).toBe(3);
  await expect.poll(() => page.getByTestId('pass-rate').textContent(), { timeout: 10_000 }).toMatch(/^50%/);
  // The verifier's failing test is named on the task's row (the Per task tab) and links to a run's Tests tab.
  await page.getByRole('tab', { name: /^Per task/ }).click();
  const failing = page.locator('tr[data-task="beta-fail"] a[href*="?tab=tests"]');
  await failing.waitFor({ timeout: 10_000 });
  expect(await failing.textContent()).toMatch(/^test_/);
  expect(await page.locator('tr[data-task="alpha-pass"] a[href*="?tab=tests"]').count()).toBe(0);
  await page.locator('#failing-tests').waitFor();
  await screenshot(page, 'job-tasks');
  await page.goto(`${platform.url}/tasks/${ids['beta-fail']}`);
  await page.locator('[data-failing-tests] a[href*="?tab=tests"]').first().waitFor();
  expect(await page.locator('[data-failing-tests]').textContent()).toMatch(/3 of 3/);
  await page.goto(jobUrl);
  await cells('ERRORED').first().waitFor();

  const log = await page.request.get(`${platform.url}${logUrl}`);
  expect(log.status()).toBe(200);
  expect(await log.text()).toMatch(/sim-agent \S+ line 40/);
});

test('retry the errored runs: new attempts replace them in the matrix', async () => {
  await page.getByRole('button', { name: /Retry errored \(3\)/ }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Retry' }).click();
  await page.getByText('3 new attempt(s) queued.').waitFor();
  // The retried cells show attempt 2 and end errored again (the task's infrastructure always fails).
  await expect.poll(() => page.locator('.matrix a.chip sup').count(), { timeout: 30_000 }).toBe(3);
  await expect.poll(() => page.locator('.matrix a.chip[data-status="ERRORED"] sup').count(), { timeout: 60_000, interval: 500 }).toBe(3);
});

test('retry the failed runs: asked first, told the pass rate stays; best of 2 shows apart', async () => {
  // From now on beta-fail passes (its .harbor-sim in TASKS_DIR): the retries pass, the first tries still count.
  const { task } = await platform.graphql(`query($id: ID!) { task(id: $id) { contentHash name } }`, { id: ids['beta-fail'] });
  await writeFile(path.join(platform.dataDir, 'tasks', task.contentHash, task.name, '.harbor-sim'), 'HARBOR_SIM_SCENARIO=pass\n');
  await expect.poll(() => page.getByTestId('pass-rate').textContent(), { timeout: 10_000 }).toMatch(/^50%/);

  await page.getByRole('button', { name: 'Retry failed (3)' }).click();
  const dialog = page.getByRole('dialog', { name: 'Retry failed (3)' });
  expect((await dialog.textContent())!.replace(/\s+/g, ' ')).toContain(
    'Start an extra attempt for each of the 3 failed run(s)? The agent had a fair try in each, so the pass rate, pass@k and comparisons keep counting those first tries: extra attempts are shown apart, as best of N.',
  );
  await dialog.getByRole('button', { name: 'Retry' }).click();
  await page.getByText('3 extra attempt(s) queued. They do not change the pass rate; best of N is shown apart.').waitFor();

  // Each failed cell keeps its failure and gains a green +1 once its extra attempt passed.
  await expect.poll(() => page.locator('.matrix a.extra.passed[data-best-of="2"]').count(), { timeout: 60_000, interval: 500 }).toBe(3);
  expect(await cells('FAILED').count()).toBe(3);
  await expect.poll(() => page.getByTestId('best-of').textContent(), { timeout: 10_000 }).toMatch(
    /^\s*100%\s*best of 2 \(6 \/ 6 passed in some attempt\) · 3 extra attempts, not in the pass rate\s*$/,
  );
  expect(await page.getByTestId('pass-rate').textContent()).toMatch(/^50%/);
  // One run per task and repeat, however many attempts; nothing failed is left to retry.
  expect(await page.getByRole('progressbar').getAttribute('aria-label')).toBe('9 of 9 runs finished');
  await page.getByRole('button', { name: 'Retry failed (0)' }).waitFor({ timeout: 10_000 });
  await screenshot(page, 'job-best-of');
  await page.getByRole('tab', { name: /^Per task/ }).click();
  expect(await page.locator('tr[data-task="beta-fail"] td[data-best-of]').textContent()).toMatch(/3\/3\s*best of 2/);
});

test('cancel a running job from its page', async () => {
  const launched = await platform.graphql(
    `mutation ($input: CreateJobInput!) { createJob(input: $input) { ... on MutationCreateJobSuccess { data { id } } } }`,
    { input: { agent: 'oracle', taskIds: [ids['delta-hang']], runsPerTask: 4, name: 'to cancel' } },
  );
  const jobId = launched.createJob.data.id as string;
  await page.goto(`${platform.url}/jobs/${jobId}`);
  await cells('RUNNING').first().waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Cancel job' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel job' }).click();
  await page.locator('h1 [data-status="CANCELLED"]').waitFor({ timeout: 60_000 });
  await expect.poll(() => cells('CANCELLED').count(), { timeout: 30_000 }).toBe(4);
  await screenshot(page, 'job-cancelled');
});

test('a budget stops a job; raising it lets the cancelled runs be retried', async () => {
  const launched = await platform.graphql(
    `mutation ($input: CreateJobInput!) { createJob(input: $input) { ... on MutationCreateJobSuccess { data { id } } } }`,
    { input: { agent: 'oracle', taskIds: [ids['alpha-pass']], runsPerTask: 6, name: 'on a budget', budgetUsd: 0.02 } },
  );
  const jobId = launched.createJob.data.id as string;
  await page.goto(`${platform.url}/jobs/${jobId}`);
  // Each simulated run costs $0.01: the budget is reached by the first wave of three.
  await page.getByText(/reached the budget of \$0\.02/i).waitFor({ timeout: 60_000 });
  // The runs still queued are cancelled after the stop, the running ones run on: count once the job
  // has settled, or the button may already say one more than was counted.
  await page.locator('h1 [data-status="CANCELLED"]').waitFor({ timeout: 60_000 });
  await expect.poll(() => cells('CANCELLED').count(), { timeout: 30_000 }).toBeGreaterThan(0);
  const cancelled = await cells('CANCELLED').count();
  await page.getByRole('button', { name: 'Change budget' }).click();
  await page.locator('input[name=budget]').fill('1');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('budget').getByText('Budget $1.00').waitFor();
  await page.getByRole('button', { name: `Retry cancelled (${cancelled})` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Retry' }).click();
  await expect.poll(() => cells('PASSED').count(), { timeout: 60_000, interval: 500 }).toBe(6);
});

test('the New job page estimates the cost from earlier runs, and says when the budget falls short', async () => {
  // By now oracle has run alpha-pass (and beta-fail) at $0.01 a run; delta-hang only ever ran to a
  // cancel, which does not count, so it is estimated from the mean run.
  await page.goto(`${platform.url}/jobs/new?tasks=${[ids['alpha-pass'], ids['delta-hang']].join(',')}`);
  await page.locator('[data-connection="live"]').waitFor();
  await page.locator('select[name=agent]').selectOption('oracle');
  await page.locator('input[name=runsPerTask]').fill('10');
  const estimate = page.getByTestId('estimate');
  await expect.poll(() => estimate.textContent(), { timeout: 10_000 }).toMatch(/Estimated cost ≈ \$0\.20/);
  expect((await estimate.textContent())!.replace(/\s+/g, ' ')).toMatch(
    /\(\$0\.01 a run, from \d+ earlier runs of this agent and model; 1 of 2 tasks from their own runs\), ≈ .+ of trial time\./,
  );
  expect(await page.getByTestId('budget-covers').count()).toBe(0);
  await page.locator('input[name=budgetUsd]').fill('0.05');
  await expect.poll(() => page.getByTestId('budget-covers').textContent(), { timeout: 10_000 }).toMatch(
    /The budget of \$0\.05 covers about 5 of these 20 runs/,
  );
  await screenshot(page, 'new-job-estimate');
  // A model nobody ran yet: no number is made up.
  await page.locator('select[name=agent]').selectOption('terminus-2');
  await page.locator('input[name=model]').fill('openrouter/acme/never-run');
  await expect.poll(() => estimate.textContent(), { timeout: 10_000 }).toMatch(/No cost estimate: no earlier run of this agent and model recorded a cost/);
  expect(await page.getByTestId('budget-covers').count()).toBe(0);
});

test('launch again: the New job form filled in from an earlier job', async () => {
  const found = await platform.graphql(`{ jobs(search: "journey 3x3") { edges { node { id } } } }`);
  const jobId = found.jobs.edges[0].node.id as string;
  await page.goto(`${platform.url}/jobs/${jobId}`);
  await page.getByRole('link', { name: 'Launch again…' }).click();
  await page.waitForURL(`${platform.url}/jobs/new?from=${jobId}`);
  await page.getByTestId('copied-from').waitFor();
  expect(await page.getByTestId('copied-from').textContent()).toMatch(/Filled in from journey 3x3: its tasks, agent, model, runs per task/);
  await expect.poll(() => page.getByTestId('trial-count').textContent(), { timeout: 10_000 }).toContain('This starts 9 trials (3 tasks × 3 runs)');
  expect(await page.locator('select[name=agent]').inputValue()).toBe('oracle');
  expect(await page.locator('input[name=runsPerTask]').inputValue()).toBe('3');
  expect(await page.locator('input[type=radio][value=selected]').isChecked()).toBe(true);
  for (const name of ['alpha-pass', 'beta-fail', 'gamma-infra']) await page.getByRole('link', { name }).waitFor();
  // The earlier job's runs are what the estimate rests on.
  await expect.poll(() => page.getByTestId('estimate').textContent(), { timeout: 10_000 }).toMatch(/Estimated cost ≈ \$0\.09/);
});

test('overview, jobs and runners pages show the platform live', async () => {
  await page.goto(`${platform.url}/jobs`);
  await page.locator('tr[data-job]').nth(1).waitFor();
  await expect(page.locator('tr[data-job]').count()).resolves.toBe(3);
  await screenshot(page, 'jobs-journey');
  await page.goto(`${platform.url}/`);
  await expect.poll(() => page.getByTestId('capacity').textContent(), { timeout: 10_000 }).toMatch(/0 \/ 3/);
  await expect.poll(() => page.getByTestId('runs-finished-today').textContent(), { timeout: 10_000 }).toMatch(/[12][0-9]/);
  await screenshot(page, 'overview');
});

test('delete a stopped job from its page: it leaves the list, and its task can then be deleted', async () => {
  const found = await platform.graphql(`{ jobs(search: "to cancel") { edges { node { id status } } } }`);
  const job = found.jobs.edges[0].node as { id: string; status: string };
  expect(job.status).toBe('CANCELLED');
  await page.goto(`${platform.url}/jobs/${job.id}`);
  await page.getByRole('button', { name: 'Delete job' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete job' }).click();
  await page.waitForURL(`${platform.url}/jobs`);
  await page.locator('tr[data-job]').first().waitFor();
  expect(await page.locator(`tr[data-job="${job.id}"]`).count()).toBe(0);
  // Deleted elsewhere (another tab, a script): the open list drops it live.
  const other = (await platform.graphql(`{ jobs(search: "on a budget") { edges { node { id } } } }`)).jobs.edges[0].node.id as string;
  await page.locator(`tr[data-job="${other}"]`).waitFor();
  const result = await platform.graphql(`mutation($id: ID!) { deleteJob(id: $id) { __typename } }`, { id: other });
  expect(result.deleteJob.__typename).toBe('MutationDeleteJobSuccess');
  await page.locator(`tr[data-job="${other}"]`).waitFor({ state: 'detached', timeout: 10_000 });
  // delta-hang was run by that job alone.
  const deleted = await platform.graphql(`mutation($id: ID!) { deleteTask(id: $id) { __typename } }`, { id: ids['delta-hang'] });
  expect(deleted.deleteTask.__typename).toBe('MutationDeleteTaskSuccess');
});
