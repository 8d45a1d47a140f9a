// Every route of the API against hostile requests: malformed percent-encoding, NUL bytes, overlong
// paths, wrong methods, garbage bodies, absurd query strings. Each must be answered with a 4xx —
// whatever the route, and whether or not it asks for credentials first — never a 5xx, never a dead
// server; the API must still answer a health query afterwards. Web paths are fuzzed against the real
// web app in web/test/shell.test.ts; here a web handler that fails proves the last-resort guard.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebHandler } from '../src/app.js';
import { guarded } from '../src/edge/guard.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { rawRequest, type RawAnswer } from './support/http.js';

const RUN = '00000000-0000-4000-8000-000000000000';
const JOB = '00000000-0000-4000-8000-000000000001';

/** The routes, each with a placeholder segment the mutations below replace. */
const ROUTES = [
  `/graphql`,
  `/runs/${RUN}/log`,
  `/runs/${RUN}/files.zip`,
  `/runs/${RUN}/recording.cast`,
  `/runs/${RUN}/files/agent/SEG.txt`,
  `/jobs/SEG/runs.csv`,
  `/jobs/SEG/runs.json`,
  `/jobs/SEG/tasks.csv`,
  `/jobs/${JOB}/tasks.json`,
  `/SEG`,
];

const SEGMENTS = [
  '%E0%A4%A',
  '%',
  '%%',
  '%00',
  '%C0%AF',
  '%ZZ',
  'a\u0000b'.replace('\u0000', '%00'),
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e',
  '..',
  'x'.repeat(300),
  encodeURIComponent('é'.repeat(200)),
  '%uD800',
  '%ED%A0%80',
];

const QUERIES = [
  '',
  '?',
  '?%E0%A4%A',
  '?attempts=%ZZ&includeInfrastructure=%00',
  '?query=%E0%A4%A',
  '?query={health{ok}}&variables=%7B',
  '?download&download&download',
  `?${'a=1&'.repeat(2000)}`,
  `?${'x'.repeat(12_000)}`,
];

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND'];

const BODIES: { type: string; body: string }[] = [
  { type: 'application/json', body: '{' },
  { type: 'application/json', body: 'null' },
  { type: 'application/json', body: '[]' },
  { type: 'application/json', body: '[1,2,3]' },
  { type: 'application/json', body: '{"query":5}' },
  { type: 'application/json', body: '{"query":"{ health { ok } }","variables":"nope"}' },
  { type: 'application/json', body: '{"query":"\u0000"}' },
  { type: 'application/json', body: `{"query":"${'{'.repeat(5000)}"}` },
  { type: 'application/json', body: '{"query":"query($a:Int!){health{ok}}","variables":{"a":"x"}}' },
  { type: 'application/graphql', body: '{ health { ok } }' },
  { type: 'multipart/form-data; boundary=x', body: '--x\r\ngarbage' },
  { type: 'multipart/form-data', body: 'no boundary' },
  { type: 'application/octet-stream', body: '\u0000\u0001\u0002' },
  { type: 'text/plain', body: '{"query":"{ health { ok } }"}' },
  { type: 'application/json; charset=utf-7', body: '{"query":"{ health { ok } }"}' },
];

function isClientError(answer: RawAnswer): boolean {
  return answer.status >= 400 && answer.status < 500;
}

/** A web app with a bug on one path. */
const failingWeb: WebHandler = (req, _res, next) => {
  if (req.url?.startsWith('/web-throws')) throw new Error('the web handler threw');
  next();
};

describe('fuzzing every route', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers malformed paths and query strings on every route with a 4xx or a plain answer, never a 5xx', async () => {
    const failures: string[] = [];
    for (const route of ROUTES) {
      for (const segment of SEGMENTS) {
        for (const query of QUERIES) {
          const path = route.replace('SEG', segment) + query;
          const answer = await rawRequest(api.url, { path });
          if (answer.status === 0 || answer.status >= 500) failures.push(`GET ${path.slice(0, 120)} → ${answer.status} ${answer.body.slice(0, 200)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect((await graphql(api.url, '{ health { ok } }')).data?.health?.ok).toBe(true);
  });

  it('answers wrong methods and garbage bodies with a 4xx on every route', async () => {
    const failures: string[] = [];
    for (const route of ROUTES) {
      const path = route.replace('SEG', JOB);
      for (const method of METHODS.filter((m) => m !== 'GET' && m !== 'HEAD')) {
        for (const { type, body } of BODIES) {
          const answer = await rawRequest(api.url, { method, path, headers: { 'content-type': type, 'x-graphql-yoga-csrf': '1' }, body });
          // GraphQL reads some of these as valid operations (application/graphql, an unknown charset).
          const ok = isClientError(answer) || (route === '/graphql' && method === 'POST' && answer.status === 200);
          if (!ok) failures.push(`${method} ${path} (${type}: ${body.slice(0, 40)}) → ${answer.status} ${answer.body.slice(0, 200)}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect((await graphql(api.url, '{ health { ok } }')).data?.health?.ok).toBe(true);
  });

  it('answers an overlong path (64 KB), NUL bytes in the target and a bare "*" with a 4xx', async () => {
    for (const path of [`/${'a'.repeat(64 * 1024)}`, `/runs/${RUN}/files/${'a/'.repeat(32 * 1024)}`, `/graphql?query=${'x'.repeat(64 * 1024)}`, '*', '/jobs/%00/runs.csv']) {
      const answer = await rawRequest(api.url, { path });
      expect(isClientError(answer), `${path.slice(0, 60)} → ${answer.status}`).toBe(true);
    }
    expect((await graphql(api.url, '{ health { ok } }')).data?.health?.ok).toBe(true);
  });
});

describe('the last-resort guard', () => {
  it('answers 500 for a route that throws, logs it, and keeps serving', async () => {
    const logged: string[] = [];
    const api = await startTestApp({ web: failingWeb, log: (line) => logged.push(line) });
    try {
      const thrown = await rawRequest(api.url, { path: '/web-throws' });
      expect(thrown.status).toBe(500);
      expect(logged.join('\n')).toMatch(/GET \/web-throws failed: Error: the web handler threw/);
      expect((await graphql(api.url, '{ health { ok } }')).data?.health?.ok).toBe(true);
    } finally {
      await api.close();
    }
  });

  it('answers 500 for a handler whose promise rejects, and 500 is not sent twice', async () => {
    const logged: string[] = [];
    const server = createServer(
      guarded(async (req, res) => {
        if (req.url === '/half') res.writeHead(200).write('partial');
        throw new Error(`failed on ${req.url}`);
      }, (line) => logged.push(line)),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await rawRequest(url, { path: '/whole' })).toMatchObject({ status: 500, body: expect.stringMatching(/internal error/) });
      // Headers already sent: the connection is cut rather than a second answer written into the body.
      expect(await rawRequest(url, { path: '/half' })).toMatchObject({ status: 200, body: 'partial' });
      expect(logged).toHaveLength(2);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
