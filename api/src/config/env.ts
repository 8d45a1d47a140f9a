// Reads settings from the environment. A bad value stops the process with one line that names the
// variable and what it expects — never a stack trace.
import path from 'node:path';
import { z } from 'zod';
import { defaultStreamLimits, logsMaxBytesSchema, redactNatsUrl, type StreamLimits } from 'runner/protocol';
import { parseSecretsKey, PROVIDER_ENV_VARS } from 'runner/secrets';
import type { Role } from '../auth/viewer.js';
import { edgeConfig, edgeEnv, type EdgeConfig } from '../edge/config.js';
import type { LaunchSettings } from '../jobs/launch-policy.js';
import { checkAdminToken } from '../auth/secrets.js';
import type { UploadLimits } from '../tasks/upload.js';
import { repoRoot } from './paths.js';

const MiB = 1024 * 1024;
const ROLES: readonly Role[] = ['ADMIN', 'MEMBER', 'VIEWER'];

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
const mebibytes = z.coerce.number({ error: 'a size in MiB' }).positive('a positive size in MiB').max(1024 * 1024, 'at most 1048576 MiB');
const count = z.coerce.number({ error: 'a number' }).int('a whole number').min(1, 'at least 1');
const prefix = z.string().regex(/^[A-Za-z0-9_-]*$/, "letters, digits, '-' and '_' only");

const schema = z.object({
  HOST: z.string().min(1, 'a host name or address').default('127.0.0.1'),
  PORT: port.default(4000),
  DATABASE_URL: postgresUrl.optional(),
  NATS_URL: natsUrl.optional(),
  NATS_PREFIX: prefix.default(''),
  NATS_LOGS_MAX_BYTES: logsMaxBytesSchema,
  DATA_DIR: z.string().min(1, 'a directory path').optional(),
  TASKS_DIR: z.string().min(1, 'a directory path').optional(),
  JOBS_DIR: z.string().min(1, 'a directory path').optional(),
  WEB_DIR: z.string().min(1, 'a directory path').optional(),
  DATASET_IMPORT_ROOT: z.string().min(1, 'a directory path').optional(),
  DATABASE_POOL_SIZE: z.coerce.number({ error: 'a number' }).int('a whole number').min(1, 'at least 1').max(100, 'at most 100').default(10),
  SHUTDOWN_GRACE_MS: z.coerce.number({ error: 'a number' }).int('a whole number').min(0, 'zero or more').default(10_000),
  RECONCILE_INTERVAL_MS: z.coerce
    .number({ error: 'a number of milliseconds' })
    .int('a whole number of milliseconds')
    .min(100, 'at least 100 ms')
    .max(3_600_000, 'at most 3600000 ms (an hour)')
    .optional(),
  UPLOAD_MAX_FILE_MB: mebibytes.default(100),
  UPLOAD_MAX_TASK_MB: mebibytes.default(200),
  UPLOAD_MAX_REQUEST_MB: mebibytes.default(1024),
  UPLOAD_MAX_ZIP_MB: mebibytes.default(256),
  UPLOAD_MAX_ENTRIES: count.default(10_000),
  UPLOAD_MAX_FILES: count.default(1_000),
  UPLOAD_MAX_RATIO: count.default(200),
  ALLOW_CUSTOM_AGENTS: z.enum(['true', 'false'], { error: 'true or false' }).default('false'),
  ENDPOINT_OVERRIDE_ROLES: z
    .string()
    .refine((v) => v.trim().toLowerCase() === 'none' || v.split(',').every((r) => ROLES.includes(r.trim().toUpperCase() as Role)), 'a comma-separated list of ADMIN, MEMBER, VIEWER, or none')
    .default('ADMIN'),
  ADMIN_TOKEN: z
    .string()
    .refine((v) => checkAdminToken(v) === null, checkAdminToken('') ?? '')
    .optional(),
  WS_AUTH_RECHECK_MS: z.coerce
    .number({ error: 'a number of milliseconds' })
    .int('a whole number of milliseconds')
    .min(100, 'at least 100 ms')
    .max(3_600_000, 'at most 3600000 ms (an hour)')
    .default(30_000),
  SECRETS_KEY: z
    .string()
    .refine((v) => {
      try {
        parseSecretsKey(v);
        return true;
      } catch {
        return false;
      }
    }, '32 bytes as base64 or 64 hex characters (e.g. `openssl rand -base64 32`)')
    .optional(),
  ...edgeEnv,
});

