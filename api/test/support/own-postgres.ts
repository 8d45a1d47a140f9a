// A PostgreSQL server of a fault test's own (the embedded launcher `npm start` uses), which the test
// stops and starts again on the same port and data directory while the platform runs on it. The
// shared test server is never touched.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startPostgres, type PostgresServer } from '../../src/platform/embedded-postgres.js';

export interface OwnPostgres {
  /** Stays the same across restarts: same port, same password in the same data directory. */
  url: string;
  port: number;
  dataDir: string;
  /** Fast shutdown (clients cut off, open transactions rolled back); resolves once the server has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data; resolves once it answers queries. */
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  close(): Promise<void>;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'thr-faults-pg-'));
  // Run as root, the server runs as another user (postgres refuses root), which must reach the data below.
  await chmod(dir, 0o755);
  const dataDir = path.join(dir, 'postgres');
  let server: PostgresServer | null = await startPostgres({ dataDir });
  const { url, port } = server;
  const stop = async () => {
    await server?.stop();
    server = null;
  };
  return {
    url,
    port,
    dataDir,
    stop,
    start: async () => {
      if (server) throw new Error('the test PostgreSQL server is already running');
      server = await startPostgres({ dataDir, port });
    },
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
