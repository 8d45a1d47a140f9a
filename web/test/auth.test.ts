// Sign-in in the browser: the login page, a token made on "My tokens", and what a VIEWER sees on a
// job they may read but not change.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { anonymousFetch } from './support/auth.js';
import { launchBrowser, screenshot } from './support/browser.js';
import { startPlatform, type Platform } from './support/platform.js';
import { uploadTasks } from './support/upload.js';

let platform: Platform;
let browser: Browser;

beforeAll(async () => {
  platform = await startPlatform();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

async function createUser(name: string, role: 'MEMBER' | 'VIEWER', password: string) {
  const data = await platform.graphql(
    `mutation ($input: CreateUserInput!) { createUser(input: $input) { __typename ... on Error { message } } }`,
    { input: { name, role, password } },
  );
  expect(data.createUser.__typename).toBe('MutationCreateUserSuccess');
}

/** A fresh browser context with no session, signed in through the login page. */
async function signInAs(name: string, password: string, path: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${platform.url}${path}`);
  await page.waitForURL(`**/login?next=${encodeURIComponent(path)}`);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${platform.url}${path}`);
  return page;
}

test('a page without a session goes to the login page, which signs in and comes back', async () => {
  await createUser('mia', 'MEMBER', 'a long password 1');
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${platform.url}/login`);
  await page.getByLabel('Name').fill('mia');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'wrong name or password' }).waitFor();
  await screenshot(page, 'login');
  await context.close();

  const signedIn = await signInAs('mia', 'a long password 1', '/jobs');
  const user = signedIn.getByLabel('Signed in user');
  await user.getByText('mia').waitFor();
  await expect(user.textContent()).resolves.toMatch(/mia\s*MEMBER/);
  await signedIn.locator('[data-connection="live"]').waitFor();
  // The session cookie is HttpOnly: scripts in the page cannot read it.
  await expect(signedIn.evaluate(() => document.cookie)).resolves.not.toContain('thr_session');

  await user.getByRole('button', { name: 'Sign out' }).click();
  // The login page, once: the socket closing (4401) as the session ends starts no second navigation.
  await signedIn.waitForURL(`${platform.url}/login`);
  await signedIn.goto(`${platform.url}/tasks`);
  await signedIn.waitForURL('**/login?next=%2Ftasks');
  await signedIn.context().close();
});

test('My tokens creates a token, shows it once, and revokes it', async () => {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(`${platform.url}/settings/tokens`);
  await page.getByLabel('Name').fill('browser test');
  await page.getByLabel('Expires after (days)').fill('7');
  await page.getByRole('button', { name: 'Create token' }).click();
  const shown = page.getByTestId('new-token');
  await shown.waitFor();
  const token = (await shown.textContent())!.trim();
  expect(token).toMatch(/^thr_[A-Za-z0-9_-]{43}$/);
  const row = page.locator('tr', { hasText: 'browser test' });
  await expect(row.textContent()).resolves.toContain(token.slice(0, 10));
  await screenshot(page, 'tokens');

  const me = async () =>
    (await (
      await anonymousFetch(`${platform.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { name role } }' }),
      })
    ).json()) as any;
  expect((await me()).data).toEqual({ me: { name: 'admin', role: 'ADMIN' } });

  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await row.getByText(/^revoked/).waitFor();
  expect((await me()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  await page.close();
});

test("a VIEWER reads a job but its actions are disabled with the reason", async () => {
  const ids = await uploadTasks(platform.url, [{ name: 'viewer-sees', sim: { HARBOR_SIM_SCENARIO: 'pass' } }]);
  const created = await platform.graphql(
    `mutation ($input: CreateJobInput!) { createJob(input: $input) { ... on MutationCreateJobSuccess { data { id } } } }`,
    { input: { taskIds: [ids['viewer-sees']], agent: 'oracle', runsPerTask: 1, name: 'viewer job' } },
  );
  const jobId = created.createJob.data.id as string;
  await createUser('vic', 'VIEWER', 'a long password 2');
  const page = await signInAs('vic', 'a long password 2', `/jobs/${jobId}`);
  await page.getByRole('heading', { name: /viewer job/ }).waitFor();
  await page.getByLabel('Signed in user').getByText('vic').waitFor();

  const reason = /Read-only access \(VIEWER\)/;
  for (const name of [/^Retry failed/, /^Retry infrastructure/, /Set a budget|Change budget/, /^Launch again/]) {
    const button = page.getByRole('button', { name });
    await expect(button.isDisabled(), String(name)).resolves.toBe(true);
    await expect(button.getAttribute('title')).resolves.toMatch(reason);
  }
  await screenshot(page, 'viewer-job');

  await page.goto(`${platform.url}/tasks`);
  await page.getByLabel('Signed in user').getByText('vic').waitFor();
  const upload = page.getByRole('button', { name: 'Choose zip files…' });
  await expect(upload.isDisabled()).resolves.toBe(true);
  await expect(upload.getAttribute('title')).resolves.toMatch(reason);
  await expect(page.getByRole('link', { name: 'Users' }).count()).resolves.toBe(0);
  await page.context().close();
});