export interface ApiConfig {
  host: string;
  port: number;
  databaseUrl: string | undefined;
  natsUrl: string | undefined;
  natsPrefix: string;
  /** JetStream limits the API sets on the streams it owns (NATS_LOGS_MAX_BYTES). */
  streamLimits: StreamLimits;
  dataDir: string;
  tasksDir: string;
  jobsDir: string;
  /** DATASET_IMPORT_ROOT: the only folder importDataset may read task folders and manifests from (after resolving links). */
  datasetImportRoot: string;
  /** The built web app (SvelteKit adapter-node output) this process serves next to the API. */
  webDir: string;
  databasePoolSize: number;
  shutdownGraceMs: number;
  /** Time between reconciler ticks; undefined: half the runners' ack wait. */
  reconcileIntervalMs: number | undefined;
  uploadLimits: UploadLimits;
  secretsKey: Buffer | null;
  /** Where people open the web app (login links, Secure cookies); default http://HOST:PORT. */
  publicUrl: string;
  /** ADMIN_TOKEN: the first ADMIN's API token as deployed. */
  adminToken: string | undefined;
  /** How often open WebSockets re-check their session or token. */
  wsAuthRecheckMs: number;
  /** Server-wide provider keys from DEFAULT_<VAR> (e.g. DEFAULT_OPENROUTER_API_KEY), for jobs without their own. */
  defaultProviderKeys: { envVar: string; value: string }[];
  /** ALLOW_CUSTOM_AGENTS, ENDPOINT_OVERRIDE_ROLES (jobs/launch-policy.ts). */
  launchSettings: LaunchSettings;
  edge: EdgeConfig;
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
      // Values are echoed with any URL password masked (NATS_URL, DATABASE_URL may carry one).
      return `${name} must be ${issue.message} (got ${JSON.stringify(redactNatsUrl(present[name] ?? ''))})`;
    });
    throw new ConfigError(lines.join('\n'));
  }
  const v = parsed.data;
  const defaultProviderKeys = PROVIDER_ENV_VARS
    .filter((envVar) => present[`DEFAULT_${envVar}`])
    .map((envVar) => ({ envVar, value: present[`DEFAULT_${envVar}`]! }));
  if (defaultProviderKeys.length > 0 && !v.SECRETS_KEY) {
    throw new ConfigError(
      `DEFAULT_${defaultProviderKeys[0]!.envVar} needs SECRETS_KEY to be set too (keys travel to runners encrypted)`,
    );
  }
  const dataDir = path.resolve(repoRoot, v.DATA_DIR ?? '.data');
  return {
    host: v.HOST,
    port: v.PORT,
    databaseUrl: v.DATABASE_URL,
    natsUrl: v.NATS_URL,
    natsPrefix: v.NATS_PREFIX,
    streamLimits: { ...defaultStreamLimits, logsMaxBytes: v.NATS_LOGS_MAX_BYTES },
    dataDir,
    tasksDir: path.resolve(repoRoot, v.TASKS_DIR ?? path.join(dataDir, 'tasks')),
    jobsDir: path.resolve(repoRoot, v.JOBS_DIR ?? path.join(dataDir, 'jobs')),
    // Its own folder by default, not DATA_DIR: imports must never reach the database, tokens or other jobs' files.
    datasetImportRoot: path.resolve(repoRoot, v.DATASET_IMPORT_ROOT ?? path.join(dataDir, 'imports')),
    webDir: path.resolve(repoRoot, v.WEB_DIR ?? 'web/build'),
    databasePoolSize: v.DATABASE_POOL_SIZE,
    shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
    reconcileIntervalMs: v.RECONCILE_INTERVAL_MS,
    uploadLimits: {
      maxFileBytes: v.UPLOAD_MAX_FILE_MB * MiB,
      maxTaskBytes: v.UPLOAD_MAX_TASK_MB * MiB,
      maxArchiveBytes: v.UPLOAD_MAX_REQUEST_MB * MiB,
      maxRequestBytes: v.UPLOAD_MAX_REQUEST_MB * MiB,
      maxZipBytes: v.UPLOAD_MAX_ZIP_MB * MiB,
      maxEntries: v.UPLOAD_MAX_ENTRIES,
      maxFiles: v.UPLOAD_MAX_FILES,
      maxRatio: v.UPLOAD_MAX_RATIO,
      // TB2 text compresses 2–10×; only large entries are held to the ratio, so small highly
      // compressible fixtures (zeros, logs) still pass.
      ratioMinBytes: 8 * MiB,
    },
    publicUrl: (v.PUBLIC_URL ?? `http://${v.HOST.includes(':') ? `[${v.HOST}]` : v.HOST}:${v.PORT}`).replace(/\/+$/, ''),
    adminToken: v.ADMIN_TOKEN,
    wsAuthRecheckMs: v.WS_AUTH_RECHECK_MS,
    secretsKey: v.SECRETS_KEY ? parseSecretsKey(v.SECRETS_KEY) : null,
    defaultProviderKeys,
    launchSettings: {
      allowCustomAgents: v.ALLOW_CUSTOM_AGENTS === 'true',
      endpointOverrideRoles:
        v.ENDPOINT_OVERRIDE_ROLES.trim().toLowerCase() === 'none'
          ? []
          : [...new Set(v.ENDPOINT_OVERRIDE_ROLES.split(',').map((r) => r.trim().toUpperCase() as Role))],
    },
    edge: edgeConfig(v),
  };
}
