// Accounts, sessions and API tokens over HTTP: who may call what, and how credentials end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPath } from '../src/exports/http.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { anonymousFetch, bearer, createUserWithToken } from './support/auth.js';
import { tb2Task, under, zip } from './support/task-zips.js';
import { uploadZips } from './support/upload.js';

let api: TestApp;
let viewer: { userId: string; token: string };
let alice: { userId: string; token: string; tokenId: string };
let bob: { userId: string; token: string };

beforeAll(async () => {
  api = await startTestApp();
  viewer = await createUserWithToken(api.database.db, 'VIEWER', 'vera');
  alice = await createUserWithToken(api.database.db, 'MEMBER', 'alice');
  bob = await createUserWithToken(api.database.db, 'MEMBER', 'bob');
});
afterAll(async () => {
  await api?.close();
});

const ME = '{ me { id name role } }';
const CREATE_JOB = `mutation($input: CreateJobInput!) { createJob(input: $input) { ... on MutationCreateJobSuccess { data { id createdBy { name } } } ... on Error { code message } } }`;

async function task(name: string): Promise<string> {
  const row = await api.database.db.task.create({ data: { contentHash: name.padEnd(64, '0').slice(0, 64), name, instruction: 'x', sizeBytes: 1n, fileCount: 1 } });
  return row.id;
}

function codeOf(result: { errors?: { extensions?: { code?: string } }[] }) {
  return result.errors?.[0]?.extensions?.code;
}

describe('anonymous callers', () => {
  it('get UNAUTHENTICATED on queries, mutations and introspection, but may check health', async () => {
    const anon = { token: null };
    const read = await graphql(api.url, '{ jobs { totalCount } }', {}, anon);
    expect(read.data ?? null).toBeNull();
    expect(codeOf(read)).toBe('UNAUTHENTICATED');
    expect(read.errors![0]!.message).toMatch(/sign in or send an API token/);
    const taskId = await task('anon-task');
    const launch = await graphql(api.url, CREATE_JOB, { input: { agent: 'oracle', taskIds: [taskId] } }, anon);
    expect(codeOf(launch)).toBe('UNAUTHENTICATED');
    expect(await api.database.db.job.count()).toBe(0);
    expect(codeOf(await graphql(api.url, '{ __schema { queryType { name } } }', {}, anon))).toBe('UNAUTHENTICATED');
    expect(codeOf(await graphql(api.url, ME, {}, anon))).toBe('UNAUTHENTICATED');
    expect((await graphql(api.url, '{ health { ok } }', {}, anon)).data).toEqual({ health: { ok: true } });
  });

  it('get 401 naming the problem on every download route', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const origin = new URL(api.url).origin;
    for (const path of [`/runs/${id}/log`, exportPath(id, 'runs', 'csv'), `/runs/${id}/files.zip`, `/runs/${id}/files/agent/x.txt`]) {
      const response = await anonymousFetch(`${origin}${path}`);
      expect(response.status, path).toBe(401);
      expect(await response.text(), path).toMatch(/sign in or send an API token \(Authorization: Bearer <token>\)/);
      const expired = await anonymousFetch(`${origin}${path}`, { headers: bearer('thr_not-a-real-token-at-all-000000') });
      expect(expired.status).toBe(401);
      expect(await expired.text()).toMatch(/the API token is not valid/);
    }
    // With a token, the same route answers as before (404: no such run).
    expect((await fetch(`${origin}/runs/${id}/log`)).status).toBe(404);
  });
});

