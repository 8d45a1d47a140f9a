import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { buildApp, type AppDeps } from '../src/app.js';
import { createDb } from '../src/db/client.js';
import { freePort } from '../src/platform/ports.js';
import { TaskStore } from '../src/tasks/store.js';
import { defaultUploadLimits, startTestApp, type TestApp } from './support/app.js';
import { createTestNats, type TestNats } from './support/nats.js';
import { authParams } from './support/auth.js';

const baseDeps = (nats: TestNats): Omit<AppDeps, 'db'> => ({
  nats: nats.nc,
  topology: nats.topology,
  taskStore: new TaskStore('/nonexistent'),
  uploadLimits: defaultUploadLimits,
  secretsKey: null,
  jobsDir: '/nonexistent',
  shutdownGraceMs: 1_000,
});

const HEALTH = '{ health { ok version database { ok latencyMs message } nats { ok latencyMs message } } }';

async function post(url: string, query: string, variables?: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

function wsClient(url: string): Client {
  return createClient({ url: url.replace(/^http/, 'ws'), connectionParams: authParams(url), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
}

/** Subscribes and resolves with the first result or rejects with the first error. */
function first(client: Client, query: string): Promise<{ data?: any; errors?: readonly { message: string }[] }> {
  return new Promise((resolve, reject) => {
    const unsubscribe = client.subscribe(
      { query },
      {
        next: (value) => {
          unsubscribe();
          resolve(value as never);
        },
        error: reject,
        complete: () => {},
      },
    );
  });
}

describe('API app', () => {
  let api: TestApp;
  let url: string;

  beforeAll(async () => {
    api = await startTestApp();
    url = api.url;
  });
  afterAll(() => api?.close());

  it('reports the database and JetStream healthy over HTTP', async () => {
    const { data, errors } = await post(url, HEALTH);
    expect(errors).toBeUndefined();
    expect(data.health.ok).toBe(true);
    expect(data.health.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(data.health.database).toMatchObject({ ok: true, message: expect.stringMatching(/^PostgreSQL \d+/) });
    expect(data.health.nats).toMatchObject({ ok: true, message: expect.stringMatching(/^NATS .* with JetStream$/) });
    expect(data.health.database.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('serves subscriptions over graphql-ws on the same port and path', async () => {
    const client = wsClient(url);
    try {
      const result = await first(client, 'subscription { health(intervalSeconds: 1) { ok nats { ok } } }');
      expect(result).toEqual({ data: { health: { ok: true, nats: { ok: true } } } });
    } finally {
      await client.dispose();
    }
  });

  it('rejects a health interval out of range with a coded error', async () => {
    const client = wsClient(url);
    try {
      const result = await first(client, 'subscription { health(intervalSeconds: 0) { ok } }').catch((e) => e);
      const errors = Array.isArray(result) ? result : result.errors;
      expect(errors[0]).toMatchObject({
        message: 'intervalSeconds must be between 1 and 300, got 0',
        extensions: { code: 'BAD_USER_INPUT' },
      });
    } finally {
      await client.dispose();
    }
  });

  it('answers a malformed query with a validation error naming the field', async () => {
    const { errors } = await post(url, '{ health { nope } }');
    expect(errors?.[0]?.message).toContain('Cannot query field "nope" on type "Health"');
  });
});

describe('API app with an unreachable database', () => {
  it('reports the database down with the reason, and stays up', async () => {
    const nats = await createTestNats();
    const deadPort = await freePort();
    const db = createDb(`postgresql://postgres@127.0.0.1:${deadPort}/none`, 1);
    const app = buildApp({ ...baseDeps(nats), db });
    try {
      const url = await app.start(0, '127.0.0.1');
      const { data } = await post(url, HEALTH);
      expect(data.health.ok).toBe(false);
      expect(data.health.database.ok).toBe(false);
      expect(data.health.database.latencyMs).toBeNull();
      expect(data.health.database.message).toBeTruthy();
      expect(data.health.nats.ok).toBe(true);
    } finally {
      await app.stop();
      await db.$disconnect();
      await nats.cleanup();
    }
  });
});

describe('API app shutdown', () => {
  it('closes open WebSockets with 1001 Going Away and stops listening', async () => {
    const api = await startTestApp();
    const { app, url } = api;
    try {
      const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws');
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

      await app.stop();

      expect(await closed).toBe(1001);
      await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
    } finally {
      await api.close();
    }
  });
});
