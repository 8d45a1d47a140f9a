// A whole API on a free port, against this file's own database, NATS prefix and tasks folder.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildApp, type App, type WebHandler } from '../../src/app.js';
import { seal } from 'runner/secrets';
import { readConfig } from '../../src/config/env.js';
import type { LaunchSettings } from '../../src/jobs/launch-policy.js';
import { startServices } from '../../src/services.js';
import { TaskStore } from '../../src/tasks/store.js';
import type { EdgeConfig } from '../../src/edge/config.js';
import type { UploadLimits } from '../../src/tasks/upload.js';
import { anonymousFetch, bearer, createUserWithToken, forgetToken, useToken } from './auth.js';
import { createTestDatabase, useDatabase, type TestDatabase } from './database.js';
import { createTestNats, type TestNats } from './nats.js';

export interface TestApp {
  app: App;
  url: string;
  database: TestDatabase & { db: import('../../src/db/client.js').Db };
  nats: TestNats;
  tasksDir: string;
  /** JOBS_DIR: where this app's runners should put Harbor's job directories. */
  jobsDir: string;
  /** The ADMIN every request of the test sends as (support/auth.ts), unless it sets its own Authorization. */
  admin: { userId: string; token: string };
  /** Stops the dispatcher and recorder, as when the API process dies; `startServices` brings them back. */
  stopServices(): Promise<void>;
  startServices(): Promise<void>;
  close(): Promise<void>;
}

export const defaultUploadLimits: UploadLimits = readConfig({}).uploadLimits;

export async function startTestApp(
  options: {
    uploadLimits?: Partial<UploadLimits>;
    services?: boolean;
    secretsKey?: Buffer | null;
    /** Use this database (migrated here, kept at close) with the API's default pool, instead of a throwaway one. */
    databaseUrl?: string;
    /** A NATS server of the test's own; default the shared test server. */
    natsUrl?: string;
    reconcileIntervalMs?: number;
    /** The server's default provider keys (DEFAULT_<VAR>), sealed into orders like main.ts does; needs secretsKey. */
    defaultProviderKeys?: { envVar: string; value: string }[];
    launchSettings?: LaunchSettings;
    /** CORS, Host, GraphiQL and request limits over the defaults. */
    edge?: Partial<EdgeConfig>;
    /** A web app mounted next to the API. */
    web?: WebHandler;
    /** Where the app reports failed requests. */
    log?: (line: string) => void;
    /** How often open WebSockets re-check their credential. */
    wsRecheckMs?: number;
    /** DATASET_IMPORT_ROOT; absent: importing is off. */
    datasetImportRoot?: string;
  } = {},
): Promise<TestApp> {
  const [database, nats, tasksDir, jobsDir] = await Promise.all([
    options.databaseUrl ? useDatabase(options.databaseUrl, readConfig({}).databasePoolSize) : createTestDatabase(),
    createTestNats(options.natsUrl),
    mkdtemp(path.join(os.tmpdir(), 'thr-tasks-')),
    mkdtemp(path.join(os.tmpdir(), 'thr-jobs-')),
  ]);
  const launchServices = () =>
    startServices({
      db: database.db,
      nats: nats.nc,
      topology: nats.topology,
      log: () => {},
      dispatchPollMs: 200,
      defaultSecrets: (options.defaultProviderKeys ?? []).map(({ envVar, value }) => ({ envVar, ciphertext: seal(options.secretsKey!, value, envVar) })),
      reconcileIntervalMs: options.reconcileIntervalMs,
      // NATS_LOGS_MAX_BYTES from vitest.config.ts: many throwaway LOGS streams share one test server's store.
      streamLimits: readConfig({ NATS_LOGS_MAX_BYTES: process.env.NATS_LOGS_MAX_BYTES }).streamLimits,
    });
  let services = options.services ? await launchServices() : null;
  const app = buildApp({
    db: database.db,
    nats: nats.nc,
    topology: nats.topology,
    taskStore: new TaskStore(tasksDir),
    uploadLimits: { ...defaultUploadLimits, ...options.uploadLimits },
    secretsKey: options.secretsKey ?? null,
    defaultProviderKeys: (options.defaultProviderKeys ?? []).map((k) => k.value),
    launchSettings: options.launchSettings,
    jobsDir,
    tasksDir,
    datasetImportRoot: options.datasetImportRoot,
    kickDispatcher: () => services?.kickDispatcher(),
    shutdownGraceMs: 1_000,
    edge: { ...readConfig({}).edge, ...options.edge },
    web: options.web,
    log: options.log,
    auth: { wsRecheckMs: options.wsRecheckMs },
  });
  const url = await app.start(0, '127.0.0.1');
  // Apps sharing a database (databaseUrl) share its ADMIN, each with a token of its own.
  const admin = await createUserWithToken(database.db, 'ADMIN', 'test-admin');
  useToken(url, admin.token);
  return {
    app,
    url,
    database,
    nats,
    tasksDir,
    jobsDir,
    admin,
    stopServices: async () => {
      await services?.stop();
      services = null;
    },
    startServices: async () => {
      services ??= await launchServices();
    },
    close: async () => {
      forgetToken(url);
      await app.stop();
      await services?.stop();
      await nats.cleanup();
      await database.drop();
      await rm(tasksDir, { recursive: true, force: true });
      await rm(jobsDir, { recursive: true, force: true });
    },
  };
}

/**
 * POSTs a GraphQL operation and returns the parsed body; as the app's ADMIN unless `as` names a
 * token, or null for an anonymous caller.
 */
export async function graphql<T = any>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  as?: { token: string | null },
): Promise<{ data?: T; errors?: { message: string; extensions?: { code?: string } }[] }> {
  const send = as?.token === null ? anonymousFetch : fetch;
  const response = await send(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(as?.token ? bearer(as.token) : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as never;
}
