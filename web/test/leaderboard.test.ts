// The leaderboard, heatmap and charts of a dataset version on the real platform: four models run
// through the simulator on a dataset of six tasks, one of them in two jobs that together cover it,
// one on two tasks only (incomplete), one launched while the page is open (live).
//
// The simulator decides a trial's outcome and cost from the task's `.harbor-sim`, not from the
// model, so between jobs the test rewrites every task's `.harbor-sim` in the task store, standing in
// for models that solve different tasks at different prices; everything else (dispatch, runner,
// recorder, leaderboard SQL, subscription, pages) is the real path.
//
//              alpha beta gamma delta epsilon zeta   cost/trial   accuracy
//   gpt-5        1    1    1     0     0      1      $0.02        4/6 = 66.7%   (one job)
//   sonnet       1    0    1     1     0      0      $0.01        3/6 = 50.0%   (two jobs: alpha–gamma, delta–zeta)
//   gemini       1    ½    ·     ·     ·      ·      $0.005       incomplete: beta passes in one job, fails in another (flaky)
//   deepseek     1    1    1     0     0      0      $0.03        3/6 = 50.0%   (launched with the page open; dominated)
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';
import { uploadTasks } from './support/upload.js';
import { waitFor } from '../../runner/test/support/wait.js';

const TASKS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'] as const;
type TaskName = (typeof TASKS)[number];
const GPT = 'openai/gpt-5';
const SONNET = 'anthropic/claude-sonnet-4';
const GEMINI = 'google/gemini-2.5-pro';
const DEEPSEEK = 'deepseek/deepseek-v3';
/** Row keys (agent|model|agentVersion) as the API made them, by model: read once the jobs ran. */
const rowKeysByModel: Record<string, string> = {};
// A model that ran later has the same agent and agent version as the others (one simulator).
const key = (model: string) => rowKeysByModel[model] ?? rowKeysByModel[GPT]!.replace(`|${GPT}|`, `|${model}|`);
/** A row's name on the page: agent · model · v<agent version> (the simulator's terminus-2 records one). */
const label = (model: string) => {
  const version = key(model).split('|')[2];
  return [`terminus-2`, model, version && version !== 'unknown' ? `v${version}` : null].filter(Boolean).join(' · ');
};
/** The heatmap's column keys by model (it does not split by agent version). */
const columnKeysByModel: Record<string, string> = {};

