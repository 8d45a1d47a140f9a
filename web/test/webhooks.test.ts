// The webhooks settings page against the real platform: adding a webhook (its secret shown once),
// a test ping delivered to a real receiver and checked against that secret, a failing receiver's
// attempts in the delivery log, and a bad URL refused with the API's sentence.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';
import { uploadTasks } from './support/upload.js';

let platform: Platform;
let browser: Browser;
let page: Page;
let receiver: Server;
let base: string;
const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(req.url === '/down' ? 500 : 200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  platform = await startPlatform();
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

async function addWebhook(url: string): Promise<string> {
  const form = page.getByRole('form', { name: 'New webhook' });
  await form.getByLabel('URL').fill(url);
  await form.getByRole('button', { name: 'Add webhook' }).click();
  const secret = page.getByTestId('new-secret');
  await secret.waitFor();
  const text = (await secret.textContent())!.trim();
  await page.getByRole('status', { name: 'New webhook secret' }).getByRole('button', { name: 'Done' }).click();
  return text;
}

const row = (url: string) => page.getByRole('table', { name: 'Webhooks' }).getByRole('row').filter({ hasText: url }).first();

test('a webhook made on the settings page delivers a signed test ping, and the log shows each attempt', async () => {
  await page.goto(`${platform.url}/settings/webhooks`);
  await page.getByRole('heading', { name: 'My webhooks' }).waitFor();
  await page.getByText('No webhooks yet.').waitFor();

  // A bad URL: the API's sentence, and nothing made.
  const form = page.getByRole('form', { name: 'New webhook' });
  await form.getByLabel('URL').fill('ftp://example.com/hook');
  await form.getByRole('button', { name: 'Add webhook' }).click();
  await page.getByRole('alert').filter({ hasText: 'url must use http or https, not ftp' }).waitFor();

  const secret = await addWebhook(`${base}/ok`);
  expect(secret).toMatch(/^whsec_/);
  await expect(row(`${base}/ok`).textContent()).resolves.toContain(`…${secret.slice(-4)}`);
  // Shown once: after a reload only its last four characters are on the page.
  await page.reload();
  await row(`${base}/ok`).waitFor();
  await expect(page.content()).resolves.not.toContain(secret);

  await row(`${base}/ok`).getByRole('button', { name: 'Send test' }).click();
  const log = page.getByRole('table', { name: 'Deliveries' });
  await log.getByText('delivered').waitFor({ timeout: 20_000 });
  await log.getByText('#1 · 200').waitFor();
  const ping = received.find((r) => r.path === '/ok')!;
  expect(ping.headers['x-thr-event']).toBe('PING');
  const expected = `sha256=${createHmac('sha256', secret).update(`${ping.headers['x-thr-timestamp']}.${ping.body}`).digest('hex')}`;
  expect(ping.headers['x-thr-signature']).toBe(expected);

  await addWebhook(`${base}/down`);
  await row(`${base}/down`).getByRole('button', { name: 'Send test' }).click();
  await page.getByRole('table', { name: 'Deliveries' }).getByText('#1 · 500').waitFor({ timeout: 20_000 });
  // Retried later with backoff: still pending, with its next attempt shown.
  await page.getByRole('table', { name: 'Deliveries' }).getByText('pending').waitFor();
  await page.getByRole('table', { name: 'Deliveries' }).getByText(/^next /).waitFor();
  await screenshot(page, 'webhooks');
});

test('?job=<id> adds a webhook for that job only', async () => {
  const ids = await uploadTasks(platform.url, [{ name: 'hook-task', sim: { HARBOR_SIM_SCENARIO: 'pass' } }]);
  const created = await platform.graphql(
    `mutation($input: CreateJobInput!) { createJob(input: $input) { __typename ... on MutationCreateJobSuccess { data { id } } ... on Error { message } } }`,
    { input: { taskIds: Object.values(ids), agent: 'oracle', runsPerTask: 1, name: 'hooked job' } },
  );
  const jobId = created.createJob.data.id;
  await page.goto(`${platform.url}/settings/webhooks?job=${jobId}`);
  await page.getByLabel('Webhook scope').getByText('For job hooked job only').waitFor();
  await addWebhook(`${base}/job`);
  await row(`${base}/job`).getByRole('link', { name: 'hooked job' }).waitFor();
  const hooks = await platform.graphql(`query($id: ID!) { webhooks(jobId: $id) { totalCount edges { node { url job { id } } } } }`, { id: jobId });
  expect(hooks.webhooks).toEqual({ totalCount: 1, edges: [{ node: { url: `${base}/job`, job: { id: jobId } } }] });
});
