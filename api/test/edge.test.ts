// The hostile requests of issue 15 against a real API (PostgreSQL, NATS): each refused with a 4xx
// and a message, and the API still answering afterwards.
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GRAPHQL_PATH } from '../src/app.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { authParams } from './support/auth.js';
import { rawRequest } from './support/http.js';
import { zip as buildZip } from './support/task-zips.js';
import { uploadZips } from './support/upload.js';

const HEALTH = JSON.stringify({ query: '{ health { ok } }' });
const MiB = 1024 * 1024;

/** Job.runs → Run.job → Job.runs, `levels` deep, 30 per page: about 250 bytes for 4 levels. */
function nestedQuery(levels: number): string {
  let inner = 'id';
  for (let i = 0; i < levels; i++) inner = `runs(first:30){edges{node{job{${inner}}}}}`;
  return `{jobs(first:30){edges{node{${inner}}}}}`;
}

async function healthy(url: string): Promise<boolean> {
  const body = await graphql(url, '{ health { ok } }');
  return body.data?.health?.ok === true;
}

/** Opens a WebSocket and resolves with the HTTP status of a refused upgrade, or 101 when it opened. */
function upgrade(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers });
    socket.once('open', () => {
      socket.close();
      resolve({ status: 101, body: '' });
    });
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    socket.once('error', reject);
  });
}

/** Chunks of a JSON body that never ends below `total` bytes, sent without Content-Length. */
async function* chunked(total: number): AsyncGenerator<Buffer> {
  const chunk = Buffer.alloc(MiB, 'a');
  yield Buffer.from('{"query":"{ health { ok } }","variables":{"pad":"');
  for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
  yield Buffer.from('"}}');
}