describe('roles', () => {
  it('let a VIEWER read but not launch: FORBIDDEN with the reason', async () => {
    expect((await graphql(api.url, ME, {}, viewer)).data).toEqual({ me: { id: viewer.userId, name: 'vera', role: 'VIEWER' } });
    expect((await graphql(api.url, '{ jobs { totalCount } }', {}, viewer)).errors).toBeUndefined();
    const taskId = await task('viewer-task');
    const launch = await graphql(api.url, CREATE_JOB, { input: { agent: 'oracle', taskIds: [taskId] } }, viewer);
    expect(codeOf(launch)).toBe('FORBIDDEN');
    expect(launch.errors![0]!.message).toBe('VIEWER may not run mutation createJob; needs ADMIN or MEMBER');
    const upload = await graphql(api.url, 'mutation { deleteTask(id: "00000000-0000-4000-8000-000000000000") { __typename } }', {}, viewer);
    expect(codeOf(upload)).toBe('FORBIDDEN');
  });

  it("let a MEMBER act on their own job but not on another's; an ADMIN on any", async () => {
    const taskId = await task('member-task');
    const created = await graphql(api.url, CREATE_JOB, { input: { agent: 'oracle', taskIds: [taskId] } }, alice);
    const job = created.data.createJob.data;
    expect(job.createdBy).toEqual({ name: 'alice' });
    expect((await api.database.db.job.findUniqueOrThrow({ where: { id: job.id } })).createdById).toBe(alice.userId);

    for (const mutation of [
      `mutation($id: ID!) { cancelJob(id: $id) { __typename } }`,
      `mutation($id: ID!) { setJobBudget(id: $id, budgetUsd: 5) { __typename } }`,
      `mutation($id: ID!) { retryRuns(jobId: $id, which: UNSUCCESSFUL) { __typename } }`,
      `mutation($id: ID!) { deleteJob(id: $id) { __typename } }`,
    ]) {
      const refused = await graphql(api.url, mutation, { id: job.id }, bob);
      expect(codeOf(refused), mutation).toBe('FORBIDDEN');
      expect(refused.errors![0]!.message).toMatch(/^only its creator or an ADMIN may /);
    }
    const run = await api.database.db.run.findFirstOrThrow({ where: { jobId: job.id } });
    expect(codeOf(await graphql(api.url, `mutation($id: ID!) { cancelRun(id: $id) { __typename } }`, { id: run.id }, bob))).toBe('FORBIDDEN');
    expect((await api.database.db.job.findUniqueOrThrow({ where: { id: job.id } })).budgetUsd).toBeNull();

    const own = await graphql(api.url, `mutation($id: ID!) { setJobBudget(id: $id, budgetUsd: 5) { __typename } }`, { id: job.id }, alice);
    expect(own.data).toEqual({ setJobBudget: { __typename: 'MutationSetJobBudgetSuccess' } });
    const admin = await graphql(api.url, `mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: job.id });
    expect(admin.data).toEqual({ cancelJob: { __typename: 'MutationCancelJobSuccess' } });
  });

  it('leave a job without a creator to ADMINs', async () => {
    const taskId = await task('orphan-task');
    const created = await graphql(api.url, CREATE_JOB, { input: { agent: 'oracle', taskIds: [taskId] } });
    await api.database.db.job.update({ where: { id: created.data.createJob.data.id }, data: { createdById: null } });
    const refused = await graphql(api.url, `mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: created.data.createJob.data.id }, alice);
    expect(codeOf(refused)).toBe('FORBIDDEN');
  });

  it('record the first uploader of a task', async () => {
    const upload = await uploadZips(api.url, [{ name: 'owned.zip', bytes: await zip(under('owned', tb2Task('owned'))) }]);
    const id = upload.body.data.uploadTasks.data.files[0].tasks[0].task.id;
    const read = await graphql(api.url, `query($id: ID!) { task(id: $id) { createdBy { name role } } }`, { id });
    expect(read.data.task.createdBy).toEqual({ name: 'test-admin', role: 'ADMIN' });
    const bobDelete = await graphql(api.url, `mutation($id: ID!) { deleteTask(id: $id) { __typename } }`, { id }, bob);
    expect(codeOf(bobDelete)).toBe('FORBIDDEN');
  });

  it('keep users to ADMINs', async () => {
    const listed = await graphql(api.url, '{ users { totalCount edges { node { name role } } } }', {}, alice);
    expect(codeOf(listed)).toBe('FORBIDDEN');
    expect(listed.errors![0]!.message).toBe('MEMBER may not run query users; needs ADMIN');
    const created = await graphql(api.url, `mutation { createUser(input: { name: "Mallory", role: ADMIN }) { __typename } }`, {}, alice);
    expect(codeOf(created)).toBe('FORBIDDEN');
    const all = await graphql(api.url, '{ users { edges { node { name role } } } }');
    expect(all.data.users.edges.map((e: any) => e.node.name)).toEqual(expect.arrayContaining(['alice', 'bob', 'test-admin', 'vera']));
  });
});

