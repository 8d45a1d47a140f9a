import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;

/** One Prisma client per process, created at the edge and passed in. */
export function createDb(databaseUrl: string, poolSize = 10): Db {
  // pg-pool applies connectionTimeoutMillis to waiting for a free connection too: a burst (a
  // thousand log subscribers opening at once) must queue rather than fail, so it is generous.
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 15_000 });
  return new PrismaClient({ adapter });
}

/** Where a URL points, without its password, for messages. */
export function describeDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
}
