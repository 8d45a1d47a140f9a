// The API process: wires configuration, connections and signals; everything else is in buildApp.
import { mkdir } from 'node:fs/promises';
import { topology } from 'runner/protocol';
import { seal } from 'runner/secrets';
import { buildApp } from './app.js';
import { ensureFirstAdmin } from './auth/first-start.js';
import { ConfigError, readConfig } from './config/env.js';
import { createDb, describeDatabaseUrl } from './db/client.js';
import { explainConnectionError, probeDatabase } from './db/errors.js';
import { checkJetStream, connectNats } from './nats/connection.js';
import { startServices } from './services.js';
import { TaskStore } from './tasks/store.js';
import { loadWebApp } from './web.js';
import { keepServingOnUncaught } from './edge/process.js';

const log = (line: string) => console.log(`[api] ${line}`);

function fail(message: string): never {
  console.error(`[api] ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  const config = readConfig();
  if (!config.databaseUrl) {
    throw new ConfigError('DATABASE_URL must be set to a PostgreSQL URL (`npm start` provides an embedded database when it is unset)');
  }
  if (!config.natsUrl) {
    throw new ConfigError('NATS_URL must be set to a NATS URL (`npm start` starts a local nats-server when it is unset)');
  }

  try {
    await probeDatabase(config.databaseUrl);
  } catch (error) {
    fail(`cannot reach PostgreSQL at ${describeDatabaseUrl(config.databaseUrl)}: ${explainConnectionError(error)}`);
  }
  const db = createDb(config.databaseUrl, config.databasePoolSize);
  const nats = await connectNats(config.natsUrl, 'api', log).catch((error: Error) => fail(error.message));
  await checkJetStream(nats).catch((error: Error) => fail(error.message));

  await ensureFirstAdmin(db, { dataDir: config.dataDir, adminToken: config.adminToken, publicUrl: config.publicUrl, log }).catch((error: Error) =>
    fail(`cannot set up the first ADMIN: ${error.message}`),
  );

  const taskStore = new TaskStore(config.tasksDir);
  await mkdir(config.tasksDir, { recursive: true });
  const swept = await taskStore.sweep();
  if (swept > 0) log(`removed ${swept} folder(s) left in ${config.tasksDir} by interrupted uploads`);

  const natsTopology = topology(config.natsPrefix);
  const services = await startServices({
    db,
    nats,
    topology: natsTopology,
    defaultSecrets: config.defaultProviderKeys.map(({ envVar, value }) => ({
      envVar,
      ciphertext: seal(config.secretsKey!, value, envVar),
    })),
    log,
    reconcileIntervalMs: config.reconcileIntervalMs,
    streamLimits: config.streamLimits,
  }).catch((error: Error) => fail(`cannot set up JetStream streams and consumers: ${error.message}`));
  const web = await loadWebApp(config.webDir, log).catch((error: Error) => fail(`cannot load the web app: ${error.message}`));
  const app = buildApp({
    web,
    db,
    nats,
    topology: natsTopology,
    taskStore,
    uploadLimits: config.uploadLimits,
    secretsKey: config.secretsKey,
    defaultProviderKeys: config.defaultProviderKeys.map((k) => k.value),
    jobsDir: config.jobsDir,
    datasetImportRoot: config.datasetImportRoot,
    tasksDir: config.tasksDir,
    launchSettings: config.launchSettings,
    kickDispatcher: services.kickDispatcher,
    shutdownGraceMs: config.shutdownGraceMs,
    edge: config.edge,
    log: (line) => console.error(`[api] ${line}`),
    auth: { secureCookies: config.publicUrl.startsWith('https:'), wsRecheckMs: config.wsAuthRecheckMs },
  });
  const url = await app.start(config.port, config.host).catch((error: NodeJS.ErrnoException) =>
    fail(
      error.code === 'EADDRINUSE'
        ? `port ${config.port} on ${config.host} is already in use; set PORT to another port`
        : `cannot listen on ${config.host}:${config.port}: ${error.message}`,
    ),
  );
  log(`GraphQL (HTTP and WebSocket) at ${url}`);
  if (web) log(`web app at ${url.replace(/\/graphql$/, '/')}`);

  let signals = 0;
  const shutdown = async (signal: string) => {
    if (++signals > 1) {
      log(`${signal} again: exiting now`);
      process.exit(1);
    }
    log(`${signal}: shutting down`);
    await app.stop();
    await services.stop();
    await nats.drain().catch(() => {});
    await db.$disconnect();
    log('stopped');
    process.exit(0);
  };
  // A failure in one request or background task (a subscription, a check) must not take every client down.
  keepServingOnUncaught((line) => console.error(`[api] ${line}`));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => fail(error instanceof ConfigError ? error.message : String((error as Error)?.stack ?? error)));
