// The run page against the real platform and the Harbor simulator: the log arrives live, in order
// and once; search, permalinks and sections work; the result panel and the log download agree.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';
import { zipTask } from './support/tasks.js';
import { waitFor } from '../../runner/test/support/wait.js';
import type { Client as WsClient } from 'graphql-ws';
import { followRunLog, type LogChunk } from '../src/lib/log/follow.js';

let platform: Platform;
let browser: Browser;
let page: Page;

async function upload(name: string, sim: Record<string, string>): Promise<string> {
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({
      query: `mutation ($files: [Upload!]!) { uploadTasks(files: $files) { __typename ... on MutationUploadTasksSuccess { data { files { tasks { name task { id } errors { message } } } } } } }`,
      variables: { files: [null] },
    }),
  );
  form.set('map', JSON.stringify({ 0: ['variables.files.0'] }));
  form.set('0', new Blob([new Uint8Array(await zipTask(name, sim))]), `${name}.zip`);
  const response = await fetch(`${platform.url}/graphql`, { method: 'POST', body: form, headers: { 'graphql-require-preflight': '1' } });
  const body = (await response.json()) as any;
  const task = body.data.uploadTasks.data.files[0].tasks[0];
  if (!task.task) throw new Error(`upload of ${name} failed: ${JSON.stringify(task.errors ?? body)}`);
  return task.task.id;
}

/** A job of one run of the task with the oracle agent (or another); returns the run id. */
async function launch(taskId: string, name: string, agent: { agent: string; model?: string } = { agent: 'oracle' }): Promise<string> {
  const data = await platform.graphql(
    `mutation ($input: CreateJobInput!) { createJob(input: $input) { __typename ... on Error { message } ... on MutationCreateJobSuccess { data { runs(first: 1) { edges { node { id } } } } } } }`,
    { input: { taskIds: [taskId], ...agent, runsPerTask: 1, name } },
  );
  const job = data.createJob;
  if (!job.data) throw new Error(`createJob: ${job.message}`);
  return job.data.runs.edges[0].node.id;
}

async function runStatus(runId: string): Promise<string> {
  return (await platform.graphql(`query ($id: ID!) { run(id: $id) { status } }`, { id: runId })).run.status;
}

function waitForStatus(runId: string, done: (s: string) => boolean, ms = 60_000): Promise<string> {
  return waitFor(async () => {
    const s = await runStatus(runId);
    return done(s) && s;
  }, { timeoutMs: ms, what: `run ${runId} to get there`, intervalMs: 250 });
}

/** Every line the viewer holds, read by scrolling its virtual window from top to bottom. */
async function readAllRows(p: Page): Promise<{ n: number; text: string }[]> {
  const viewport = p.locator('.viewport');
  const seen = new Map<number, string>();
  // Two frames: the scroll event, then the rows it brings into the window.
  const settle = () => p.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await viewport.evaluate((el) => (el.scrollTop = 0));
  await settle();
  for (let guard = 0; guard < 500; guard++) {
    const rows = await p.$$eval('.viewport .logline', (els) =>
      els.map((e) => ({ n: Number((e as HTMLElement).dataset.line), text: e.querySelector('.text')?.textContent ?? '' })),
    );
    for (const r of rows) seen.set(r.n, r.text);
    const more = await viewport.evaluate((el) => {
      const before = el.scrollTop;
      el.scrollTop += el.clientHeight;
      return el.scrollTop > before;
    });
    if (!more) break;
    await settle();
  }
  return [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([n, text]) => ({ n, text }));
}

