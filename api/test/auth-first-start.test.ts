// First start: with no users, an ADMIN with a token in DATA_DIR/admin.token (0600) and a one-time
// login link; ADMIN_TOKEN seeds that token instead, idempotently.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureFirstAdmin } from '../src/auth/first-start.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { anonymousFetch } from './support/auth.js';

let api: TestApp;
let dataDir: string;
const lines: string[] = [];
const log = (line: string) => lines.push(line);

beforeAll(async () => {
  api = await startTestApp();
});
afterAll(async () => {
  await api?.close();
});
beforeEach(async () => {
  // Start from no users at all, as a fresh install does (the test's own ADMIN goes too).
  await api.database.db.user.deleteMany();
  await api.database.db.loginLink.deleteMany();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'thr-data-'));
  lines.length = 0;
  return () => rm(dataDir, { recursive: true, force: true });
});

const ME = '{ me { name role } }';

describe('first start', () => {
  it('creates an ADMIN, writes its working token with mode 0600 and prints a one-time login link', async () => {
    const origin = new URL(api.url).origin;
    const first = await ensureFirstAdmin(api.database.db, { dataDir, publicUrl: origin, log });
    expect(first.created).toBe(true);
    const file = path.join(dataDir, 'admin.token');
    expect(first.tokenFile).toBe(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const token = (await readFile(file, 'utf8')).trim();
    expect((await graphql(api.url, ME, {}, { token })).data).toEqual({ me: { name: 'admin', role: 'ADMIN' } });
    expect(lines.join('\n')).toContain(`${origin}/login?once=`);

    // The link signs a browser in once, then never again.
    const link = first.loginUrl!;
    const used = await anonymousFetch(link, { redirect: 'manual' });
    expect(used.status).toBe(303);
    expect(used.headers.get('location')).toBe('/');
    const cookie = used.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^thr_session=.+; HttpOnly; SameSite=Lax/);
    const me = await anonymousFetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: cookie.split(';')[0]! },
      body: JSON.stringify({ query: ME }),
    });
    expect(((await me.json()) as any).data).toEqual({ me: { name: 'admin', role: 'ADMIN' } });
    const again = await anonymousFetch(link, { redirect: 'manual' });
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toMatch(/^\/login\?error=.*used%20already/);
    expect(again.headers.get('set-cookie')).toBeNull();

    // A second start with users in place changes nothing.
    const second = await ensureFirstAdmin(api.database.db, { dataDir, publicUrl: origin, log });
    expect(second).toEqual({ created: false, tokenFile: null, loginUrl: null });
    expect(await api.database.db.apiToken.count()).toBe(1);
  });

  it('seeds ADMIN_TOKEN once, however often the process restarts, and writes no token file', async () => {
    const adminToken = 'deployed-admin-token-0123456789abcdef';
    for (let start = 0; start < 3; start++) {
      await ensureFirstAdmin(api.database.db, { dataDir, adminToken, publicUrl: 'https://thr.example.com', log });
    }
    expect(await api.database.db.user.count()).toBe(1);
    expect(await api.database.db.apiToken.count()).toBe(1);
    await expect(stat(path.join(dataDir, 'admin.token'))).rejects.toThrow(/ENOENT/);
    expect(lines.filter((l) => l.includes('https://thr.example.com/login?once='))).toHaveLength(1);
    expect((await graphql(api.url, ME, {}, { token: adminToken })).data).toEqual({ me: { name: 'admin', role: 'ADMIN' } });
  });
});
