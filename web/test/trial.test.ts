// Inside a trial, on the real platform and the Harbor simulator: the run page's Tests, Trajectory,
// Recording and Files tabs (the trajectory growing live while the agent runs, the recording seeked
// from a step), a truncated trajectory and recording, and two attempts of a task compared.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';
import { uploadTasks } from './support/upload.js';
import { waitFor } from '../../runner/test/support/wait.js';

let platform: Platform;
let browser: Browser;
let page: Page;
let ids: Record<string, string>;
/** Runs of each task, by repeat. */
const runs: Record<string, string[]> = {};

const FINAL = new Set(['PASSED', 'FAILED', 'ERRORED', 'CANCELLED']);

async function launch(taskIds: string[], name: string): Promise<string> {
  const data = await platform.graphql(
    `mutation ($input: CreateJobInput!) { createJob(input: $input) { __typename ... on Error { message } ... on MutationCreateJobSuccess { data { id } } } }`,
    // terminus-2: the agent whose simulated trial has a trajectory, a recording and a pane.
    { input: { taskIds, agent: 'terminus-2', model: 'openrouter/anthropic/claude-sonnet-4', runsPerTask: 2, name } },
  );
  if (!data.createJob.data) throw new Error(`createJob: ${data.createJob.message}`);
  return data.createJob.data.id;
}

async function jobRuns(jobId: string): Promise<{ id: string; status: string; repeat: number; task: { name: string } }[]> {
  const data = await platform.graphql(`query ($id: ID!) { job(id: $id) { runs(first: 100) { edges { node { id status repeat task { name } } } } } }`, { id: jobId });
  return data.job.runs.edges.map((e: { node: unknown }) => e.node);
}

const tab = (name: string) => page.getByRole('tab', { name });

