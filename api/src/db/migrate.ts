// Applies prisma/migrations without Prisma's native schema engine, which cannot be downloaded
// here. It keeps `_prisma_migrations` exactly as `prisma migrate deploy` does (same table, same
// lock, same checksum, same failure rule), so either tool can take over a database.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

/** Prisma Migrate's advisory lock id; holding the same one keeps the two tools from racing. */
const PRISMA_ADVISORY_LOCK = 72707369;

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  /** Hex SHA-256 of migration.sql's bytes, as Prisma records it. */
  checksum: string;
}

export interface MigrationRecord {
  migrationName: string;
  checksum: string;
  startedAt: Date;
  finishedAt: Date | null;
  rolledBackAt: Date | null;
  logs: string | null;
}

export interface DeployResult {
  applied: string[];
  /** Migrations already recorded whose file has changed since (Prisma warns, and so do we). */
  modified: string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
  constructor(
    message: string,
    readonly code: 'FAILED_MIGRATION_BLOCKS' | 'MIGRATION_FAILED' | 'BAD_MIGRATIONS_DIR' | 'UNKNOWN_MIGRATION',
  ) {
    super(message);
  }
}

/** Reads `<dir>/<name>/migration.sql` in name order (Prisma's timestamped names sort by time). */
export async function readMigrations(dir: string): Promise<Migration[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new MigrationError(`cannot read the migrations folder ${dir}: ${(error as Error).message}`, 'BAD_MIGRATIONS_DIR');
  }
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const migrations: Migration[] = [];
  for (const name of names) {
    const file = path.join(dir, name, 'migration.sql');
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      throw new MigrationError(`migration ${name} has no migration.sql (expected ${file})`, 'BAD_MIGRATIONS_DIR');
    }
    migrations.push({ name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') });
  }
  return migrations;
}

type Queryable = Pick<pg.Client, 'query'>;

async function records(client: Queryable): Promise<MigrationRecord[]> {
  const { rows } = await client.query<{
    migration_name: string;
    checksum: string;
    started_at: Date;
    finished_at: Date | null;
    rolled_back_at: Date | null;
    logs: string | null;
  }>(
    `SELECT migration_name, checksum, started_at, finished_at, rolled_back_at, logs
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
  return rows.map((r) => ({
    migrationName: r.migration_name,
    checksum: r.checksum,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    rolledBackAt: r.rolled_back_at,
    logs: r.logs,
  }));
}

async function withLockedClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      return await work(client);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]);
    }
  } finally {
    await client.end();
  }
}

function describeFailure(record: MigrationRecord): string {
  const started = record.startedAt.toISOString();
  const reason = record.logs ? `\n  ${record.logs.split('\n').join('\n  ')}` : '';
  return (
    `migration ${record.migrationName} started at ${started} failed, so no further migration will be applied.${reason}\n` +
    `Fix the database, then mark it with \`npm run db:migrate -- --rolled-back ${record.migrationName}\` ` +
    `(to run it again) or \`--applied ${record.migrationName}\` (if you completed it by hand); ` +
    '`prisma migrate resolve` does the same.'
  );
}

/**
 * Applies every migration not yet recorded, each as one script in one round trip (PostgreSQL runs a
 * multi-statement simple query atomically), and records it the way Prisma does: a row with
 * `finished_at` null while running, then finished with `applied_steps_count` 1 — or left unfinished
 * with the error in `logs`, which blocks every later deploy until it is resolved.
 */
export async function deployMigrations(
  databaseUrl: string,
  migrationsDir: string,
  log: (line: string) => void = () => {},
): Promise<DeployResult> {
  const migrations = await readMigrations(migrationsDir);
  return withLockedClient(databaseUrl, async (client) => {
    const existing = await records(client);
    const failed = existing.find((r) => r.finishedAt === null && r.rolledBackAt === null);
    if (failed) throw new MigrationError(describeFailure(failed), 'FAILED_MIGRATION_BLOCKS');

    const done = new Map(existing.filter((r) => r.finishedAt !== null && r.rolledBackAt === null).map((r) => [r.migrationName, r]));
    const modified = migrations.filter((m) => done.has(m.name) && done.get(m.name)!.checksum !== m.checksum).map((m) => m.name);
    for (const name of modified) log(`warning: migration ${name} was changed after it was applied`);

    const applied: string[] = [];
    for (const migration of migrations.filter((m) => !done.has(m.name))) {
      const id = randomUUID();
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), 0)`,
        [id, migration.checksum, migration.name],
      );
      try {
        await client.query(migration.sql);
      } catch (error) {
        const e = error as pg.DatabaseError;
        const logs = `Database error code: ${e.code ?? 'unknown'}\nDatabase error: ${e.message}`;
        await client.query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, logs]);
        throw new MigrationError(`migration ${migration.name} failed: ${e.message}`, 'MIGRATION_FAILED');
      }
      await client.query(
        `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
        [id],
      );
      log(`applied migration ${migration.name}`);
      applied.push(migration.name);
    }
    return { applied, modified };
  });
}

/** `prisma migrate resolve`: mark a failed migration rolled back (it will run again) or applied. */
export async function resolveMigration(
  databaseUrl: string,
  migrationsDir: string,
  name: string,
  as: 'rolled-back' | 'applied',
): Promise<void> {
  const migrations = await readMigrations(migrationsDir);
  const migration = migrations.find((m) => m.name === name);
  if (!migration) {
    throw new MigrationError(`no migration named ${name} in ${migrationsDir}`, 'UNKNOWN_MIGRATION');
  }
  await withLockedClient(databaseUrl, async (client) => {
    const failed = (await records(client)).filter(
      (r) => r.migrationName === name && r.finishedAt === null && r.rolledBackAt === null,
    );
    if (failed.length === 0) {
      throw new MigrationError(`migration ${name} is not in a failed state; nothing to resolve`, 'UNKNOWN_MIGRATION');
    }
    // Prisma resolves both ways by closing the failed row; "applied" then records a finished one.
    await client.query(
      `UPDATE "_prisma_migrations" SET rolled_back_at = now()
        WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`,
      [name],
    );
    if (as === 'applied') {
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), now(), 0)`,
        [randomUUID(), migration.checksum, name],
      );
    }
  });
}

/** What `prisma migrate status` would say, for tests and the health view. */
export async function migrationRecords(databaseUrl: string): Promise<MigrationRecord[]> {
  return withLockedClient(databaseUrl, (client) => records(client));
}
