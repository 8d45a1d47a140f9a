// Reads settings from the environment. A bad value stops the process with one line that names the
// variable and what it expects — never a stack trace.
import path from 'node:path';
import { z } from 'zod';
import { repoRoot } from './paths.js';

const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\/.+/.test(v) && URL.canParse(v), 'a URL like postgresql://user@host:5432/db');
const natsUrl = z
  .string()
  .refine(
    (v) => v.split(',').every((u) => /^(nats|tls|ws|wss):\/\/[^\s]+$/.test(u.trim()) && URL.canParse(u.trim())),
    'one or more comma-separated URLs like nats://host:4222',
  );
const port = z.coerce
  .number({ error: 'a port number' })
  .int('a whole port number')
  .min(0, 'a port from 0 to 65535')
  .max(65535, 'a port from 0 to 65535');
const prefix = z.string().regex(/^[A-Za-z0-9_-]*$/, "letters, digits, '-' and '_' only");

const schema = z.object({
  HOST: z.string().min(1, 'a host name or address').default('127.0.0.1'),
  PORT: port.default(4000),
  DATABASE_URL: postgresUrl.optional(),
  NATS_URL: natsUrl.optional(),
  NATS_PREFIX: prefix.default(''),
  DATA_DIR: z.string().min(1, 'a directory path').optional(),
  TASKS_DIR: z.string().min(1, 'a directory path').optional(),
  JOBS_DIR: z.string().min(1, 'a directory path').optional(),
  DATABASE_POOL_SIZE: z.coerce.number({ error: 'a number' }).int('a whole number').min(1, 'at least 1').max(100, 'at most 100').default(10),
  SHUTDOWN_GRACE_MS: z.coerce.number({ error: 'a number' }).int('a whole number').min(0, 'zero or more').default(10_000),
});

export interface ApiConfig {
  host: string;
  port: number;
  databaseUrl: string | undefined;
  natsUrl: string | undefined;
  natsPrefix: string;
  dataDir: string;
  tasksDir: string;
  jobsDir: string;
  databasePoolSize: number;
  shutdownGraceMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws ConfigError with one line per bad variable. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  // An empty variable means unset, as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name} must be ${issue.message} (got ${JSON.stringify(present[name])})`;
    });
    throw new ConfigError(lines.join('\n'));
  }
  const v = parsed.data;
  const dataDir = path.resolve(repoRoot, v.DATA_DIR ?? '.data');
  return {
    host: v.HOST,
    port: v.PORT,
    databaseUrl: v.DATABASE_URL,
    natsUrl: v.NATS_URL,
    natsPrefix: v.NATS_PREFIX,
    dataDir,
    tasksDir: path.resolve(repoRoot, v.TASKS_DIR ?? path.join(dataDir, 'tasks')),
    jobsDir: path.resolve(repoRoot, v.JOBS_DIR ?? path.join(dataDir, 'jobs')),
    databasePoolSize: v.DATABASE_POOL_SIZE,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
  };
}
