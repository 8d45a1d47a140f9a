// Comparing two jobs on the real platform: a baseline and a candidate over the same tasks, ticked on
// the jobs list, shown side by side with the difference stated in words and a sortable grid.
//
// The Harbor simulator decides a trial's outcome from the task's `.harbor-sim`, not from the agent,
// so the same tasks would end the same way in both jobs. Between the two jobs the test rewrites
// three tasks' `.harbor-sim` in the task store, standing in for a second model that solves
// different tasks; everything else (dispatch, runner, recorder, statistics, page) is the real path.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { describeDifference, type BaselineDifference } from '../src/lib/compare/model.js';
import { launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';
import { uploadTasks } from './support/upload.js';
import { waitFor } from '../../runner/test/support/wait.js';

describe('describeDifference', () => {
  const d = (over: Partial<BaselineDifference>): BaselineDifference => ({
    commonTasks: 40, passRateDifference: 0.12, passRateDifferenceLow: 0.03, passRateDifferenceHigh: 0.21,
    onlyBaselinePasses: 2, onlyThisPasses: 9, mcnemarP: 0.0327, ...over,
  });
  test('states the difference, its interval and the test in words', () => {
    expect(describeDifference('B', 'A', d({}))).toBe('B passes 12% more of the common tasks than A (95% CI +3% to +21%); McNemar exact p = 0.033 on 40 common tasks.');
    expect(describeDifference('B', 'A', d({ passRateDifference: -0.05, passRateDifferenceLow: -0.2, passRateDifferenceHigh: 0.1, mcnemarP: 0.0004, commonTasks: 1 }))).toBe(
      'B passes 5% fewer of the common tasks than A (95% CI −20% to +10%); McNemar exact p < 0.001 on 1 common task.',
    );
    expect(describeDifference('B', 'A', d({ passRateDifference: 0, passRateDifferenceLow: 0, passRateDifferenceHigh: 0, mcnemarP: 1 }))).toBe(
      'B passes as many of the common tasks as A (95% CI 0% to 0%); McNemar exact p = 1 on 40 common tasks.',
    );
    expect(describeDifference('B', 'A', d({ commonTasks: 0, passRateDifference: null, mcnemarP: null }))).toMatch(/no task with a scored run in both/);
  });
});

describe('the compare page', () => {
  let platform: Platform;
  let browser: Browser;
  let page: Page;
  let ids: Record<string, string>;
  let baseline: string;
  let candidate: string;

  const SIM = { pass: { HARBOR_SIM_SCENARIO: 'pass' }, fail: { HARBOR_SIM_SCENARIO: 'fail' } };

  async function launch(name: string, model: string, tasks: string[]): Promise<string> {
    const data = await platform.graphql(
      `mutation ($input: CreateJobInput!) { createJob(input: $input) { __typename ... on MutationCreateJobSuccess { data { id } } ... on Error { message } } }`,
      { input: { name, agent: 'terminus-2', model, runsPerTask: 2, taskIds: tasks.map((t) => ids[t]) } },
    );
    const id = data.createJob.data?.id as string | undefined;
    if (!id) throw new Error(`createJob: ${JSON.stringify(data.createJob)}`);
    // expect.poll only runs inside a test; this waits in beforeAll, with a deadline.
    await waitFor(async () => (await platform.graphql(`query ($id: ID!) { job(id: $id) { status } }`, { id })).job.status === 'COMPLETED', {
      timeoutMs: 90_000,
      what: `job ${name} to complete`,
      intervalMs: 500,
    });
    return id;
  }

  async function setScenario(task: string, scenario: keyof typeof SIM) {
    const { task: row } = await platform.graphql(`query ($id: ID!) { task(id: $id) { name contentHash } }`, { id: ids[task] });
    await writeFile(path.join(platform.dataDir, 'tasks', row.contentHash, row.name, '.harbor-sim'), `HARBOR_SIM_SCENARIO=${scenario}\n`);
  }

  beforeAll(async () => {
    platform = await startPlatform({ HARBOR_SIM_PHASE_MS: '100', HARBOR_SIM_LOG_LINES: '2' });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    ids = await uploadTasks(platform.url, [
      { name: 'alpha', sim: SIM.pass },
      { name: 'beta', sim: SIM.fail },
      { name: 'gamma', sim: SIM.pass },
      { name: 'delta', sim: SIM.fail },
      { name: 'epsilon', sim: SIM.pass },
      { name: 'eta', sim: SIM.fail },
      { name: 'zeta', sim: SIM.pass },
    ]);
    const common = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'eta'];
    baseline = await launch('gpt-5 baseline', 'openai/gpt-5', common);
    // The candidate solves beta and delta and loses gamma; zeta is its own.
    await setScenario('beta', 'pass');
    await setScenario('delta', 'pass');
    await setScenario('gamma', 'fail');
    candidate = await launch('sonnet candidate', 'anthropic/claude-sonnet-4', [...common, 'zeta']);
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  test('tick two jobs on the jobs list, compare them, and read the difference the API computed', async () => {
    await page.goto(`${platform.url}/jobs`);
    await page.getByRole('checkbox', { name: 'Select gpt-5 baseline' }).check();
    await page.getByRole('checkbox', { name: 'Select sonnet candidate' }).check();
    await page.getByRole('link', { name: 'Compare selected (2)' }).click();
    await page.waitForURL(`${platform.url}/compare?jobs=${baseline},${candidate}`);

    const { compareJobs: api } = await platform.graphql(
      `query ($ids: [ID!]!) { compareJobs(ids: $ids) { ... on QueryCompareJobsSuccess { data {
        jobs { passRate costPerPass vsBaseline { commonTasks passRateDifference passRateDifferenceLow passRateDifferenceHigh onlyBaselinePasses onlyThisPasses mcnemarP } }
      } } } }`,
      { ids: [baseline, candidate] },
    );
    const [a, b] = api.data.jobs;
    // Baseline 6 of 12 (alpha, gamma, epsilon); candidate 10 of 14 (alpha, beta, delta, epsilon, zeta).
    expect([a.passRate, b.passRate]).toEqual([0.5, 10 / 14]);
    // Common tasks alpha..eta: differences 0, +1, −1, +1, 0, 0 → +1/6; b = 1 (gamma), c = 2 (beta, delta): p = 1.
    expect(b.vsBaseline).toMatchObject({ commonTasks: 6, onlyBaselinePasses: 1, onlyThisPasses: 2, mcnemarP: 1 });
    expect(b.vsBaseline.passRateDifference).toBeCloseTo(1 / 6, 12);

    const cards = page.getByTestId('compared-jobs');
    await expect.poll(() => cards.getByTestId('job-pass-rate').allTextContents()).toEqual(['50%', '71%']);
    await expect.poll(() => cards.textContent()).toContain('$0.02 per pass'); // 12 × $0.01 / 6 passes
    const sentence = describeDifference('sonnet candidate', 'gpt-5 baseline', b.vsBaseline);
    expect(sentence).toMatch(/^sonnet candidate passes 17% more of the common tasks than gpt-5 baseline \(95% CI .+\); McNemar exact p = 1 on 6 common tasks\.$/);
    await expect.poll(() => page.getByTestId('differences').textContent()).toContain(sentence);

    // The grid: every task once, by name; a number in every cell; "not run" where the baseline lacks zeta.
    const rows = page.locator('table.compare-grid tbody tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-task')))).toEqual(['alpha', 'beta', 'delta', 'epsilon', 'eta', 'gamma', 'zeta']);
    const cell = (task: string, job: string) => page.locator(`tr[data-task="${task}"] td[data-job="${job}"]`);
    expect(await cell('gamma', baseline).innerText()).toMatch(/100%\s*2\/2/);
    expect(await cell('gamma', candidate).innerText()).toMatch(/0%\s*0\/2\s*−100%/);
    expect(await cell('beta', candidate).innerText()).toMatch(/100%\s*2\/2\s*\+100%/);
    expect(await cell('zeta', baseline).innerText()).toBe('not run');
    expect(await cell('zeta', candidate).innerText()).toMatch(/100%\s*2\/2$/);
    // The picker lists recent jobs, marking the ones already compared.
    await page.locator('.picker li', { hasText: 'gpt-5 baseline' }).getByText('compared').waitFor();
    await screenshot(page, 'compare');

    // Sorted by the candidate's difference: gains first, losses after the unchanged, no difference last.
    await page.getByRole('button', { name: /sonnet candidate Δ vs baseline/ }).click();
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-task')))).toEqual(['beta', 'delta', 'alpha', 'epsilon', 'eta', 'gamma', 'zeta']);
  });

  test('the picker and the buttons rewrite the URL: remove, add back by search, swap the baseline', async () => {
    await page.getByRole('button', { name: 'Remove sonnet candidate' }).click();
    await page.waitForURL(`${platform.url}/compare?jobs=${baseline}`);
    await page.getByText('Pick one more job to compare').waitFor();

    await page.getByRole('searchbox').fill('sonnet');
    await page.getByRole('button', { name: 'Add sonnet candidate' }).click();
    await page.waitForURL(`${platform.url}/compare?jobs=${baseline},${candidate}`);
    await page.getByTestId('differences').getByText(/sonnet candidate passes 17% more/).waitFor();

    await page.getByRole('button', { name: 'Make baseline' }).click();
    await page.waitForURL(`${platform.url}/compare?jobs=${candidate},${baseline}`);
    await page.getByTestId('differences').getByText(/gpt-5 baseline passes 17% fewer of the common tasks than sonnet candidate/).waitFor();
  });

  test('the job page links to a comparison and flags the task no job ever passed', async () => {
    await page.goto(`${platform.url}/jobs/${baseline}?tab=tasks`);
    expect(await page.getByRole('link', { name: 'Compare with…' }).getAttribute('href')).toBe(`/compare?jobs=${baseline}`);
    await expect.poll(() => page.locator('tr[data-task="eta"] .flags').textContent(), { timeout: 10_000 }).toContain('never passed');
    expect(await page.locator('tr[data-task="gamma"] .flags').textContent()).not.toContain('never passed');
  });

  test('a malformed id says what is wrong', async () => {
    await page.goto(`${platform.url}/compare?jobs=${baseline},nope`);
    await page.getByRole('alert').getByText('ids.1 must be a UUID, got "nope"').waitFor();
  });
});
