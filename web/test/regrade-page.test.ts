// Regrade and reward integrity in the browser (issue 16 items 11-12), against the real platform and
// the Harbor simulator: "Regrade…" on a finished job, the regrade beside its original on both run
// pages, and "reward written by the agent?" on a flagged run.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import yazl from 'yazl';
import { launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';
import { taskFiles } from './support/tasks.js';
import { waitFor } from '../../runner/test/support/wait.js';

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

/** Uploads a task, its verifier in separate mode when asked (Harbor regrades only those). */
async function upload(name: string, sim: Record<string, string>, separate = false): Promise<string> {
  const files = taskFiles(name, sim);
  if (separate) files['task.toml'] = files['task.toml']!.replace('[verifier]\n', '[verifier]\nenvironment_mode = "separate"\n');
  const zip = new yazl.ZipFile();
  for (const [file, text] of Object.entries(files)) zip.addBuffer(Buffer.from(text), `${name}/${file}`, { mode: file.endsWith('.sh') ? 0o100755 : 0o100644 });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({
      query: `mutation ($files: [Upload!]!) { uploadTasks(files: $files) { __typename ... on MutationUploadTasksSuccess { data { files { tasks { task { id } errors { message } } } } } } }`,
      variables: { files: [null] },
    }),
  );
  form.set('map', JSON.stringify({ 0: ['variables.files.0'] }));
  form.set('0', new Blob([new Uint8Array(Buffer.concat(chunks))]), `${name}.zip`);
  const response = await fetch(`${platform.url}/graphql`, { method: 'POST', body: form, headers: { 'graphql-require-preflight': '1' } });
  const task = ((await response.json()) as any).data.uploadTasks.data.files[0].tasks[0];
  if (!task.task) throw new Error(JSON.stringify(task));
  return task.task.id;
}

async function launch(taskId: string, name: string): Promise<{ jobId: string; runId: string }> {
  const data = await platform.graphql(
    `mutation ($input: CreateJobInput!) { createJob(input: $input) { ... on MutationCreateJobSuccess { data { id runs(first: 1) { edges { node { id } } } } } } }`,
    { input: { taskIds: [taskId], agent: 'oracle', runsPerTask: 1, name } },
  );
  return { jobId: data.createJob.data.id, runId: data.createJob.data.runs.edges[0].node.id };
}

const runsOf = async (jobId: string) =>
  (await platform.graphql(`query ($id: ID!) { job(id: $id) { status runs(first: 10) { edges { node { id status regradeOf { id } } } } } }`, { id: jobId })).job;

const until = <T>(probe: () => Promise<T>, what: string) => waitFor(probe, { timeoutMs: 60_000, what, intervalMs: 250 });

test('Regrade… on a finished job: the regrade shows beside its original, original verdict vs new verdict', async () => {
  const broken = await upload('web-regrade', { HARBOR_SIM_SCENARIO: 'fail' }, true);
  const { jobId, runId } = await launch(broken, 'web-regrade-job');
  await until(async () => (await runsOf(jobId)).status === 'COMPLETED', 'the job to complete');
  // The tests are fixed: a new upload of the same task.
  await upload('web-regrade', { HARBOR_SIM_SCENARIO: 'pass' }, true);

  await page.goto(`${platform.url}/jobs/${jobId}`);
  await page.getByTestId('regrade').click();
  const dialog = page.getByRole('dialog', { name: 'Regrade runs' });
  await dialog.getByLabel('Regrade').selectOption('FAILED');
  await dialog.getByRole('button', { name: 'Regrade' }).click();
  const regrade = await until(async () => {
    const job = await runsOf(jobId);
    const found = job.runs.edges.map((e: any) => e.node).find((r: any) => r.regradeOf?.id === runId);
    return job.status === 'COMPLETED' && found?.status === 'PASSED' && found;
  }, 'the regrade to pass');

  await page.goto(`${platform.url}/runs/${regrade.id}`);
  const panel = page.locator(`[data-regrade-of="${runId}"]`);
  await panel.waitFor();
  const text = (await panel.textContent())!.replace(/\s+/g, ' ');
  expect(text).toContain('Original verdict');
  expect(text).toMatch(/Original verdict.*failed.*reward 0.*New verdict.*passed.*reward 1/);
  await screenshot(page, 'regrade-run');
  await panel.getByRole('link').click();
  await page.waitForURL(`${platform.url}/runs/${runId}`);
  const back = page.locator('[data-regrades]');
  await back.waitFor();
  expect((await back.textContent())!.replace(/\s+/g, ' ')).toMatch(/Original verdict.*failed.*Regrade 1.*passed/);
  expect(await page.getByTestId('attempt-role').textContent()).toContain('its regrade’s verdict counts instead');
});

test('a run whose agent wrote its own reward shows "reward written by the agent?" with what the runner found', async () => {
  const cheat = await upload('web-cheat', { HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_AGENT_WRITES_REWARD: '1' });
  const { jobId, runId } = await launch(cheat, 'web-cheat-job');
  await until(async () => (await runsOf(jobId)).status === 'COMPLETED', 'the job to complete');
  await page.goto(`${platform.url}/runs/${runId}`);
  const flag = page.locator('[data-reward-flag="FILES_DISAGREE"]');
  await flag.waitFor();
  const text = (await flag.textContent())!.replace(/\s+/g, ' ');
  expect(text).toContain('Reward written by the agent?');
  expect(text).toContain('verifier/reward.json says 1 but verifier/reward.txt says 0; Harbor scored the run with reward.json');
  await screenshot(page, 'reward-flag');
});
