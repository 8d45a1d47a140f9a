// The task page's files and runs on the real platform: a file of the tree opens highlighted, the
// task's zip downloads, and the "Runs" section lists the task's runs of three jobs (two agents, two
// models), filtered by agent and model from the URL as the heatmap links, and any two picked open
// the attempt comparison — also offered from the run page for runs of other jobs.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { compareHref, filterChoices, readRunFilter, togglePick, withRunFilter } from '../src/routes/tasks/[id]/runs.js';
import { launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';
import { taskFiles } from './support/tasks.js';
import { uploadTasks } from './support/upload.js';
import { waitFor } from '../../runner/test/support/wait.js';
import { unzip } from '../../api/test/support/unzip.js';

describe('the runs section logic', () => {
  test('filters come from the URL and go back into it, the open file kept', () => {
    expect(readRunFilter(new URLSearchParams('agent=codex&model='))).toEqual({ agent: 'codex', model: null });
    expect(withRunFilter(new URLSearchParams('file=task.toml&agent=codex'), { agent: null, model: 'openai/gpt-5' })).toBe('file=task.toml&model=openai%2Fgpt-5');
  });
  test('a pick holds the two runs ticked last', () => {
    expect(togglePick(togglePick(togglePick([], 'a'), 'b'), 'c')).toEqual(['b', 'c']);
    expect(togglePick(['a', 'b'], 'a')).toEqual(['b']);
    expect(compareHref(['b'])).toBeNull();
    expect(compareHref(['a', 'b'])).toBe('/runs/compare?a=a&b=b');
  });
  test("the model choices follow the agent, and a linked pair with no run stays selectable", () => {
    const groups = [
      { agent: 'codex', model: 'openai/gpt-5', runs: 1 },
      { agent: 'terminus-2', model: 'anthropic/claude', runs: 2 },
      { agent: 'terminus-2', model: 'openai/gpt-5', runs: 1 },
    ];
    expect(filterChoices(groups, { agent: 'codex', model: null })).toEqual({ agents: ['codex', 'terminus-2'], models: ['openai/gpt-5'] });
    expect(filterChoices(groups, { agent: 'nop', model: 'x' })).toEqual({ agents: ['codex', 'terminus-2', 'nop'], models: ['x'] });
  });
});

describe('the task page', () => {
  let platform: Platform;
  let browser: Browser;
  let page: Page;
  let taskId: string;
  const jobs: Record<string, string> = {};

  async function launch(name: string, agent: string, model: string, runsPerTask: number): Promise<string> {
    const data = await platform.graphql(
      `mutation ($input: CreateJobInput!) { createJob(input: $input) { __typename ... on MutationCreateJobSuccess { data { id } } ... on Error { message } } }`,
      { input: { name, agent, model, runsPerTask, taskIds: [taskId] } },
    );
    const id = data.createJob.data?.id as string | undefined;
    if (!id) throw new Error(`createJob: ${JSON.stringify(data.createJob)}`);
    return id;
  }

  beforeAll(async () => {
    platform = await startPlatform({ HARBOR_SIM_PHASE_MS: '100', HARBOR_SIM_LOG_LINES: '2' });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    ({ 'fix-git': taskId } = await uploadTasks(platform.url, [{ name: 'fix-git', sim: { HARBOR_SIM_SCENARIO: 'pass' } }]));
    jobs.sonnet = await launch('sonnet first pass', 'terminus-2', 'anthropic/claude-sonnet-4-5', 2);
    jobs.gpt = await launch('gpt-5 first pass', 'terminus-2', 'openai/gpt-5', 1);
    jobs.codex = await launch('codex gpt-5', 'codex', 'openai/gpt-5', 1);
    for (const [name, id] of Object.entries(jobs)) {
      await waitFor(async () => (await platform.graphql(`query ($id: ID!) { job(id: $id) { status } }`, { id })).job.status === 'COMPLETED', {
        timeoutMs: 90_000,
        what: `job ${name} to complete`,
        intervalMs: 500,
      });
    }
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  test('a file of the tree opens highlighted, and the task zip downloads', async () => {
    await page.goto(`${platform.url}/tasks/${taskId}`);
    await page.locator('[data-open-file="task.toml"]').click();
    await page.waitForURL(/\?file=task\.toml$/);
    const code = page.locator('[data-file-viewer="task.toml"] [data-code]');
    await code.waitFor();
    expect(await code.getAttribute('class')).toMatch(/^hljs language-toml\b/);
    // highlight.js marked the TOML up: sections and keys are spans of its classes.
    await expect.poll(() => code.locator('.hljs-section').allTextContents()).toContain('[metadata]');
    expect(await code.locator('.hljs-attr').count()).toBeGreaterThan(5);
    expect(await code.textContent()).toBe(taskFiles('fix-git')['task.toml']);
    expect(await page.locator('[data-language="toml"]').textContent()).toBe(
      `TOML · 340 B · ${taskFiles('fix-git')['task.toml']!.trimEnd().split('\n').length} lines`,
    );

    // Another file replaces it, highlighted as its language; the URL opens it again.
    await page.locator('[data-open-file="tests/test_outputs.py"]').click();
    const python = page.locator('[data-file-viewer="tests/test_outputs.py"] [data-code]');
    await python.waitFor();
    expect(await python.locator('.hljs-keyword').allTextContents()).toEqual(['def', 'assert']);
    await page.goto(`${platform.url}/tasks/${taskId}?file=environment/Dockerfile`);
    const docker = page.locator('[data-file-viewer="environment/Dockerfile"] [data-code]');
    await docker.waitFor();
    expect(await docker.getAttribute('class')).toMatch(/^hljs language-dockerfile\b/);
    expect(await docker.locator('.hljs-keyword').allTextContents()).toEqual(['FROM', 'WORKDIR']);
    await screenshot(page, 'task-file');

    // The download link: the package as stored, under its folder.
    const href = await page.locator('[data-task-zip]').getAttribute('href');
    expect(href).toBe(`/tasks/${taskId}/task.zip`);
    const response = await page.request.get(`${platform.url}${href}`);
    expect(response.status()).toBe(200);
    expect(response.headers()['content-disposition']).toBe('attachment; filename="fix-git.zip"');
    const names = [...(await unzip(await response.body())).keys()];
    expect(names.sort()).toEqual(Object.keys(taskFiles('fix-git', { HARBOR_SIM_SCENARIO: 'pass' })).map((f) => `fix-git/${f}`).sort());
    await page.locator('[data-file-viewer] button', { hasText: 'Close' }).click();
    await page.waitForURL(`${platform.url}/tasks/${taskId}`);
  });

  test('the runs section lists runs across jobs, filters by agent and model, and compares two picked', async () => {
    await page.goto(`${platform.url}/tasks/${taskId}`);
    const rows = page.locator('[data-runs-table] tr[data-run-row]');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(4);
    const jobsOf = () => page.locator('[data-runs-table] tr[data-run-row] td:nth-child(2)').allTextContents();
    // Newest first: the codex job was launched last.
    expect((await jobsOf())[0]).toBe('codex gpt-5');
    await screenshot(page, 'task');

    // The heatmap's link: this task's runs of one agent × model.
    await page.goto(`${platform.url}/tasks/${taskId}?agent=terminus-2&model=openai/gpt-5`);
    await expect.poll(() => jobsOf()).toEqual(['gpt-5 first pass']);
    expect(await page.locator('[data-runs-agent]').inputValue()).toBe('terminus-2');
    expect(await page.locator('[data-runs-model]').inputValue()).toBe('openai/gpt-5');

    // Changing the filters rewrites the URL.
    await page.locator('[data-runs-agent]').selectOption('');
    await page.waitForURL(/\?model=openai%2Fgpt-5$/);
    await expect.poll(async () => (await jobsOf()).sort()).toEqual(['codex gpt-5', 'gpt-5 first pass']);
    await page.locator('[data-runs-model]').selectOption('anthropic/claude-sonnet-4-5');
    await expect.poll(() => jobsOf()).toEqual(['sonnet first pass', 'sonnet first pass']);
    await page.locator('[data-runs-model]').selectOption('');
    await page.locator('[data-runs-agent]').selectOption('codex');
    await expect.poll(() => jobsOf()).toEqual(['codex gpt-5']);
    expect(new URL(page.url()).search).toBe('?agent=codex');

    // Pick one codex run and, after clearing the filter, one sonnet run: the pick spans filters.
    const codexRun = (await rows.first().getAttribute('data-run-row'))!;
    await page.getByRole('checkbox', { name: /^Pick codex gpt-5, run 1/ }).check();
    await page.locator('[data-runs-agent]').selectOption('');
    await expect.poll(() => rows.count()).toBe(4);
    const sonnetRow = page.locator('[data-runs-table] tr[data-model="anthropic/claude-sonnet-4-5"]').first();
    const sonnetRun = (await sonnetRow.getAttribute('data-run-row'))!;
    await sonnetRow.getByRole('checkbox').check();
    await page.locator('[data-compare-picked]').click();
    await page.waitForURL(`${platform.url}/runs/compare?a=${codexRun}&b=${sonnetRun}`);
    await page.locator('[data-first-divergence], [data-pair="0"]').first().waitFor({ timeout: 10_000 });
  });

  test('the run page offers runs of the same task in other jobs to compare with', async () => {
    const { job } = await platform.graphql(`query ($id: ID!) { job(id: $id) { runs { edges { node { id } } } } }`, { id: jobs.gpt });
    const gptRun = job.runs.edges[0].node.id as string;
    const { job: codex } = await platform.graphql(`query ($id: ID!) { job(id: $id) { runs { edges { node { id } } } } }`, { id: jobs.codex });
    const codexRun = codex.runs.edges[0].node.id as string;
    await page.goto(`${platform.url}/runs/${gptRun}`);
    await page.locator('[data-compare-action]').click();
    const others = page.locator('[data-other-jobs] [data-compare-with]');
    await expect.poll(() => others.count()).toBe(3);
    await page.locator(`[data-other-jobs] [data-compare-with="${codexRun}"]`).click();
    await page.waitForURL(`${platform.url}/runs/compare?a=${gptRun}&b=${codexRun}`);
  });
});

