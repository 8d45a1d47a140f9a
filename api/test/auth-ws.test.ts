// WebSocket authentication: onConnect refuses a socket without a valid credential, and an open
// subscription ends (close 4401) when its token is revoked or expires.
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { anonymousFetch, createUserWithToken } from './support/auth.js';
import { waitFor } from 'runner/test-support';

let api: TestApp;

beforeAll(async () => {
  // A short re-check interval so an expiring token is noticed within the test's bound.
  api = await startTestApp({ wsRecheckMs: 200 });
});
afterAll(async () => {
  await api?.close();
});

/** A graphql-ws client whose sockets carry extra upgrade headers (a browser's cookie). */
function client(connectionParams?: Record<string, unknown>, headers?: Record<string, string>) {
  const closes: { code: number; reason: string }[] = [];
  const Impl = class extends WebSocket {
    constructor(url: string, protocols: string | string[]) {
      super(url, protocols, { headers });
    }
  };
  const c = createClient({
    url: api.url.replace(/^http/, 'ws'),
    webSocketImpl: Impl,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => closes.push({ code: (event as CloseEvent).code, reason: (event as CloseEvent).reason }) },
  });
  return { client: c, closes };
}

/** Subscribes to health every second; resolves with the first event or the error that ended it. */
function subscribe(c: Client) {
  const events: unknown[] = [];
  let ended: unknown = null;
  const done = new Promise<void>((resolve) => {
    c.subscribe(
      { query: 'subscription { health(intervalSeconds: 1) { ok } }' },
      {
        next: (value) => events.push(value),
        error: (error) => {
          ended = error;
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  return { events, done, ended: () => ended };
}

describe('graphql-ws authentication', () => {
  it('closes a socket with 4401 when connection_init carries no credential or a bad one', async () => {
    for (const params of [undefined, { authorization: 'Bearer thr_nope-nope-nope-nope-nope-nope' }, { authorization: 42 }]) {
      const { client: c, closes } = client(params as Record<string, unknown> | undefined);
      const sub = subscribe(c);
      await sub.done;
      expect(sub.events).toEqual([]);
      expect(closes[0]?.code).toBe(4401);
      expect(closes[0]?.reason).toMatch(/sign in or send|must be a string/);
      await c.dispose();
    }
  });

  it('accepts the session cookie of the upgrade request', async () => {
    await graphql(api.url, `mutation { createUser(input: { name: "webby", role: VIEWER, password: "a long password" }) { __typename } }`);
    const response = await anonymousFetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { login(input: { name: "webby", password: "a long password" }) { name } }' }),
    });
    const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
    const { client: c } = client(undefined, { cookie });
    const sub = subscribe(c);
    await waitFor(() => sub.events.length > 0, { what: 'a health event over the cookie-authenticated socket', timeoutMs: 10_000 });
    expect(sub.events[0]).toEqual({ data: { health: { ok: true } } });
    await c.dispose();
  });

  it('ends an open subscription with 4401 when its token is revoked', async () => {
    const member = await createUserWithToken(api.database.db, 'MEMBER', 'ws-member');
    const { client: c, closes } = client({ authorization: `Bearer ${member.token}` });
    const sub = subscribe(c);
    await waitFor(() => sub.events.length > 0, { what: 'the first health event', timeoutMs: 10_000 });
    const revoked = await graphql(api.url, `mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }`, { id: member.tokenId }, member);
    expect(revoked.data.revokeApiToken.__typename).toBe('MutationRevokeApiTokenSuccess');
    await sub.done;
    expect(closes.at(-1)).toEqual({ code: 4401, reason: 'the API token was revoked' });
    await c.dispose();
  });

  it('ends an open subscription with 4401 when its token expires', async () => {
    const member = await createUserWithToken(api.database.db, 'MEMBER', 'ws-expiring', { expiresAt: new Date(Date.now() + 1500) });
    const { client: c, closes } = client({ authorization: `Bearer ${member.token}` });
    const sub = subscribe(c);
    await waitFor(() => sub.events.length > 0, { what: 'the first health event', timeoutMs: 10_000 });
    await sub.done;
    expect(closes.at(-1)).toEqual({ code: 4401, reason: 'the API token expired' });
    await c.dispose();
  }, 20_000);
});