beforeAll(async () => {
  platform = await startPlatform();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

let passedRun: string;

test('lines arrive live, in order and once; the result panel fills in; the download matches', async () => {
  const taskId = await upload('live-log', { HARBOR_SIM_PHASE_MS: '1500', HARBOR_SIM_LOG_LINES: '200' });
  passedRun = await launch(taskId, 'web-run-live');
  await page.goto(`${platform.url}/runs/${passedRun}`);
  await page.locator('[data-connection="live"]').waitFor();
  await expect(page.locator('[data-task-link]').textContent()).resolves.toBe('live-log');
  await expect(page.locator('[data-job-link]').textContent()).resolves.toBe('web-run-live');

  // Live: the count grows while the run is still running.
  const log = page.locator('section.log');
  await page.waitForFunction(() => Number(document.querySelector('section.log')?.getAttribute('data-log-count')) > 0, null, { timeout: 60_000 });
  const early = Number(await log.getAttribute('data-log-count'));
  const statusEarly = await runStatus(passedRun);
  expect(['CLAIMED', 'RUNNING']).toContain(statusEarly);
  await page.waitForFunction((n) => Number(document.querySelector('section.log')?.getAttribute('data-log-count')) > n, early, { timeout: 60_000 });
  // Following: the newest line stays in sight while lines arrive.
  await expect(page.locator('button.follow').getAttribute('aria-pressed')).resolves.toBe('true');

  await page.locator('[data-end-of-log]').waitFor({ timeout: 60_000 });
  await expect(page.locator('section.log .status').textContent()).resolves.toContain('end of log');
  await page.locator('[data-status="PASSED"]').first().waitFor({ timeout: 30_000 });

  // Order and no duplicates: the lines shown are exactly the downloaded log, line for line.
  const rows = await readAllRows(page);
  const total = Number(await log.getAttribute('data-log-count'));
  expect(rows.map((r) => r.n)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  const agent = rows.map((r) => /sim-agent \S+ line (\d+)/.exec(r.text)?.[1]).filter(Boolean).map(Number);
  expect(agent).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));

  const href = await page.locator('[data-download="log"]').getAttribute('href');
  expect(href).toBe(`/runs/${passedRun}/log`);
  const download = await fetch(`${platform.url}${href}`);
  expect(download.status).toBe(200);
  const text = await download.text();
  const downloaded = text.trimEnd().split('\n');
  expect(downloaded).toHaveLength(total);
  expect(text).toMatch(/sim-agent \S+ line 200\n/);
  // Each downloaded line ends with the text the viewer shows for it.
  for (const r of rows) expect(downloaded[r.n - 1]!.endsWith(r.text)).toBe(true);

  // The result panel: reward, phase timings, tokens, the trial files link.
  await expect(page.locator('[data-reward]').textContent()).resolves.toBe('1');
  const timings = (await page.locator('[data-timings]').textContent()) ?? '';
  expect(timings).toMatch(/Agent execution\s*\d+(\.\d)? s/);
  expect(timings).toMatch(/Verifier\s*\d/);
  await expect(page.locator('[data-download="files"]').getAttribute('href')).resolves.toBe(`/runs/${passedRun}/files.zip`);

  // The sections count their lines; the agent one holds oracle.txt's 200 lines (solve.sh's output).
  const agentTab = page.locator('[data-section="agent"]');
  expect(Number((await agentTab.locator('.n').textContent())?.replace(/,/g, ''))).toBeGreaterThanOrEqual(200);
  await agentTab.click();
  await expect(agentTab.getAttribute('aria-selected')).resolves.toBe('true');
  await expect(page.locator('.viewport .logline').first().getAttribute('data-source')).resolves.toBe('agent');
  await page.locator('[data-section="all"]').click();
});

test('search finds lines; Enter and Shift+Enter move between matches', async () => {
  await page.keyboard.press('Escape');
  await page.locator('.viewport').focus();
  await page.keyboard.press('/');
  const search = page.getByLabel('Search the log');
  await expect(search.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
  await search.fill('line 5');
  // "line 5" and "line 50" … "line 59" in the agent's pane output.
  const counter = page.locator('.search .count');
  await expect(counter.textContent()).resolves.toMatch(/^\s*1 of \d+\s*$/);
  const total = Number(/of (\d+)/.exec((await counter.textContent()) ?? '')![1]);
  expect(total).toBeGreaterThanOrEqual(11);
  const current = page.locator('.logline[data-current="true"]');
  await expect(current.locator('mark').first().textContent()).resolves.toBe('line 5');
  const first = Number(await current.getAttribute('data-line'));
  await search.press('Enter');
  await expect(counter.textContent()).resolves.toMatch(/^\s*2 of /);
  const second = Number(await current.getAttribute('data-line'));
  expect(second).toBeGreaterThan(first);
  await search.press('Shift+Enter');
  await expect(counter.textContent()).resolves.toMatch(/^\s*1 of /);
  await expect(current.getAttribute('data-line')).resolves.toBe(String(first));
  await search.press('Shift+Enter');
  await expect(counter.textContent()).resolves.toMatch(new RegExp(`^\\s*${total} of ${total}`));
  await search.press('Escape');
  await expect(page.locator('.viewport mark').count()).resolves.toBe(0);
});

test('a permalink #L5 scrolls to line 5 and highlights it; clicking a line number sets one', async () => {
  await page.goto(`${platform.url}/runs/${passedRun}#L5`);
  const row = page.locator('.logline[data-line="5"]');
  await row.waitFor({ timeout: 30_000 });
  await page.locator('.logline.selected[data-line="5"]').waitFor();
  await expect(row.getAttribute('aria-current')).resolves.toBe('true');
  await expect(page.locator('button.follow').getAttribute('aria-pressed')).resolves.toBe('false');

  await page.locator('.logline[data-line="7"] .ln').click();
  expect(new URL(page.url()).hash).toBe('#L7');
  await page.locator('.logline.selected[data-line="7"]').waitFor();
  await expect(page.locator('.logline.selected').count()).resolves.toBe(1);

  // Timestamps: off by default, one per row when turned on.
  await expect(page.locator('.viewport time.at').count()).resolves.toBe(0);
  await page.getByLabel('Timestamps').check();
  await expect(page.locator('.logline[data-line="7"] time.at').textContent()).resolves.toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);
  await page.getByLabel('Timestamps').uncheck();

  // End jumps to the bottom and follows again.
  await page.locator('.viewport').focus();
  await page.keyboard.press('End');
  await expect(page.locator('button.follow').getAttribute('aria-pressed')).resolves.toBe('true');
  await expect(page.locator('.viewport').evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 4)).resolves.toBe(true);
});

