// Debian's Chromium driven by playwright-core (no browser download), one context per test file.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { signInContext } from './auth.js';
import { repoRoot } from './platform.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots of every page the tests visit: kept as CI artifacts, copied to docs/screenshots. */
export const ARTIFACTS = path.join(repoRoot, 'web/test-results');

/** Chromium whose `newPage` pages are signed in as the platform's ADMIN (support/auth.ts). */
export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (options) => {
    const page = await newPage(options);
    await signInContext(page.context());
    return page;
  };
  return browser;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  // A full-page capture of a scrolled window paints the sticky header mid-page; capture from the top.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
