// The app shell against the real platform: pages load from the API's port, the connection turns
// live, and the runners page lists the platform's runner from its heartbeats.
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
  await screenshot(page, 'runners');
});
