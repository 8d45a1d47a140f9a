// `npm run db:migrate` — apply migrations to DATABASE_URL with no network access.
//   npm run db:migrate                          apply pending migrations
//   npm run db:migrate -- --rolled-back <name>  mark a failed migration rolled back (it runs again)
//   npm run db:migrate -- --applied <name>      mark a failed migration as completed by hand
import { parseArgs } from 'node:util';
import { ConfigError, readConfig } from '../config/env.js';
import { migrationsDir } from '../config/paths.js';
import { describeDatabaseUrl } from './client.js';
import { deployMigrations, resolveMigration } from './migrate.js';
import { explainConnectionError } from './errors.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'rolled-back': { type: 'string' }, applied: { type: 'string' } } });
  const config = readConfig();
  if (!config.databaseUrl) {
    throw new ConfigError('DATABASE_URL must be set for db:migrate (npm start migrates its embedded database itself)');
  }
  const url = config.databaseUrl;
  if (values['rolled-back'] || values.applied) {
    const name = (values['rolled-back'] ?? values.applied)!;
    await resolveMigration(url, migrationsDir, name, values['rolled-back'] ? 'rolled-back' : 'applied');
    console.log(`marked migration ${name} as ${values['rolled-back'] ? 'rolled back' : 'applied'}`);
    return;
  }
  const result = await deployMigrations(url, migrationsDir, (line) => console.log(line));
  console.log(
    result.applied.length
      ? `${result.applied.length} migration(s) applied to ${describeDatabaseUrl(url)}`
      : `database ${describeDatabaseUrl(url)} is up to date`,
  );
}

main().catch((error: unknown) => {
  console.error(`db:migrate: ${explainConnectionError(error)}`);
  process.exit(1);
});