test('a FAILED run opens the verifier section and says why', async () => {
  const taskId = await upload('failing-task', { HARBOR_SIM_SCENARIO: 'fail' });
  const runId = await launch(taskId, 'web-run-fail');
  expect(await waitForStatus(runId, (s) => s === 'FAILED' || s === 'PASSED' || s === 'ERRORED')).toBe('FAILED');
  await page.goto(`${platform.url}/runs/${runId}`);
  await page.locator('[data-end-of-log]').waitFor({ timeout: 30_000 });
  await expect(page.locator('[data-section="verifier"]').getAttribute('aria-selected')).resolves.toBe('true');
  const shown = await page.$$eval('.viewport .logline', (els) => els.map((e) => (e as HTMLElement).dataset.source));
  expect(shown.length).toBeGreaterThan(0);
  expect(new Set(shown)).toEqual(new Set(['verifier']));
  await expect(page.locator('[data-reward]').textContent()).resolves.toBe('0');
  await page.locator('[data-status="FAILED"]').first().waitFor();
});

test('an errored run names the failure kind in words', async () => {
  const taskId = await upload('infra-task', { HARBOR_SIM_SCENARIO: 'infra-error' });
  const runId = await launch(taskId, 'web-run-infra');
  expect(await waitForStatus(runId, (s) => s !== 'QUEUED' && s !== 'CLAIMED' && s !== 'RUNNING')).toBe('ERRORED');
  await page.goto(`${platform.url}/runs/${runId}`);
  await expect(page.locator('[data-failure-kind]').textContent()).resolves.toBe('Infrastructure failure');
  await expect(page.locator('[data-failure]').textContent()).resolves.toContain('RuntimeError');
  // Harbor's traceback, folded under the failure; the verifier mode Harbor resolved at the start.
  const traceback = page.locator('[data-traceback]');
  await expect(traceback.getAttribute('open')).resolves.toBeNull();
  await traceback.locator('summary').click();
  await expect(traceback.locator('pre').textContent()).resolves.toMatch(/^Traceback \(most recent call last\):[^]*RuntimeError: Docker compose command failed/);
  await expect(page.locator('[data-verifier-mode]').textContent()).resolves.toBe("in the agent's container");
  await page.locator('[data-end-of-log]').waitFor({ timeout: 30_000 });
  await expect(page.locator('[data-section="trial"]').getAttribute('aria-selected')).resolves.toBe('true');
});