beforeAll(async () => {
  platform = await startPlatform({ HARBOR_SIM_PHASE_MS: '1500', HARBOR_SIM_LOG_LINES: '12' });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  ids = await uploadTasks(platform.url, [
    // Two attempts run the same first agent step, then different commands from step_id 3 on.
    { name: 'fix-git', sim: { HARBOR_SIM_STEPS: '4', HARBOR_SIM_DIVERGE_AT: '3', HARBOR_SIM_TESTS: '3' } },
    { name: 'cut-short', sim: { HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_STEPS: '3', HARBOR_SIM_TRAJECTORY: 'truncated', HARBOR_SIM_RECORDING: 'truncated' } },
  ]);
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

test('the trajectory tab fills live while the agent runs', async () => {
  const jobId = await launch([ids['fix-git']!, ids['cut-short']!], 'inside trials');
  const running = await waitFor(async () => (await jobRuns(jobId)).find((r) => r.task.name === 'fix-git' && r.status === 'RUNNING'), {
    timeoutMs: 60_000,
    what: 'a fix-git run to start',
    intervalMs: 200,
  });
  await page.goto(`${platform.url}/runs/${running.id}?tab=trajectory`);
  await expect.poll(() => tab('Trajectory').getAttribute('aria-selected')).toBe('true');

  // Step counts as the page shows them: the agent writes a step about every 500 ms.
  const seen: number[] = [];
  await expect
    .poll(
      async () => {
        const n = Number((await page.locator('[data-trajectory]').getAttribute('data-steps').catch(() => null)) ?? -1);
        if (seen.at(-1) !== n) seen.push(n);
        return n;
      },
      { timeout: 60_000, interval: 200 },
    )
    .toBe(5);
  expect(seen.filter((n) => n >= 0 && n < 5).length, `counts seen: ${seen.join(', ')}`).toBeGreaterThan(0);

  // Wait for every run of the job before the other tests read finished trials.
  await expect.poll(async () => (await jobRuns(jobId)).every((r) => FINAL.has(r.status)), { timeout: 90_000, interval: 500 }).toBe(true);
  for (const r of (await jobRuns(jobId)).sort((x, y) => x.repeat - y.repeat)) (runs[r.task.name] ??= []).push(r.id);
});

test('tests tab lists the cases, failed first, with their messages and counts', async () => {
  await page.goto(`${platform.url}/runs/${runs['cut-short']![0]}?tab=tests`);
  const rows = page.locator('tr[data-test]');
  await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
  expect(await rows.first().getAttribute('data-test-status')).toBe('FAILED');
  expect(await rows.first().locator('.msg').textContent()).not.toBe('');
  expect(await rows.last().getAttribute('data-test-status')).toBe('PASSED');
  expect(await page.locator('[data-tests-counts]').textContent()).toMatch(/1 passed.*1 failed.*of 2 tests/);
  // pytest-json-ctrf's seconds (0.04 for the first test) shown as seconds, not 0 ms.
  expect(await rows.last().locator('[data-test-duration]').textContent()).toBe('0.040 s');
  expect(await page.locator('[data-tests-reader]').textContent()).toBe('Tests read from verifier/ctrf.json (CTRF)');
  // The failure's assertion, not the plugin's generic message; its trace folded under it.
  const trace = rows.first().locator('[data-test-trace]');
  expect(await trace.locator('summary').textContent()).toBe('AssertionError: the task is not solved');
  expect(await trace.locator('pre').isVisible()).toBe(false);
  await trace.locator('summary').click();
  await expect.poll(() => trace.locator('pre').isVisible()).toBe(true);
  expect(await trace.locator('pre').textContent()).toMatch(/^def test_task_solved\(\):\n>       check_test_task_solved\(\)\nE       AssertionError: the task is not solved\n/);
  expect(await page.locator('[data-tests]').textContent()).not.toContain('The test failed in the call phase');
  await screenshot(page, 'run-tests');
});

test('trajectory tab: steps with messages, tool calls, observations and tokens; keyboard moves between tabs', async () => {
  await page.goto(`${platform.url}/runs/${runs['fix-git']![0]}?tab=trajectory`);
  const steps = page.locator('[data-trajectory] li[data-step]');
  await expect.poll(() => steps.count(), { timeout: 10_000 }).toBe(5);
  expect(await steps.first().getAttribute('data-source')).toBe('user');
  const agent = page.locator('[data-trajectory] li[data-source="agent"]').first();
  await expect.poll(() => agent.locator('[data-tool-call] .fn').textContent()).toBe('bash_command');
  expect((await agent.locator('[data-tool-call] .cmd').textContent())?.trim().length).toBeGreaterThan(0);
  expect(await agent.locator('.metrics').textContent()).toMatch(/tok/);
  await page.getByRole('button', { name: 'Agent only' }).click();
  await expect.poll(() => steps.count()).toBe(4);
  await screenshot(page, 'run-trajectory');

  // Keyboard: arrow keys move along the tabs and the URL follows.
  await tab('Trajectory').focus();
  await page.keyboard.press('ArrowRight');
  await page.waitForURL(/tab=recording/);
  await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-tab'))).toBe('recording');
  await page.keyboard.press('Home');
  await page.waitForURL((url) => !url.searchParams.has('tab'));
  await page.locator('[data-log-count]').waitFor();
});

test('recording tab plays the cast; a step seeks the player and is highlighted', async () => {
  await page.goto(`${platform.url}/runs/${runs['fix-git']![0]}?tab=recording`);
  await page.locator('[data-recording] .ap-player, [data-recording] .ap-wrapper').first().waitFor({ timeout: 15_000 });
  expect(await page.locator('[data-cast-info]').textContent()).toMatch(/160×40/);
  const seekButtons = page.locator('[data-recording] [data-seek]');
  await expect.poll(() => seekButtons.count(), { timeout: 10_000 }).toBe(5);
  const lastStep = page.locator('[data-recording] li[data-step]').last();
  await lastStep.locator('[data-seek]').click();
  await expect.poll(() => lastStep.getAttribute('aria-current'), { timeout: 10_000 }).toBe('step');
  await page.locator('[data-speed]').selectOption('2');
  await page.locator('[data-recording] .ap-player, [data-recording] .ap-wrapper').first().waitFor();
  await screenshot(page, 'run-recording');
});

test('a truncated trajectory and recording still show what is there, with a note', async () => {
  await page.goto(`${platform.url}/runs/${runs['cut-short']![0]}?tab=trajectory`);
  await expect.poll(() => page.locator('[data-trajectory-note]').textContent(), { timeout: 10_000 }).toMatch(/truncated/);
  await page.goto(`${platform.url}/runs/${runs['cut-short']![0]}?tab=recording`);
  await expect
    .poll(async () => (await page.locator('[data-cast-dropped]').count()) + (await page.locator('[data-cast-problem]').count()), { timeout: 15_000 })
    .toBeGreaterThan(0);
});

test('files tab lists the trial files with downloads', async () => {
  await page.goto(`${platform.url}/runs/${runs['fix-git']![0]}?tab=files`);
  const row = page.locator('tr[data-file="agent/trajectory.json"]');
  await row.waitFor({ timeout: 10_000 });
  const href = await row.getByRole('link', { name: /^download/i }).getAttribute('href');
  const response = await page.request.get(`${platform.url}${href}`);
  expect(response.status()).toBe(200);
  expect(response.headers()['content-disposition']).toMatch(/^attachment/);
  expect((await response.json()).schema_version).toBe('ATIF-v1.6');
  expect(await page.locator('[data-zip]').getAttribute('href')).toMatch(/files\.zip$/);
});

test('compare two attempts: outcomes, and the first divergence highlighted and scrolled to', async () => {
  const [first, second] = runs['fix-git']!;
  await page.goto(`${platform.url}/runs/${first}`);
  await page.locator('[data-compare-action]').click();
  await page.locator(`[data-compare-with="${second}"]`).click();
  await page.waitForURL(/\/runs\/compare\?a=/);
  const banner = page.locator('[data-first-divergence]');
  await banner.waitFor({ timeout: 10_000 });
  expect(await banner.getAttribute('data-kind')).toBe('COMMANDS');
  // DIVERGE_AT=3: the first agent step (step_id 2) is the same in both attempts, the second differs.
  expect(await banner.getAttribute('data-first-divergence')).toBe('1');
  expect(await page.locator('[data-pair="0"]').getAttribute('data-diverges')).toBe('false');
  const firstPair = page.locator('[data-pair="1"]');
  expect(await firstPair.getAttribute('class')).toMatch(/\bfirst\b/);
  await expect.poll(() => firstPair.isVisible()).toBe(true);
  expect(await firstPair.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top < window.innerHeight && r.bottom > 0;
  })).toBe(true);
  expect(await page.locator('[data-outcomes] [data-side]').count()).toBe(2);
  // Both attempts passed: the same 3 tests, none differing.
  await expect.poll(() => page.locator('[data-tests-compare] tr[data-test-row]').count(), { timeout: 10_000 }).toBe(3);
  expect(await page.locator('[data-tests-compare] tr[data-differs="true"]').count()).toBe(0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'compare-runs');

  // Runs of different tasks are refused with a clear message.
  await page.goto(`${platform.url}/runs/compare?a=${first}&b=${runs['cut-short']![0]}`);
  await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 }).toMatch(/only attempts of the same task can be compared/);
});
