// Each test file gets its own throwaway PostgreSQL database, migrated with the project's own
// migrations, and drops it afterwards. TEST_DATABASE_URL points at a server where we may create
// databases (default: the local trust-auth PostgreSQL).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrationsDir } from '../../src/config/paths.js';
import { createDb, type Db } from '../../src/db/client.js';
import { deployMigrations } from '../../src/db/migrate.js';

export const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** An empty database with a unique name; nothing applied. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  const name = `thr_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/** A database the caller owns (e.g. on an embedded server), migrated, with a client of `poolSize` connections; drop() only disconnects. */
export async function useDatabase(url: string, poolSize: number): Promise<TestDatabase & { db: Db }> {
  await deployMigrations(url, migrationsDir);
  const db = createDb(url, poolSize);
  return { name: new URL(url).pathname.slice(1), url, db, drop: () => db.$disconnect() };
}

/** A migrated database and a Prisma client on it. */
export async function createTestDatabase(): Promise<TestDatabase & { db: Db }> {
  const database = await createEmptyDatabase();
  await deployMigrations(database.url, migrationsDir);
  const db = createDb(database.url, 4);
  return {
    ...database,
    db,
    drop: async () => {
      await db.$disconnect();
      await database.drop();
    },
  };
}
