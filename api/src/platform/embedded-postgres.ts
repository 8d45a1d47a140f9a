// Zero-setup database for `npm start` when DATABASE_URL is unset: PGlite (PostgreSQL in WASM) with
// its data under DATA_DIR, served on a loopback port so the API connects as to any PostgreSQL.
// PGlite has one backend: the socket server multiplexes connections, and an open transaction
// holds the others back. Production and tests use real PostgreSQL.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { freePort } from './ports.js';

export interface EmbeddedPostgres {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dir = path.join(dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  const db = await PGlite.create({ dataDir: dir });
  const port = await freePort();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 20 });
  await server.start();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    dataDir: dir,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
