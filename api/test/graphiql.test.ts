// GraphiQL works without Internet access: the page refers only to this server's URLs, and those
// serve GraphiQL's scripts and styles from the installed package, to signed-in users, while
// GRAPHIQL is on. web/test/shell.test.ts renders it in Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_PATH } from '../src/app.js';
import { startTestApp, type TestApp } from './support/app.js';
import { rawRequest } from './support/http.js';

let api: TestApp;
beforeAll(async () => {
  api = await startTestApp();
});
afterAll(() => api?.close());

const page = (url: string, anonymous = false) => rawRequest(url, { path: GRAPHQL_PATH, headers: { accept: 'text/html' }, anonymous });

/** Every URL the page names in an attribute (src, href). */
const referencedUrls = (html: string) => [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);

describe('the GraphiQL page', () => {
  it('names only local assets and runs no inline script, under a CSP that allows scripts from this origin only', async () => {
    const answer = await page(api.url);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain('<title>Terminal-Bench Harbor Runner</title>');
    expect(answer.body).not.toMatch(/unpkg|cdn|https?:\/\/|__TITLE__/i);
    const urls = referencedUrls(answer.body);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const url of urls) expect(url).toMatch(/^\/graphiql\/[0-9a-f]{16}\/[\w.-]+$/);
    // The only script element without src carries data (the options), which a browser never runs.
    expect([...answer.body.matchAll(/<script(?![^>]*\bsrc=)([^>]*)>/g)].map((m) => m[1]!.trim())).toEqual(['type="application/json" id="graphiql-options"']);
    expect(JSON.parse(/<script type="application\/json" id="graphiql-options">(.*?)<\/script>/s.exec(answer.body)![1]!)).toMatchObject({ subscriptionsProtocol: 'WS' });
    expect(answer.headers['content-security-policy']).toMatch(/script-src 'self';/);
    expect(answer.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
  });

  it('serves those assets as JavaScript and CSS, gzipped on request, cached by content', async () => {
    const urls = referencedUrls((await page(api.url)).body);
    const script = urls.find((u) => u.endsWith('graphiql.js'))!;
    const style = urls.find((u) => u.endsWith('graphiql.css'))!;
    const js = await rawRequest(api.url, { path: script });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toMatch(/immutable/);
    // The bundle, started from the options element; Monaco's workers from this server too.
    expect(js.body).toContain('YogaGraphiQL.renderYogaGraphiQL');
    const workers = [...js.body.slice(0, 2000).matchAll(/"(\w+\.worker\.js)"/g)].map((m) => m[1]!);
    expect(workers.sort()).toEqual(['editor.worker.js', 'graphql.worker.js', 'json.worker.js']);
    const prefix = script.slice(0, script.lastIndexOf('/') + 1);
    for (const worker of workers) {
      const answer = await rawRequest(api.url, { path: `${prefix}${worker}` });
      expect(answer.status, worker).toBe(200);
      expect(answer.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(answer.body.length).toBeGreaterThan(10_000);
    }
    // fetch (the API's token goes along, support/auth.ts) asks for gzip and unpacks it.
    const css = await fetch(new URL(style, api.url));
    expect(css.status).toBe(200);
    expect(Object.fromEntries(css.headers)).toMatchObject({ 'content-type': 'text/css; charset=utf-8', 'content-encoding': 'gzip', vary: 'accept-encoding' });
    expect(await css.text()).toMatch(/\.graphiql-container/);
  });

  it('serves the assets to signed-in users only, and only the current ones', async () => {
    const [script] = referencedUrls((await page(api.url)).body).filter((u) => u.endsWith('.js'));
    expect((await rawRequest(api.url, { path: script!, anonymous: true })).status).toBe(401);
    expect((await rawRequest(api.url, { path: '/graphiql/0000000000000000/graphiql.js' })).status).toBe(404);
    expect((await rawRequest(api.url, { path: `${script!.slice(0, script!.lastIndexOf('/'))}/../../package.json` })).status).toBe(404);
  });
});

describe('GRAPHIQL=false', () => {
  it('serves no GraphiQL assets either', async () => {
    const off = await startTestApp({ edge: { graphiql: false } });
    try {
      const [script] = referencedUrls((await page(api.url)).body).filter((u) => u.endsWith('.js'));
      const answer = await rawRequest(off.url, { path: script! });
      expect(answer.status).toBe(404);
      expect(answer.body).toMatch(/GRAPHIQL=false/);
    } finally {
      await off.close();
    }
  });
});