test("each agent's run shows its own log: the oracle's solve.sh output, claude-code's stream-json and converted trajectory", async () => {
  // The oracle run of the first test: no trajectory, its log is oracle.txt.
  await page.goto(`${platform.url}/runs/${passedRun}?tab=trajectory`);
  await page.locator('[data-agent-logs]').waitFor({ timeout: 30_000 });
  await expect(page.locator('[data-agent-logs] li button').allTextContents()).resolves.toEqual(['agent/oracle.txt']);
  await expect(page.locator('[data-trajectory]').getAttribute('data-steps')).resolves.toBe('0');
  await page.locator('[data-agent-logs] li button').first().click();
  await expect(page.locator('.shown pre').textContent()).resolves.toMatch(/sim-agent \S+ line 1\n/);

  const taskId = await upload('claude-task', { HARBOR_SIM_PHASE_MS: '600', HARBOR_SIM_LOG_LINES: '4' });
  const runId = await launch(taskId, 'web-run-claude', { agent: 'claude-code', model: 'anthropic/claude-sonnet-4-5' });
  expect(await waitForStatus(runId, (s) => s !== 'QUEUED' && s !== 'CLAIMED' && s !== 'RUNNING')).toBe('PASSED');
  await page.goto(`${platform.url}/runs/${runId}`);
  await page.locator('[data-end-of-log]').waitFor({ timeout: 30_000 });
  await page.locator('[data-section="agent"]').click();
  const agentText = (await page.$$eval('.viewport .logline .text', (els) => els.map((e) => e.textContent ?? ''))).join('\n');
  expect(agentText).toContain('"type":"system","subtype":"init"');
  expect(agentText).toContain('claude-code installed'); // agent/setup/stdout.txt
  await page.goto(`${platform.url}/runs/${runId}?tab=trajectory`);
  await page.locator('[data-agent-logs]').waitFor({ timeout: 30_000 });
  expect(Number(await page.locator('[data-trajectory]').getAttribute('data-steps'))).toBeGreaterThan(0);
  await expect(page.locator('[data-agent-logs] li button').allTextContents()).resolves.toEqual(['agent/claude-code.txt']);
});

test('a missing run says so', async () => {
  await page.goto(`${platform.url}/runs/00000000-0000-4000-8000-000000000000`);
  await page.locator('[data-missing]').waitFor();
  await expect(page.locator('h1').textContent()).resolves.toBe('No run with this id');
});

test('screenshot of a finished run', async () => {
  await page.goto(`${platform.url}/runs/${passedRun}`);
  await page.locator('[data-end-of-log]').waitFor({ timeout: 30_000 });
  await page.getByLabel('Search the log').fill('line 4');
  await screenshot(page, 'run');
});

test('the log follower resumes behind the last chunk: on a graphql-ws retry and after SLOW_CONSUMER', () => {
  // A stand-in for graphql-ws: records each subscribe; a retry after a reconnect re-sends the same payload.
  const calls: { payload: any; sink: any }[] = [];
  const ws = { subscribe: (payload: any, sink: any) => (calls.push({ payload, sink }), () => {}) } as unknown as WsClient;
  const got: number[] = [];
  let ended = 0;
  const chunk = (position: number): { data: { runLog: LogChunk } } => ({
    data: { runLog: { position, lines: [{ source: 'agent', file: null, text: `at ${position}`, at: new Date().toISOString() }] } },
  });
  const stop = followRunLog(ws, 'r1', { chunk: (c) => got.push(c.position), end: () => ended++, error: (e) => { throw e; } });
  expect(calls).toHaveLength(1);
  expect(calls[0]!.payload.variables).toEqual({ runId: 'r1', after: null });
  calls[0]!.sink.next(chunk(3));
  calls[0]!.sink.next(chunk(5));
  // What graphql-ws would send on its retry: the same object, now asking for what follows 5.
  expect(JSON.parse(JSON.stringify(calls[0]!.payload)).variables.after).toBe(5);
  calls[0]!.sink.next(chunk(5)); // a repeat is dropped
  calls[0]!.sink.next(chunk(8));
  expect(got).toEqual([3, 5, 8]);
  // SLOW_CONSUMER: the API ends the subscription; the follower subscribes again behind 8, not "ended".
  calls[0]!.sink.next({ errors: [{ message: 'fell behind', extensions: { code: 'SLOW_CONSUMER' } }] });
  calls[0]!.sink.complete();
  return new Promise<void>((resolve) =>
    queueMicrotask(() => {
      expect(ended).toBe(0);
      expect(calls).toHaveLength(2);
      expect(calls[1]!.payload.variables.after).toBe(8);
      calls[1]!.sink.next(chunk(9));
      calls[1]!.sink.complete();
      expect(got).toEqual([3, 5, 8, 9]);
      expect(ended).toBe(1);
      stop();
      resolve();
    }),
  );
});