describe('the leaderboard pages', () => {
  let platform: Platform;
  let browser: Browser;
  let page: Page;
  let ids: Record<string, string>;
  let datasetId: string;
  let versionId: string;
  let emptyDatasetId: string;
  const jobs: Record<string, string> = {};

  async function gql<T = any>(q: string, variables: Record<string, unknown> = {}): Promise<T> {
    return platform.graphql<T>(q, variables);
  }

  /** Every task's `.harbor-sim`: the listed tasks pass, the others fail, each trial costs `cost`. */
  async function simulate(passing: TaskName[], cost: number) {
    for (const name of TASKS) {
      const { task } = await gql(`query ($id: ID!) { task(id: $id) { name contentHash } }`, { id: ids[name] });
      const scenario = passing.includes(name) ? 'pass' : 'fail';
      await writeFile(path.join(platform.dataDir, 'tasks', task.contentHash, task.name, '.harbor-sim'), `HARBOR_SIM_SCENARIO=${scenario}\nHARBOR_SIM_COST_USD=${cost}\n`);
    }
  }

  async function launch(name: string, model: string, tasks: readonly TaskName[], wait = true): Promise<string> {
    const data = await gql(
      `mutation ($input: CreateJobInput!) { createJob(input: $input) { __typename ... on MutationCreateJobSuccess { data { id } } ... on Error { message } } }`,
      { input: { name, agent: 'terminus-2', model, runsPerTask: 2, datasetVersionId: versionId, taskIds: tasks.map((t) => ids[t]) } },
    );
    const id = data.createJob.data?.id as string | undefined;
    if (!id) throw new Error(`createJob: ${JSON.stringify(data.createJob)}`);
    jobs[name] = id;
    if (wait) await finished(id, name);
    return id;
  }

  async function finished(id: string, name: string) {
    await waitFor(async () => (await gql(`query ($id: ID!) { job(id: $id) { status } }`, { id })).job.status === 'COMPLETED', {
      timeoutMs: 120_000,
      what: `job ${name} to complete`,
      intervalMs: 500,
    });
  }

  async function createDataset(name: string, taskIds: string[]): Promise<{ datasetId: string; versionId: string }> {
    const data = await gql(
      `mutation ($input: CreateDatasetInput!) { createDataset(input: $input) {
        __typename ... on MutationCreateDatasetSuccess { data { id dataset { id } } } ... on Error { message }
      } }`,
      { input: { name, version: '1.0', description: 'leaderboard test', taskIds } },
    );
    const version = data.createDataset.data;
    if (!version) throw new Error(`createDataset: ${JSON.stringify(data.createDataset)}`);
    return { datasetId: version.dataset.id, versionId: version.id };
  }

  const LEADERBOARD = `query ($id: ID!, $model: String) { leaderboard(datasetVersionId: $id, model: $model) { __typename ... on QueryLeaderboardSuccess { data {
    rule emptyReason taskCount
    rows { key model rank complete tasksCovered taskCount trials accuracy standardError ci95Low ci95High passAt1 passAtK { k value } costPerTrial medianTrialSec }
  } } ... on Error { message } } }`;
  const apiBoard = async (model?: string) => (await gql(LEADERBOARD, { id: versionId, model })).leaderboard.data;

  const cellText = (testid: string, row: string, col: string) => page.getByTestId(testid).locator(`tr[data-key="${row}"] td[data-col="${col}"]`).innerText();
  const rowKeys = (testid: string) => page.getByTestId(testid).locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key')));

  beforeAll(async () => {
    platform = await startPlatform({ HARBOR_SIM_PHASE_MS: '100', HARBOR_SIM_LOG_LINES: '2' });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    // eta is in no job: the dataset holding only it is one nobody ran.
    ids = await uploadTasks(platform.url, [...TASKS, 'eta'].map((name) => ({ name })));
    ({ datasetId, versionId } = await createDataset('lb-bench', TASKS.map((t) => ids[t]!)));
    ({ datasetId: emptyDatasetId } = await createDataset('nobody-ran', [ids.eta!]));

    await simulate(['alpha', 'beta', 'gamma', 'zeta'], 0.02);
    await launch('gpt-5 full', GPT, TASKS);
    await simulate(['alpha', 'gamma', 'delta'], 0.01);
    await launch('sonnet first half', SONNET, ['alpha', 'beta', 'gamma']);
    await launch('sonnet second half', SONNET, ['delta', 'epsilon', 'zeta']);
    await simulate(['alpha', 'beta'], 0.005);
    await launch('gemini two tasks', GEMINI, ['alpha', 'beta']);
    await simulate(['alpha'], 0.005);
    await launch('gemini beta again', GEMINI, ['beta']);
    for (const row of (await apiBoard()).rows) rowKeysByModel[row.model] = row.key;
    const { datasetHeatmap } = await gql(
      `query ($id: ID!) { datasetHeatmap(datasetVersionId: $id) { ... on QueryDatasetHeatmapSuccess { data { columns { key model } } } } }`,
      { id: versionId },
    );
    for (const column of datasetHeatmap.data.columns) columnKeysByModel[column.model] = column.key;
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  test('the rule, complete rows ranked, the incomplete row apart, and the numbers the API computed', async () => {
    await page.goto(`${platform.url}/datasets/${datasetId}/leaderboard`);
    const api = await apiBoard();
    await expect.poll(() => page.getByTestId('rule').textContent()).toBe(api.rule);

    // By hand: gpt-5 4 of 6 tasks, sonnet 3 of 6 (over its two jobs); gemini covers 2 of 6.
    const byKey = Object.fromEntries(api.rows.map((r: any) => [r.key, r]));
    expect(byKey[key(GPT)]).toMatchObject({ rank: 1, complete: true, tasksCovered: 6, trials: 12, costPerTrial: 0.02 });
    expect(byKey[key(GPT)].accuracy).toBeCloseTo(4 / 6, 12);
    expect(byKey[key(SONNET)]).toMatchObject({ rank: 2, complete: true, tasksCovered: 6, trials: 12, costPerTrial: 0.01, accuracy: 0.5 });
    expect(byKey[key(GEMINI)]).toMatchObject({ rank: null, complete: false, tasksCovered: 2, trials: 6 });

    await expect.poll(() => rowKeys('ranked')).toEqual([key(GPT), key(SONNET)]);
    expect(await rowKeys('incomplete')).toEqual([key(GEMINI)]);
    await page.getByRole('heading', { name: /Incomplete, not ranked/ }).waitFor();

    const gpt = byKey[key(GPT)];
    expect(await cellText('ranked', key(GPT), 'rank')).toBe('1');
    expect(await cellText('ranked', key(GPT), 'tasks')).toBe('6/6');
    expect(await cellText('ranked', key(GPT), 'trials')).toBe('12');
    const accuracy = await cellText('ranked', key(GPT), 'accuracy');
    expect(accuracy).toContain(`66.7% ± ${(gpt.standardError * 100).toFixed(1)}%`);
    expect(accuracy).toContain(`${(gpt.ci95Low * 100).toFixed(1)}–${(gpt.ci95High * 100).toFixed(1)}%`);
    expect(await cellText('ranked', key(GPT), 'passAt1')).toBe('66.7%');
    expect(await cellText('ranked', key(GPT), 'costPerTrial')).toBe('$0.02');
    expect(await cellText('ranked', key(SONNET), 'costPerSuccess')).toBe('$0.02'); // 12 × $0.01 / 6 passes
    expect(await cellText('incomplete', key(GEMINI), 'rank')).toBe('—');
    expect(await cellText('incomplete', key(GEMINI), 'tasks')).toBe('2/6');
    // Cells lead to the trials behind them: tasks to that row's heatmap, trials to its jobs.
    const geminiTasks = page.getByTestId('incomplete').locator(`tr[data-key="${key(GEMINI)}"] td[data-col="tasks"] a`);
    expect(await geminiTasks.getAttribute('href')).toBe(`/datasets/${datasetId}/heatmap?agent=terminus-2&model=${encodeURIComponent(GEMINI)}`);
    expect(await page.getByTestId('ranked').locator(`tr[data-key="${key(GPT)}"] td[data-col="trials"] a`).getAttribute('href')).toBe(
      `/jobs?agent=terminus-2&model=${encodeURIComponent(GPT)}`,
    );

    // The row's jobs: the filtered jobs list and each job.
    const jobsCell = page.getByTestId('ranked').locator(`tr[data-key="${key(SONNET)}"] td[data-col="jobs"]`);
    expect(await jobsCell.getByRole('link', { name: 'all jobs' }).getAttribute('href')).toBe(`/jobs?agent=terminus-2&model=${encodeURIComponent(SONNET)}`);
    expect(await jobsCell.getByRole('link', { name: 'sonnet first half' }).getAttribute('href')).toBe(`/jobs/${jobs['sonnet first half']}`);
    expect(await jobsCell.getByRole('link', { name: 'sonnet second half' }).getAttribute('href')).toBe(`/jobs/${jobs['sonnet second half']}`);
    // Exports of this version.
    expect(await page.getByRole('link', { name: 'CSV' }).getAttribute('href')).toBe(`/datasets/${versionId}/leaderboard.csv`);
    expect(await page.getByRole('link', { name: 'JSON' }).getAttribute('href')).toBe(`/datasets/${versionId}/leaderboard.json`);
    const csv = await fetch(`${platform.url}/datasets/${versionId}/leaderboard.csv`);
    expect(csv.status).toBe(200);
    expect(await csv.text()).toContain(SONNET);
  });

  test('a job launched with the page open joins the ranked rows live', async () => {
    await simulate(['alpha', 'beta', 'gamma'], 0.03);
    const id = await launch('deepseek full', DEEPSEEK, TASKS, false);
    // No reload: leaderboardUpdated brings the row, first incomplete, then ranked once every task is scored.
    await expect.poll(() => rowKeys('ranked'), { timeout: 120_000 }).toEqual([key(GPT), key(SONNET), key(DEEPSEEK)]);
    await finished(id, 'deepseek full');
    await expect.poll(() => cellText('ranked', key(DEEPSEEK), 'trials'), { timeout: 30_000 }).toBe('12');
    expect(await cellText('ranked', key(DEEPSEEK), 'accuracy')).toContain('50.0%');
  });

  test('sorting by a column orders both tables; blanks stay last', async () => {
    await page.getByTestId('ranked').getByRole('button', { name: 'Cost/trial' }).click();
    expect(await rowKeys('ranked')).toEqual([key(SONNET), key(GPT), key(DEEPSEEK)]);
    await page.getByTestId('ranked').getByRole('button', { name: /Cost\/trial/ }).click();
    expect(await rowKeys('ranked')).toEqual([key(DEEPSEEK), key(GPT), key(SONNET)]);
    await page.getByTestId('ranked').getByRole('button', { name: /^Model/ }).click();
    expect(await rowKeys('ranked')).toEqual([key(SONNET), key(DEEPSEEK), key(GPT)]);
    await page.getByTestId('ranked').getByRole('button', { name: /^#/ }).click();
    expect(await rowKeys('ranked')).toEqual([key(GPT), key(SONNET), key(DEEPSEEK)]);
  });

  test('two rows picked: the paired comparison on their common tasks', async () => {
    const { compareLeaderboardRows: api } = await gql(
      `query ($id: ID!, $a: String!, $b: String!) { compareLeaderboardRows(datasetVersionId: $id, a: $a, b: $b) {
        __typename ... on QueryCompareLeaderboardRowsSuccess { data { commonTasks meanA meanB difference differenceLow differenceHigh mcnemarP onlyA onlyB } } ... on Error { message }
      } }`,
      { id: versionId, a: key(GPT), b: key(SONNET) },
    );
    // gpt-5 alone solves beta and zeta; sonnet alone delta. The difference is B − A: 3/6 − 4/6.
    expect(api.data).toMatchObject({ commonTasks: 6, onlyA: 2, onlyB: 1 });
    expect(api.data.difference).toBeCloseTo(-1 / 6, 12);

    await page.getByRole('checkbox', { name: `Compare ${label(GPT)}`, exact: true }).check();
    await page.getByRole('checkbox', { name: `Compare ${label(SONNET)}`, exact: true }).check();
    const panel = page.getByTestId('comparison');
    await expect.poll(() => panel.textContent()).toContain('on 6 common tasks');
    expect(await panel.getByTestId('difference').innerText()).toContain('−16.7%');
    expect(await panel.getByTestId('only-a').innerText()).toBe('2 tasks: beta, zeta');
    expect(await panel.getByTestId('only-b').innerText()).toBe('1 task: delta');
    expect(await panel.getByTestId('only-b').getByRole('link', { name: 'delta' }).getAttribute('href')).toBe(`/tasks/${ids.delta}`);
    expect(await panel.getByTestId('mcnemar').innerText()).toContain(api.data.mcnemarP < 0.001 ? '< 0.001' : String(Number(api.data.mcnemarP.toPrecision(2))));
    // A third row cannot be picked while two are.
    expect(await page.getByRole('checkbox', { name: `Compare ${label(DEEPSEEK)}`, exact: true }).isDisabled()).toBe(true);
    await screenshot(page, 'leaderboard');
  });

  test('cost and time charts: a point per row, the Pareto front marked, the numbers behind them', async () => {
    const chart = page.getByTestId('cost-chart');
    await chart.scrollIntoViewIfNeeded();
    const points = chart.locator('g.point');
    await expect.poll(() => points.count()).toBe(4);
    const front = await points.evaluateAll((gs) => Object.fromEntries(gs.map((g) => [g.getAttribute('data-key'), g.getAttribute('data-front')])));
    // sonnet is cheapest of the complete rows, gpt-5 the most accurate; deepseek is dearer than both and no better;
    // gemini is incomplete, so never on the front.
    expect(front).toEqual({ [key(GPT)]: 'true', [key(SONNET)]: 'true', [key(DEEPSEEK)]: 'false', [key(GEMINI)]: 'false' });
    expect(await chart.locator(`g.point[data-key="${key(SONNET)}"]`).getAttribute('aria-label')).toBe(
      `${label(SONNET)}: cost per trial $0.01, accuracy 50.0% (95% CI ${await ci(key(SONNET))}), on the Pareto front`,
    );
    await chart.getByText('The numbers behind this chart').click();
    expect(await chart.locator(`table tr[data-key="${key(GPT)}"]`).innerText()).toMatch(/\$0\.02\s+66\.7%/);
    await expect.poll(() => page.getByTestId('time-chart').locator('g.point').count()).toBe(4);

    const file = path.join(ARTIFACTS, 'leaderboard-charts.png');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.getByTestId('charts').screenshot({ path: file });
  });

  async function ci(rowKey: string): Promise<string> {
    const row = (await apiBoard()).rows.find((r: any) => r.key === rowKey);
    return `${(row.ci95Low * 100).toFixed(1)}%–${(row.ci95High * 100).toFixed(1)}%`;
  }

  test('the chart takes its colours from the theme: other values of the variables recolour it', async () => {
    const front = page.getByTestId('cost-chart').locator(`g.point[data-key="${key(GPT)}"] circle`);
    const fill = () => front.evaluate((c) => getComputedStyle(c).fill);
    expect(await fill()).toBe('rgb(37, 99, 235)'); // --accent
    // A dark theme sets the same variables to other values (dark panel, light ink, a lighter accent).
    await page.evaluate(() => {
      const root = document.documentElement.style;
      root.setProperty('--accent', '#60a5fa');
      root.setProperty('--panel', '#111827');
      root.setProperty('--ink', '#e5e7eb');
      root.setProperty('--line', '#374151');
      root.setProperty('--muted', '#9ca3af');
    });
    expect(await fill()).toBe('rgb(96, 165, 250)');
    expect(await page.getByTestId('cost-chart').evaluate((f) => getComputedStyle(f).backgroundColor)).toBe('rgb(17, 24, 39)');
    await page.getByTestId('charts').screenshot({ path: path.join(ARTIFACTS, 'leaderboard-charts-dark.png') });
    await page.evaluate(() => document.documentElement.removeAttribute('style'));
  });

  test('one row per agent × model over every agent version', async () => {
    await page.getByRole('checkbox', { name: 'One row per agent version' }).uncheck();
    const merged = (model: string) => `terminus-2|${model}|`;
    await expect.poll(() => rowKeys('ranked')).toEqual([merged(GPT), merged(SONNET), merged(DEEPSEEK)]);
    expect(await cellText('ranked', merged(GPT), 'agentVersion')).toBe('—');
    expect(await page.getByRole('link', { name: 'CSV' }).getAttribute('href')).toBe(`/datasets/${versionId}/leaderboard.csv?splitByAgentVersion=false`);
    // The selection named rows that no longer exist.
    expect(await page.getByRole('checkbox', { name: `Compare terminus-2 · ${GPT}`, exact: true }).isChecked()).toBe(false);
    await page.getByRole('checkbox', { name: 'One row per agent version' }).check();
    await expect.poll(() => rowKeys('ranked')).toEqual([key(GPT), key(SONNET), key(DEEPSEEK)]);
  });

  test('filtering by model through the URL', async () => {
    await page.goto(`${platform.url}/datasets/${datasetId}/leaderboard?model=${encodeURIComponent(SONNET)}`);
    await expect.poll(() => rowKeys('ranked')).toEqual([key(SONNET)]);
    expect(await page.getByTestId('incomplete').count()).toBe(0);
    expect(await page.getByRole('textbox', { name: 'Model' }).inputValue()).toBe(SONNET);
    await page.getByRole('textbox', { name: 'Model' }).fill('');
    await page.getByRole('textbox', { name: 'Agent' }).fill('terminus-2');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(`${platform.url}/datasets/${datasetId}/leaderboard?agent=terminus-2`);
    await expect.poll(() => rowKeys('ranked')).toEqual([key(GPT), key(SONNET), key(DEEPSEEK)]);
  });

  test('the heatmap: pass rate and n per cell, flags, sorting, a cell opens the task runs of that model', async () => {
    await page.goto(`${platform.url}/datasets/${datasetId}/heatmap`);
    const table = page.getByTestId('heatmap');
    const order = () => table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-task')));
    await expect.poll(order).toEqual(['alpha', 'beta', 'delta', 'epsilon', 'gamma', 'zeta']);
    const cell = (task: string, model: string) => table.locator(`tr[data-task="${task}"] td[data-key="${columnKeysByModel[model]}"]`);
    expect(await cell('alpha', GPT).innerText()).toMatch(/100%\s*2\/2/);
    expect(await cell('delta', GPT).innerText()).toMatch(/0%\s*0\/2/);
    // gemini's beta: two passes in one job, two failures in the other.
    expect(await cell('beta', GEMINI).innerText()).toMatch(/50%~?\s*2\/4/);
    expect(await cell('beta', GEMINI).getAttribute('class')).toContain('flaky');
    expect(await cell('gamma', GEMINI).innerText()).toBe('not run');

    const flags = (task: string) => table.locator(`tr[data-task="${task}"] .flag`).allInnerTexts();
    expect(await flags('epsilon')).toContain('never solved');
    expect(await flags('alpha')).toContain('always solved');
    expect(await flags('beta')).toContain('flaky');

    // Hardest first, by the mean over the columns that ran the task: epsilon 0, delta and zeta 1/3
    // (one of three), beta (1 + 0 + ½ + 1) / 4, alpha and gamma 1 (ties by name).
    await page.getByRole('button', { name: 'Difficulty' }).click();
    expect(await order()).toEqual(['epsilon', 'delta', 'zeta', 'beta', 'alpha', 'gamma']);
    // Most disputed first: delta and zeta (one column of three disagrees), then beta; agreement last.
    await page.getByRole('button', { name: 'Disagreement' }).click();
    expect(await order()).toEqual(['delta', 'zeta', 'beta', 'alpha', 'epsilon', 'gamma']);

    const link = cell('delta', SONNET).getByRole('link');
    expect(await link.getAttribute('href')).toBe(`/tasks/${ids.delta}?agent=terminus-2&model=${encodeURIComponent(SONNET)}`);
    await page.getByRole('button', { name: 'Name' }).click();
    await screenshot(page, 'heatmap');
    await link.click();
    await page.waitForURL(`${platform.url}/tasks/${ids.delta}?agent=terminus-2&model=${encodeURIComponent(SONNET)}`);

    // From the leaderboard's tasks cell: the heatmap of that agent and model alone.
    await page.goto(`${platform.url}/datasets/${datasetId}/heatmap?agent=terminus-2&model=${encodeURIComponent(GEMINI)}`);
    await expect.poll(() => table.locator('thead th.column').evaluateAll((ths) => ths.map((th) => th.getAttribute('data-key')))).toEqual([columnKeysByModel[GEMINI]]);
    expect(await cell('beta', GEMINI).innerText()).toMatch(/50%~?\s*2\/4/);
  });

  test('a dataset nobody ran: an empty, explained leaderboard', async () => {
    await page.goto(`${platform.url}/datasets/${emptyDatasetId}/leaderboard`);
    const { leaderboard } = await gql(`query ($id: ID!) { dataset(id: $id) { latestVersion { id } } }`, { id: emptyDatasetId }).then((d) =>
      gql(LEADERBOARD, { id: d.dataset.latestVersion.id }),
    );
    expect(leaderboard.data.rows).toEqual([]);
    expect(leaderboard.data.emptyReason).toBeTruthy();
    await expect.poll(() => page.getByTestId('empty-reason').textContent()).toBe(leaderboard.data.emptyReason);
    expect(await page.getByTestId('ranked').count()).toBe(0);
  });

  test("a row's jobs link opens the jobs list filtered to its agent and model", async () => {
    await page.goto(`${platform.url}/datasets/${datasetId}/leaderboard`);
    await page.getByTestId('ranked').locator(`tr[data-key="${key(SONNET)}"] td[data-col="jobs"]`).getByRole('link', { name: 'all jobs' }).click();
    await page.waitForURL(`${platform.url}/jobs?agent=terminus-2&model=${encodeURIComponent(SONNET)}`);
    const listed = () => page.locator('tr[data-job]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-job')).sort());
    await expect.poll(listed).toEqual([jobs['sonnet first half'], jobs['sonnet second half']].sort());
  });
});
