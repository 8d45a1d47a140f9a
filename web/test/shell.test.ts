// The app shell against the real platform: pages load from the API's port, the connection turns
// live, and the runners page lists the platform's runner from its heartbeats. GraphiQL at /graphql
// works with no Internet: it renders its editor and runs a query with every request staying on the
// platform, and its CSP is never violated.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';

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

test('the runners page shows the running runner live', async () => {
  await page.goto(`${platform.url}/runners`);
  await page.locator('[data-connection="live"]').waitFor();
  const row = page.locator('tr[data-runner]');
  await row.first().waitFor({ timeout: 30_000 });
  await expect(row.first().textContent()).resolves.toMatch(/0 \/ 3/);
  // What it serves (told so: no Docker here) and its Harbor, within the tested range: no warning.
  await expect(row.first().locator('[data-serves]').textContent()).resolves.toMatch(/docker/);
  await expect(row.first().locator('[data-untested]').count()).resolves.toBe(0);
  await screenshot(page, 'runners');
});

test('pages carry a CSP with frame-ancestors none, nosniff and no-framing, and run under it without a violation', async () => {
  const tab = await browser.newPage();
  const violations: string[] = [];
  tab.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  try {
    const response = await tab.goto(`${platform.url}/runners`);
    const headers = response!.headers();
    expect(headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
    expect(headers['content-security-policy']).toMatch(/script-src 'self' 'wasm-unsafe-eval' 'nonce-/);
    expect(headers).toMatchObject({ 'x-frame-options': 'DENY', 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin' });
    // The app started (its script ran under the policy) and its WebSocket connected.
    await tab.locator('[data-connection="live"]').waitFor();
    await tab.locator('tr[data-runner]').first().waitFor({ timeout: 30_000 });
    for (const path of ['/jobs', '/tasks']) {
      await tab.goto(`${platform.url}${path}`);
      await tab.locator('[data-connection="live"]').waitFor();
    }
    expect(violations).toEqual([]);
  } finally {
    await tab.close();
  }
});

test('hostile requests to web paths get a 4xx and the platform keeps serving', async () => {
  const malformed = ['/%E0%A4%A', '/jobs/%E0%A4%A', '/_app/immutable/%E0%A4%A.js', `/${'a'.repeat(64 * 1024)}`, '/jobs/%E0%A4%A/runs.csv'];
  for (const path of malformed) {
    const response = await fetch(`${platform.url}${path}`);
    expect(response.status, path.slice(0, 60)).toBeGreaterThanOrEqual(400);
    expect(response.status, path.slice(0, 60)).toBeLessThan(500);
  }
  // Odd but decodable: the app shell (its router shows "not found") or a 4xx, never a failure.
  for (const path of ['/runs/%00', '/tasks?%E0%A4%A=%', '/jobs/%2e%2e/%2e%2e/etc/passwd']) {
    expect((await fetch(`${platform.url}${path}`)).status, path).toBeLessThan(500);
  }
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const response = await fetch(`${platform.url}/jobs`, { method, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '%E0%A4%A=\u0000' });
    expect(response.status, method).toBeGreaterThanOrEqual(400);
    expect(response.status, method).toBeLessThan(500);
  }
  // The query limits hold in the real process too (not only in the API's tests): runs(first: 30)
  // nested twice under jobs(first: 30) is refused before it runs.
  const nested = '{ jobs(first: 30) { edges { node { runs(first: 30) { edges { node { job { runs(first: 30) { edges { node { id } } } } } } } } } } }';
  await expect(platform.graphql(nested)).rejects.toThrow(/too costly/);
  await expect(platform.graphql('{ health { ok } }')).resolves.toMatchObject({ health: { ok: true } });
});

test('GraphiQL renders its editor and runs a query with every request staying on the platform', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const origin = new URL(platform.url).origin;
  const elsewhere: string[] = [];
  const violations: string[] = [];
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(`${origin}/`) && !/^(blob|data):/.test(url)) elsewhere.push(url);
  });
  // Workers (Monaco's) make requests outside the page's own events.
  page.context().on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(`${origin}/`) && !/^(blob|data):/.test(url) && !elsewhere.includes(url)) elsewhere.push(url);
  });
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  page.on('pageerror', (error) => violations.push(`page error: ${error.message}`));
  try {
    const response = await page.goto(`${platform.url}/graphql`);
    expect(response!.headers()['content-security-policy']).toMatch(/script-src 'self';/);
    await expect(page.title()).resolves.toBe('Terminal-Bench Harbor Runner');
    // The editor (Monaco) is up, not "Loading …".
    const editor = page.locator('.graphiql-query-editor .monaco-editor');
    await editor.waitFor({ timeout: 60_000 });
    await editor.click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.press('Delete');
    // Inserted as one piece: typed, Monaco would close each brace itself.
    await page.keyboard.insertText('{ health { ok } }');
    await page.locator('.graphiql-execute-button').click();
    await expect
      .poll(async () => (await page.locator('.graphiql-response').textContent()) ?? '', { timeout: 30_000 })
      .toMatch(/"ok":\s*true/);
    await screenshot(page, 'graphiql');
    expect(elsewhere).toEqual([]);
    expect(violations).toEqual([]);
  } finally {
    await page.close();
  }
}, 120_000);

test('the New job page offers the environment types the runners serve, and says why the others are unavailable', async () => {
  await page.goto(`${platform.url}/jobs/new`);
  const select = page.locator('select[data-environments]');
  await select.waitFor({ state: 'attached' });
  // The platform's runner serves docker only (RUNNER_ENVIRONMENT_TYPES): the 25 others are listed apart.
  await expect.poll(() => select.locator('optgroup option').count(), { timeout: 15_000 }).toBe(25);
  await expect(select.locator('option[value="daytona"]').textContent()).resolves.toMatch(/daytona — unavailable/);
  await page.locator('summary', { hasText: 'Harbor options' }).click();
  await page.locator('[data-unavailable-environments] summary').click();
  await expect(page.locator('[data-unavailable-environments]').textContent()).resolves.toMatch(/daytona: .*not in RUNNER_ENVIRONMENT_TYPES/);
});
