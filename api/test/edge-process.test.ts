// The hostile requests of issue 15 against the API as a real process (api/src/main.ts, as `npm start`
// runs it): the process survives every one, refuses the nested query and 50 MB bodies, and its
// resident memory stays flat while it does (read from /proc, Linux).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../src/platform/ports.js';
import { graphql } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { rawRequest } from './support/http.js';
import { createTestNats, type TestNats } from './support/nats.js';
import { cleanEnv, startEntry, type Started } from './support/process.js';

const MiB = 1024 * 1024;

let database: TestDatabase;
let nats: TestNats;
let dir: string;
let api: Started;
let url: string;

async function rss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

async function* chunked(total: number): AsyncGenerator<Buffer> {
  const chunk = Buffer.alloc(MiB, 'a');
  yield Buffer.from('{"query":"{ health { ok } }","variables":{"pad":"');
  for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
  yield Buffer.from('"}}');
}

beforeAll(async () => {
  [database, nats, dir] = await Promise.all([createTestDatabase(), createTestNats(), mkdtemp(path.join(os.tmpdir(), 'thr-edge-'))]);
  const port = await freePort();
  api = startEntry(
    'api/src/main.ts',
    cleanEnv({
      DATABASE_URL: database.url,
      NATS_URL: nats.url,
      NATS_PREFIX: nats.prefix,
      PORT: String(port),
      DATA_DIR: dir,
      WEB_DIR: path.join(dir, 'no-web'),
    }),
  );
  await api.waitFor(/GraphQL \(HTTP and WebSocket\) at/, 90_000);
  url = `http://127.0.0.1:${port}/graphql`;
});

afterAll(async () => {
  if (api && api.child.exitCode === null) {
    api.child.kill('SIGTERM');
    await api.exited;
  }
  await nats?.cleanup();
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('survives the malformed URL, refuses the nested query and four 50 MB bodies, with flat memory', async () => {
  const pid = api.child.pid!;
  expect((await rawRequest(url, { path: '/jobs/%E0%A4%A/runs.csv' })).status).toBe(400);

  // Warm: the first operation of a process pays for loading and compiling what it touches.
  expect((await graphql(url, '{ health { ok } }')).data?.health?.ok).toBe(true);
  const baseline = await rss(pid);
  let inner = 'id';
  for (let i = 0; i < 4; i++) inner = `runs(first:30){edges{node{job{${inner}}}}}`;
  const started = Date.now();
  const nested = await graphql(url, `{jobs(first:30){edges{node{${inner}}}}}`);
  const nestedMs = Date.now() - started;
  expect(nested.errors?.[0]?.message).toMatch(/depth limit/);
  expect(nestedMs).toBeLessThan(1_000);
  const afterNested = await rss(pid);

  const bodies = await Promise.all(
    Array.from({ length: 4 }, () =>
      rawRequest(url, { method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, body: chunked(50 * MiB) }),
    ),
  );
  expect(bodies.map((b) => b.status)).toEqual([413, 413, 413, 413]);
  const afterBodies = await rss(pid);
  console.log(
    `API RSS: ${(baseline / MiB).toFixed(0)} MiB before, ${(afterNested / MiB).toFixed(0)} MiB after the nested query (${nestedMs} ms), ` +
      `${(afterBodies / MiB).toFixed(0)} MiB after four 50 MB bodies`,
  );
  // Generous: before the limits, the nested query took the heap to 4 GB and the bodies held 200 MB+.
  expect(afterNested - baseline).toBeLessThan(64 * MiB);
  expect(afterBodies - baseline).toBeLessThan(100 * MiB);

  expect((await graphql(url, '{ health { ok } }')).data?.health?.ok).toBe(true);
  expect(api.child.exitCode).toBeNull();
  expect(api.output()).not.toMatch(/uncaught|unhandled/);
});
