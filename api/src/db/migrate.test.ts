import { createHash } from 'node:crypto';
import { cp, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmptyDatabase, type TestDatabase } from '../../test/support/database.js';
import { migrationsDir } from '../config/paths.js';
import { getDatamodel } from '../generated/pothos-types.js';
import { deployMigrations, migrationRecords, MigrationError, readMigrations, resolveMigration } from './migrate.js';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const tables = (url: string) =>
  query<{ table_name: string }>(
    url,
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
  ).then((rows) => rows.map((r) => r.table_name));

let database: TestDatabase;
const scratch: string[] = [];

beforeEach(async () => {
  database = await createEmptyDatabase();
});
afterEach(async () => {
  await database.drop();
});
afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A copy of the project's migrations plus extra ones, to break things without touching the real folder. */
async function migrationsWith(extra: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'thr-migrations-'));
  scratch.push(dir);
  await cp(migrationsDir, dir, { recursive: true });
  for (const [name, sql] of Object.entries(extra)) {
    await mkdir(path.join(dir, name));
    await writeFile(path.join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

describe('deployMigrations', () => {
  it('migrates a fresh database to the domain tables and records it as prisma migrate deploy does', async () => {
    const result = await deployMigrations(database.url, migrationsDir);

    const local = await readMigrations(migrationsDir);
    expect(result.applied).toEqual(local.map((m) => m.name));
    expect(await tables(database.url)).toEqual([
      'ApiToken', 'AuditEvent', 'Dataset', 'DatasetTask', 'DatasetVersion', 'Job', 'LoginLink', 'ProviderSecret', 'ReconcilerLease', 'Run', 'RunTest', 'Session', 'Task', 'User', 'Webhook', 'WebhookDelivery', '_prisma_migrations',
    ]);

    const rows = await query<Record<string, unknown>>(
      database.url,
      `SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count
         FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows).toHaveLength(local.length);
    const first = rows[0]!;
    const bytes = await readFile(path.join(migrationsDir, local[0]!.name, 'migration.sql'));
    expect(first.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.finished_at).toBeInstanceOf(Date);
    expect(first.rolled_back_at).toBeNull();
    expect(first.logs).toBeNull();
    expect(first.applied_steps_count).toBe(1);

    const columns = await query<{ column_name: string; data_type: string; character_maximum_length: number | null }>(
      database.url,
      `SELECT column_name, data_type, character_maximum_length FROM information_schema.columns
        WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => [c.column_name, c.data_type, c.character_maximum_length])).toEqual([
      ['id', 'character varying', 36],
      ['checksum', 'character varying', 64],
      ['finished_at', 'timestamp with time zone', null],
      ['migration_name', 'character varying', 255],
      ['logs', 'text', null],
      ['rolled_back_at', 'timestamp with time zone', null],
      ['started_at', 'timestamp with time zone', null],
      ['applied_steps_count', 'integer', null],
    ]);
  });

  it('changes nothing on a second run', async () => {
    await deployMigrations(database.url, migrationsDir);
    const before = await query(database.url, `SELECT * FROM "_prisma_migrations" ORDER BY id`);

    const again = await deployMigrations(database.url, migrationsDir);

    expect(again).toEqual({ applied: [], modified: [] });
    expect(await query(database.url, `SELECT * FROM "_prisma_migrations" ORDER BY id`)).toEqual(before);
  });

  it('matches prisma/schema.prisma: every model field has a column with the same nullability', async () => {
    await deployMigrations(database.url, migrationsDir);
    const columns = await query<{ table_name: string; column_name: string; is_nullable: string }>(
      database.url,
      `SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    const actual = new Map(columns.map((c) => [`${c.table_name}.${c.column_name}`, c.is_nullable === 'YES']));
    const expected = new Map<string, boolean>();
    for (const [model, { fields }] of Object.entries(getDatamodel().datamodel.models)) {
      for (const field of fields) {
        if (field.kind === 'object') continue;
        // Prisma creates scalar lists as nullable array columns.
        expected.set(`${model}.${field.name}`, field.isList || !field.isRequired);
      }
    }
    for (const [column, nullable] of expected) {
      expect(actual.has(column), `${column} exists`).toBe(true);
      expect(actual.get(column), `${column} nullable`).toBe(nullable);
    }
    const extra = [...actual.keys()].filter((c) => !c.startsWith('_prisma_migrations.') && !expected.has(c));
    expect(extra).toEqual([]);

    const enums = await query<{ typname: string; labels: string[] }>(
      database.url,
      `SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`,
    );
    const { RunStatus, JobStatus, JobStopReason, FailureKind, AttemptRole, Difficulty, TestStatus, TestsSource, UserRole, RewardFlag, DatasetSource, WebhookEvent, WebhookFormat, WebhookDeliveryStatus } = await import('../generated/prisma/enums.js');
    expect(Object.fromEntries(enums.map((e) => [e.typname, e.labels]))).toEqual({
      RunStatus: Object.values(RunStatus),
      JobStatus: Object.values(JobStatus),
      JobStopReason: Object.values(JobStopReason),
      FailureKind: Object.values(FailureKind),
      AttemptRole: Object.values(AttemptRole),
      Difficulty: Object.values(Difficulty),
      TestStatus: Object.values(TestStatus),
      TestsSource: Object.values(TestsSource),
      UserRole: Object.values(UserRole),
      RewardFlag: Object.values(RewardFlag),
      DatasetSource: Object.values(DatasetSource),
      WebhookEvent: Object.values(WebhookEvent),
      WebhookFormat: Object.values(WebhookFormat),
      WebhookDeliveryStatus: Object.values(WebhookDeliveryStatus),
    });
  });

  it('records a broken migration as failed, rolls its statements back, and blocks later deploys until resolved', async () => {
    const dir = await migrationsWith({
      '20990101000000_broken': 'CREATE TABLE "Half" (id INT);\nALTER TABLE "Nope" ADD COLUMN x INT;\n',
      '20990102000000_after': 'CREATE TABLE "After" (id INT);\n',
    });

    const failure = await deployMigrations(database.url, dir).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MigrationError);
    expect((failure as MigrationError).code).toBe('MIGRATION_FAILED');
    expect((failure as MigrationError).message).toContain('20990101000000_broken failed: relation "Nope" does not exist');

    const tableNames = await tables(database.url);
    expect(tableNames).not.toContain('Half');
    expect(tableNames).not.toContain('After');
    const broken = (await migrationRecords(database.url)).find((r) => r.migrationName === '20990101000000_broken')!;
    expect(broken.finishedAt).toBeNull();
    expect(broken.rolledBackAt).toBeNull();
    expect(broken.logs).toContain('Database error code: 42P01');

    const blocked = await deployMigrations(database.url, dir).catch((e: unknown) => e);
    expect((blocked as MigrationError).code).toBe('FAILED_MIGRATION_BLOCKS');
    expect((blocked as MigrationError).message).toMatch(
      /migration 20990101000000_broken started at .* failed, so no further migration will be applied/,
    );
    expect((blocked as MigrationError).message).toContain('--rolled-back 20990101000000_broken');
    expect(await tables(database.url)).not.toContain('After');

    // Fix the file, mark the failure rolled back, and the next deploy applies both.
    await writeFile(path.join(dir, '20990101000000_broken', 'migration.sql'), 'CREATE TABLE "Half" (id INT);\n');
    await resolveMigration(database.url, dir, '20990101000000_broken', 'rolled-back');
    const resumed = await deployMigrations(database.url, dir);
    expect(resumed.applied).toEqual(['20990101000000_broken', '20990102000000_after']);
    expect(await tables(database.url)).toEqual(expect.arrayContaining(['Half', 'After']));
  });

  it('resolves a failed migration as applied without running it', async () => {
    const dir = await migrationsWith({ '20990101000000_broken': 'SELECT 1/0;\n' });
    await expect(deployMigrations(database.url, dir)).rejects.toThrow(/division by zero/);

    await resolveMigration(database.url, dir, '20990101000000_broken', 'applied');

    expect(await deployMigrations(database.url, dir)).toEqual({ applied: [], modified: [] });
    const rows = (await migrationRecords(database.url)).filter((r) => r.migrationName === '20990101000000_broken');
    expect(rows.map((r) => [r.finishedAt !== null, r.rolledBackAt !== null])).toEqual([
      [false, true],
      [true, false],
    ]);
    await expect(resolveMigration(database.url, dir, '20990101000000_broken', 'applied')).rejects.toThrow(
      /not in a failed state/,
    );
  });

  it('warns about a migration changed after it was applied', async () => {
    const dir = await migrationsWith({ '20990101000000_extra': 'CREATE TABLE "Extra" (id INT);\n' });
    await deployMigrations(database.url, dir);
    await writeFile(path.join(dir, '20990101000000_extra', 'migration.sql'), 'CREATE TABLE "Extra" (id BIGINT);\n');
    const lines: string[] = [];

    const result = await deployMigrations(database.url, dir, (l) => lines.push(l));

    expect(result).toEqual({ applied: [], modified: ['20990101000000_extra'] });
    expect(lines).toEqual(['warning: migration 20990101000000_extra was changed after it was applied']);
  });

  it('names a migration folder without migration.sql', async () => {
    const dir = await migrationsWith({});
    await mkdir(path.join(dir, '20990101000000_empty'));
    await expect(deployMigrations(database.url, dir)).rejects.toThrow(/20990101000000_empty has no migration.sql/);
  });
});
