// Browser tests run against a platform that requires sign-in. startPlatform registers the first
// start's ADMIN here: fetch calls to the platform send its API token, and pages opened with
// `browser.newPage` (support/browser.ts) carry the session cookie the one-time login link gave.
// A test that wants another user opens its own context without them (`browser.newContext`).
import type { BrowserContext } from 'playwright-core';

const tokens = new Map<string, string>();
const cookies = new Map<string, string>();

/** fetch without the platform's credential. */
export const anonymousFetch: typeof fetch = globalThis.fetch.bind(globalThis);

const authedFetch: typeof fetch = (input, init) => {
  let origin: string | null = null;
  try {
    origin = new URL(typeof input === 'string' || input instanceof URL ? input : input.url).origin;
  } catch {
    // not a URL we know
  }
  const token = origin ? tokens.get(origin) : undefined;
  if (!token) return anonymousFetch(input, init);
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  return anonymousFetch(input, { ...init, headers });
};
if (globalThis.fetch !== authedFetch) globalThis.fetch = authedFetch;

/** Contexts of pages opened with `browser.newPage`: signed in to every platform, also ones started later. */
const signedInContexts = new Set<BrowserContext>();

export async function registerAdmin(url: string, token: string, sessionCookie: string): Promise<void> {
  const origin = new URL(url).origin;
  tokens.set(origin, token);
  cookies.set(origin, sessionCookie);
  for (const context of signedInContexts) await context.addCookies(adminCookies());
}

/** Signs the context in as the ADMIN of every platform started so far and from now on. */
export async function signInContext(context: BrowserContext): Promise<void> {
  signedInContexts.add(context);
  context.once('close', () => signedInContexts.delete(context));
  await context.addCookies(adminCookies());
}

export function forgetAdmin(url: string): void {
  const origin = new URL(url).origin;
  tokens.delete(origin);
  cookies.delete(origin);
}

/** The ADMIN's session cookies, for playwright's `context.addCookies`. */
export function adminCookies(): { name: string; value: string; url: string }[] {
  return [...cookies].map(([url, value]) => ({ name: 'thr_session', value, url }));
}

/** The first-start login link in the platform's output, consumed once: the session cookie it sets. */
export async function consumeLoginLink(output: string, url: string): Promise<string> {
  const link = /\/login\?once=([A-Za-z0-9_-]+)/.exec(output);
  if (!link) throw new Error(`the platform printed no login link:\n${output}`);
  const response = await anonymousFetch(`${url}/login?once=${link[1]}`, { redirect: 'manual' });
  const cookie = /^thr_session=([^;]+)/.exec(response.headers.get('set-cookie') ?? '');
  if (response.status !== 303 || !cookie) throw new Error(`the login link did not sign in (${response.status})`);
  return cookie[1]!;
}