describe('API tokens', () => {
  const CREATE = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) {
    __typename ... on MutationCreateApiTokenSuccess { token apiToken { id name prefix expiresAt lastUsedAt user { name } } } ... on Error { code message } } }`;

  it('are shown once, stored hashed, work as Bearer, list their last use and can be revoked', async () => {
    const created = await graphql(api.url, CREATE, { input: { name: 'notebook' } }, alice);
    const { token, apiToken } = created.data.createApiToken;
    expect(created.data.createApiToken.__typename).toBe('MutationCreateApiTokenSuccess');
    expect(token).toMatch(/^thr_[A-Za-z0-9_-]{43}$/);
    expect(apiToken).toMatchObject({ name: 'notebook', prefix: token.slice(0, 10), lastUsedAt: null, user: { name: 'alice' } });
    const row = await api.database.db.apiToken.findUniqueOrThrow({ where: { id: apiToken.id } });
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(token.slice(10));

    expect((await graphql(api.url, ME, {}, { token })).data.me.name).toBe('alice');
    const listed = await graphql(api.url, '{ apiTokens { id lastUsedAt revokedAt } }', {}, alice);
    expect(listed.data.apiTokens.find((t: any) => t.id === apiToken.id).lastUsedAt).not.toBeNull();

    const bobRevokes = await graphql(api.url, `mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }`, { id: apiToken.id }, bob);
    expect(codeOf(bobRevokes)).toBe('FORBIDDEN');
    const revoked = await graphql(api.url, `mutation($id: ID!) { revokeApiToken(id: $id) { ... on MutationRevokeApiTokenSuccess { data { revokedAt } } } }`, { id: apiToken.id }, alice);
    expect(revoked.data.revokeApiToken.data.revokedAt).not.toBeNull();
    const refused = await graphql(api.url, ME, {}, { token });
    expect(codeOf(refused)).toBe('UNAUTHENTICATED');
    expect(refused.errors![0]!.message).toMatch(/the API token "notebook" was revoked/);
    const audit = await api.database.db.auditEvent.findMany({ where: { targetId: apiToken.id }, orderBy: { at: 'asc' } });
    expect(audit.map((a) => [a.action, a.actorName])).toEqual([['TOKEN_CREATED', 'alice'], ['TOKEN_REVOKED', 'alice']]);
  });

  it('refuse an expired token, and let only an ADMIN make tokens for someone else', async () => {
    const expired = await createUserWithToken(api.database.db, 'MEMBER', 'expiring', { expiresAt: new Date(Date.now() - 1000) });
    const refused = await graphql(api.url, ME, {}, expired);
    expect(codeOf(refused)).toBe('UNAUTHENTICATED');
    expect(refused.errors![0]!.message).toMatch(/expired at/);

    const forBob = await graphql(api.url, CREATE, { input: { name: 'x', userId: bob.userId } }, alice);
    expect(codeOf(forBob)).toBe('FORBIDDEN');
    const byAdmin = await graphql(api.url, CREATE, { input: { name: 'ci', userId: bob.userId, expiresAt: new Date(Date.now() + 3600_000).toISOString() } });
    expect(byAdmin.data.createApiToken.apiToken.user).toEqual({ name: 'bob' });
    const past = await graphql(api.url, CREATE, { input: { name: 'old', expiresAt: '2020-01-01T00:00:00.000Z' } }, alice);
    expect(past.data.createApiToken).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
  });

  it('stop working when their user is disabled', async () => {
    const carol = await createUserWithToken(api.database.db, 'MEMBER', 'carol');
    const disabled = await graphql(api.url, `mutation($id: ID!) { updateUser(input: { id: $id, disabled: true }) { ... on MutationUpdateUserSuccess { data { disabled } } } }`, { id: carol.userId });
    expect(disabled.data.updateUser.data.disabled).toBe(true);
    const refused = await graphql(api.url, ME, {}, carol);
    expect(refused.errors![0]!.message).toMatch(/the account carol is disabled/);
  });
});

describe('web sessions', () => {
  async function login(name: string, password: string) {
    return anonymousFetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation($i: LoginInput!) { login(input: $i) { name role } }', variables: { i: { name, password } } }),
    });
  }

  async function withCookie(cookie: string, query: string) {
    const response = await anonymousFetch(api.url, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ query }) });
    return (await response.json()) as any;
  }

  it('sign in with an argon2id password into an HttpOnly SameSite=Lax cookie, and logout ends the session server-side', async () => {
    const made = await graphql(api.url, `mutation { createUser(input: { name: "Dana", role: MEMBER, password: "correct horse battery" }) { ... on MutationCreateUserSuccess { data { id name hasPassword } } } }`);
    expect(made.data.createUser.data).toMatchObject({ name: 'dana', hasPassword: true });
    const user = await api.database.db.user.findUniqueOrThrow({ where: { name: 'dana' } });
    expect(user.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    const wrong = await login('dana', 'wrong password!');
    expect(((await wrong.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await api.database.db.auditEvent.count({ where: { action: 'LOGIN_FAILED', actorName: 'dana' } })).toBe(1);

    const response = await login('DANA', 'correct horse battery');
    expect(((await response.json()) as any).data).toEqual({ login: { name: 'dana', role: 'MEMBER' } });
    const setCookie = response.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^thr_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    const cookie = setCookie.split(';')[0]!;
    expect((await withCookie(cookie, ME)).data.me.name).toBe('dana');

    const out = await withCookie(cookie, 'mutation { logout }');
    expect(out.data).toEqual({ logout: true });
    const session = await api.database.db.session.findFirstOrThrow({ where: { userId: user.id } });
    expect(session.revokedAt).not.toBeNull();
    const after = await withCookie(cookie, ME);
    expect(after.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(after.errors[0].message).toMatch(/the session has ended/);
    expect((await api.database.db.auditEvent.findMany({ where: { actorName: 'dana' }, select: { action: true } })).map((a) => a.action).sort()).toEqual([
      'LOGIN',
      'LOGIN_FAILED',
      'LOGOUT',
    ]);
  });

  it('serve GraphiQL only to a signed-in browser', async () => {
    const page = (headers: Record<string, string>) => anonymousFetch(api.url, { headers: { accept: 'text/html', ...headers } });
    const anonymous = await page({});
    expect(await anonymous.text()).not.toContain('<title>Terminal-Bench Harbor Runner</title>');
    const signedIn = await page(bearer(api.admin.token));
    expect(await signedIn.text()).toContain('<title>Terminal-Bench Harbor Runner</title>');
  });
});