function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('the hardened edge', () => {
  let api: TestApp;
  let port: string;

  beforeAll(async () => {
    api = await startTestApp({ edge: { corsOrigins: ['https://notebooks.example'] }, uploadLimits: { maxRequestBytes: 2 * MiB, maxFiles: 1000 } });
    port = new URL(api.url).port;
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers a malformed percent-encoding in a download path with 400 and stays up', async () => {
    for (const path of ['/jobs/%E0%A4%A/runs.csv', '/jobs/%E0%A4%A/tasks.json', '/runs/00000000-0000-4000-8000-000000000000/files/%E0%A4%A', '//', '//runs/x/log']) {
      const answer = await rawRequest(api.url, { path });
      expect(answer.status, path).toBeGreaterThanOrEqual(400);
      expect(answer.status, path).toBeLessThan(500);
    }
    const bad = await rawRequest(api.url, { path: '/jobs/%E0%A4%A/runs.csv' });
    expect(bad).toMatchObject({ status: 400, body: expect.stringContaining('percent-encoding') });
    expect(await healthy(api.url)).toBe(true);
  });

  it('refuses the nested 30-per-page query in under a second, with flat memory', async () => {
    const query = nestedQuery(4);
    expect(query.length).toBeLessThan(260);
    const before = memory();
    const started = Date.now();
    const body = await graphql(api.url, query);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(body.data).toBeUndefined();
    // Too deep and too costly; depth is checked first.
    expect(body.errors?.[0]?.message).toMatch(/depth limit of 12/);
    expect(memory() - before).toBeLessThan(64 * MiB);
  });

  it('refuses a query within the depth limit whose pages multiply past the cost limit, naming its cost', async () => {
    const body = await graphql(api.url, nestedQuery(2));
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/too costly.*about \d+ fields.*limit is 50000/), extensions: { code: 'QUERY_TOO_COMPLEX' } });
    // One level is an ordinary page and goes through.
    expect((await graphql(api.url, nestedQuery(1))).errors).toBeUndefined();
  });

  it('holds WebSocket operations to the same limits', async () => {
    const client = createClient({ url: api.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: authParams(api.url) });
    // A refusal in validation arrives as graphql-ws's error message, one at execution as a result.
    const outcome = (query: string) =>
      new Promise<unknown>((resolve) => {
        client.subscribe({ query }, { next: resolve, error: resolve, complete: () => {} });
      });
    try {
      expect(JSON.stringify(await outcome(nestedQuery(4)))).toMatch(/depth limit of 12/);
      expect(JSON.stringify(await outcome(nestedQuery(2)))).toMatch(/QUERY_TOO_COMPLEX/);
      expect(JSON.stringify(await outcome(`{ ${Array.from({ length: 40 }, (_, i) => `a${i}: health { ok }`).join(' ')} }`))).toMatch(/aliases/i);
      expect(await outcome('{ health { ok } }')).toMatchObject({ data: { health: { ok: true } } });
    } finally {
      await client.dispose();
    }
  });

  it('refuses a query deeper than the depth limit and one with too many aliases', async () => {
    const deep = await graphql(api.url, `{ jobs { edges { node { ${'runs { edges { node { job { '.repeat(3)} id ${'} } } }'.repeat(3)} } } } }`);
    expect(JSON.stringify(deep.errors)).toMatch(/depth/i);
    const aliases = await graphql(api.url, `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: health { ok }`).join(' ')} }`);
    expect(JSON.stringify(aliases.errors)).toMatch(/aliases/i);
  });

  it('answers a 50 MB JSON body with 413, declared or chunked, without holding it', async () => {
    const declared = await rawRequest(api.url, {
      method: 'POST',
      path: GRAPHQL_PATH,
      headers: { 'content-type': 'application/json', 'content-length': String(50 * MiB) },
      body: chunked(50 * MiB),
    });
    expect(declared.status).toBe(413);
    expect(declared.body).toMatch(/MAX_BODY_BYTES/);

    const before = memory();
    const streamed = await rawRequest(api.url, {
      method: 'POST',
      path: GRAPHQL_PATH,
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: chunked(50 * MiB),
    });
    expect(streamed.status).toBe(413);
    expect(memory() - before).toBeLessThan(32 * MiB);
    expect(await healthy(api.url)).toBe(true);
  });

  it('refuses multipart requests over UPLOAD_MAX_REQUEST_MB, with 1,001 files, or cut short, with a 4xx', async () => {
    const zip = { name: 'a.zip', bytes: await buildZip({ 'task/task.toml': 'x' }) };
    const big = await uploadZips(api.url, [{ name: 'big.zip', bytes: new Uint8Array(3 * MiB) }]);
    expect(big.status).toBe(413);
    expect(big.body).toMatch(/UPLOAD_MAX_REQUEST_MB/);
    const many = await uploadZips(api.url, Array.from({ length: 1001 }, () => zip));
    expect(many.status).toBeGreaterThanOrEqual(400);
    expect(many.status).toBeLessThan(500);
    expect(many.body).toMatchObject({ errors: [{ message: expect.stringMatching(/Files limit exceeded: 1000/) }] });

    const boundary = 'XBOUNDARY';
    const operations = JSON.stringify({ query: 'mutation($f:[Upload!]!){uploadTasks(files:$f){__typename}}', variables: { f: [null] } });
    const cut = [
      `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.f.0"]}\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="a.zip"\r\nContent-Type: application/zip\r\n\r\nPK\u0003\u0004 half a zip`,
    ].join('');
    const truncated = await rawRequest(api.url, {
      method: 'POST',
      path: GRAPHQL_PATH,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'x-graphql-yoga-csrf': '1' },
      body: cut,
    });
    expect(truncated.status).toBe(400);
    expect(truncated.body).toMatch(/could not be read/);
    expect(await healthy(api.url)).toBe(true);
  });

  it('refuses cross-site form-urlencoded and multipart POSTs (CSRF) and runs nothing', async () => {
    const mutation = 'mutation { setJobBudget(jobId: "00000000-0000-4000-8000-000000000000", budgetUsd: 1) { __typename } }';
    const form = await rawRequest(api.url, {
      method: 'POST',
      path: GRAPHQL_PATH,
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' },
      body: new URLSearchParams({ query: mutation }).toString(),
    });
    expect(form.status).toBe(403);
    expect(form.body).toMatch(/CSRF/);
    const boundary = 'B';
    const multipart = await rawRequest(api.url, {
      method: 'POST',
      path: GRAPHQL_PATH,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, origin: 'http://evil.example' },
      body: `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: mutation })}\r\n--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{}\r\n--${boundary}--\r\n`,
    });
    expect(multipart.status).toBe(403);
    const plain = await rawRequest(api.url, {
      method: 'POST',
      path: GRAPHQL_PATH,
      headers: { 'content-type': 'text/plain', origin: 'http://evil.example' },
      body: JSON.stringify({ query: mutation }),
    });
    expect(plain.status).toBe(403);
    // Scripts' JSON POSTs need no header: the content type already forces a browser preflight.
    expect(await healthy(api.url)).toBe(true);
  });

  it('sends CORS headers only to listed origins, never reflecting a foreign one', async () => {
    const preflight = (origin: string) =>
      rawRequest(api.url, {
        method: 'OPTIONS',
        path: GRAPHQL_PATH,
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
      });
    const evil = await preflight('http://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    const listed = await preflight('https://notebooks.example');
    expect(listed.status).toBe(204);
    expect(listed.headers).toMatchObject({ 'access-control-allow-origin': 'https://notebooks.example', 'access-control-allow-credentials': 'true' });
    expect(listed.headers['access-control-allow-headers']).toMatch(/authorization/);

    const post = (origin: string) =>
      rawRequest(api.url, { method: 'POST', path: GRAPHQL_PATH, headers: { origin, 'content-type': 'application/json' }, body: HEALTH });
    const foreign = await post('http://evil.example');
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    expect(foreign.headers['access-control-allow-credentials']).toBeUndefined();
    expect((await post('https://notebooks.example')).headers['access-control-allow-origin']).toBe('https://notebooks.example');
  });

  it('refuses a WebSocket from a foreign Origin with 403, and takes same-origin, listed and Origin-less ones', async () => {
    const refused = await upgrade(api.url, { origin: 'http://evil.example' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/evil\.example/);
    expect((await upgrade(api.url, { origin: `http://127.0.0.1:${port}` })).status).toBe(101);
    expect((await upgrade(api.url, { origin: 'https://notebooks.example' })).status).toBe(101);
    expect((await upgrade(api.url, {})).status).toBe(101);
  });

  it('refuses a foreign Host header (DNS rebinding) over HTTP and WebSocket, and serves the loopback names', async () => {
    const http = await rawRequest(api.url, { method: 'POST', path: GRAPHQL_PATH, headers: { host: `evil.example:${port}`, 'content-type': 'application/json' }, body: HEALTH });
    expect(http.status).toBe(421);
    expect(http.body).toMatch(/PUBLIC_URL or ALLOWED_HOSTS/);
    expect((await rawRequest(api.url, { path: '/jobs/x/runs.csv', headers: { host: 'evil.example' } })).status).toBe(421);
    expect((await upgrade(api.url, { host: `evil.example:${port}` })).status).toBe(421);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      const ok = await rawRequest(api.url, { method: 'POST', path: GRAPHQL_PATH, headers: { host, 'content-type': 'application/json' }, body: HEALTH });
      expect(ok.status, host).toBe(200);
    }
    expect((await rawRequest(api.url, { method: 'POST', path: GRAPHQL_PATH, headers: { host: 'localhost:1', 'content-type': 'application/json' }, body: HEALTH })).status).toBe(421);
  });

  it('sets security headers on API answers and downloads', async () => {
    const graphqlAnswer = await rawRequest(api.url, { method: 'POST', path: GRAPHQL_PATH, headers: { 'content-type': 'application/json' }, body: HEALTH });
    expect(graphqlAnswer.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'same-origin',
    });
    expect(graphqlAnswer.headers['content-security-policy']).toMatch(/default-src 'self';.*frame-ancestors 'none'/);
    const download = await rawRequest(api.url, { path: '/jobs/00000000-0000-4000-8000-000000000000/runs.csv' });
    expect(download.status).toBe(404);
    expect(download.headers['content-security-policy']).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
  });
});

describe('GRAPHIQL=false', () => {
  it('serves no GraphiQL page, while GraphQL still answers', async () => {
    const on = await startTestApp();
    const off = await startTestApp({ edge: { graphiql: false } });
    try {
      const page = (url: string) => rawRequest(url, { path: GRAPHQL_PATH, headers: { accept: 'text/html' } });
      expect((await page(on.url)).body).toMatch(/<html/i);
      const answer = await page(off.url);
      expect(answer.body).not.toMatch(/<html/i);
      expect(await healthy(off.url)).toBe(true);
    } finally {
      await Promise.all([on.close(), off.close()]);
    }
  });
});
