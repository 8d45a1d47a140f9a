// Runner settings from the environment; a bad value stops the process with one line naming it.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { redactNatsUrl } from './protocol/connect-options.js';
import { defaultStreamLimits, logsMaxBytesSchema, streamReplicasSchema, type StreamLimits } from './protocol/streams.js';
import { parseSecretsKey } from './secrets/sealed.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const ms = (label: string) => z.coerce.number({ error: label }).int('a whole number of milliseconds').min(0, 'zero or more');

const schema = z.object({
  NATS_URL: z.string().regex(/^(nats|tls|ws|wss):\/\/\S+$/, 'a URL like nats://host:4222'),
  NATS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]*$/, "letters, digits, '-' and '_' only").default(''),
  NATS_LOGS_MAX_BYTES: logsMaxBytesSchema,
  RUNNER_ID: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, "1–128 letters, digits, '.', '-' or '_'").optional(),
  RUNNER_CONCURRENCY: z.coerce.number({ error: 'a number of slots' }).int('a whole number').min(1, 'at least 1').max(1000, 'at most 1000').default(2),
  DATA_DIR: z.string().min(1).optional(),
  TASKS_DIR: z.string().min(1).optional(),
  JOBS_DIR: z.string().min(1).optional(),
  HARBOR_BIN: z.string().min(1).default('harbor'),
  SECRETS_KEY: z.string().optional(),
  /** How long SIGTERM waits for running trials before stopping them. */
  RUNNER_DRAIN_TIMEOUT_MS: ms('milliseconds').default(15 * 60_000),
  /** Harbor's teardown after SIGTERM takes seconds to a minute (harbor-contract §3). */
  RUNNER_CANCEL_GRACE_MS: ms('milliseconds').default(120_000),
  RUNNER_HEARTBEAT_MS: ms('milliseconds').default(5_000),
  /** How often a running trial's files are checked for new lines without a change notification (backs off to 4 s while notifications name every change). */
  RUNNER_LOG_POLL_MS: ms('milliseconds').default(500),
  /** Least time between two publishes of a run's log; lines after a quiet spell go out at once. Bounds the live-log latency. */
  RUNNER_LOG_FLUSH_MS: ms('milliseconds').default(150),
  /** JetStream ack wait of the shared consumer: a runner silent this long loses its orders to others. */
  RUNNER_ACK_WAIT_MS: ms('milliseconds').default(60_000),
  /** Deliveries of one order before it is recorded as an infrastructure failure. */
  RUNNER_MAX_DELIVER: z.coerce.number({ error: 'a number' }).int('a whole number').min(1, 'at least 1').max(100, 'at most 100').default(3),
  /** Slack on top of the task's own timeouts before the runner gives up on a Harbor process. */
  RUNNER_WALL_CLOCK_SLACK_MS: ms('milliseconds').default(30 * 60_000),
  // Issue 16 items 7–9: what the runner serves (capabilities.ts).
  /** Sandbox credential variables passed to Harbor (comma-separated names); unset: those of capabilities.ts's table that are set. */
  RUNNER_ENVIRONMENT_VARS: z.string().regex(/^\s*[A-Z][A-Z0-9_]{0,63}(\s*,\s*[A-Z][A-Z0-9_]{0,63})*\s*$/, 'a comma-separated list of variable names like DAYTONA_API_KEY').optional(),
  /** Environment types to serve, comma-separated; unset: every type whose needs are found on this machine. */
  // Names hold digits too (e2b); issue 18 (deploy) found `e2b` refused here.
  RUNNER_ENVIRONMENT_TYPES: z.string().regex(/^\s*[a-z][a-z0-9-]*(\s*,\s*[a-z][a-z0-9-]*)*\s*$/, 'a comma-separated list of environment types like docker,daytona').optional(),
  /** Docker here runs Windows containers (a Windows host in Windows-container mode). */
  RUNNER_WINDOWS: z.enum(['0', '1', 'true', 'false'], { error: '1 or 0' }).optional(),
  /** GPUs of this machine; unset: counted with nvidia-smi. */
  RUNNER_GPUS: z.coerce.number({ error: 'a number of GPUs' }).int('a whole number').min(0, 'zero or more').max(1024, 'at most 1024').optional(),
  // Issue 18 (metrics): the /metrics listener; unset port: none.
  RUNNER_METRICS_PORT: z.coerce.number({ error: 'a port number' }).int('a whole port number').min(0, 'a port from 0 to 65535').max(65535, 'a port from 0 to 65535').optional(),
  RUNNER_METRICS_HOST: z.string().min(1, 'a host name or address').default('127.0.0.1'),
  // Issue 18 (deploy): stream copies when this runner creates the streams before any API.
  NATS_STREAM_REPLICAS: streamReplicasSchema,
});

/** Every variable readRunnerConfig reads (deploy manifests are checked against it). */
export const RUNNER_ENV_NAMES: readonly string[] = Object.keys(schema.shape);

export interface RunnerConfig {
  natsUrl: string;
  natsPrefix: string;
  /** Limits of the streams this runner creates when it starts before any API (NATS_LOGS_MAX_BYTES). */
  streamLimits: StreamLimits;
  runnerId: string;
  concurrency: number;
  tasksDir: string;
  jobsDir: string;
  harborBin: string;
  secretsKey: Buffer | null;
  drainTimeoutMs: number;
  cancelGraceMs: number;
  heartbeatMs: number;
  wallClockSlackMs: number;
  ackWaitMs: number;
  maxDeliver: number;
  logPollMs: number;
  logFlushMs: number;
  /** Named sandbox credential variables (RUNNER_ENVIRONMENT_VARS); null: the table's defaults. */
  environmentVars: string[] | null;
  /** Environment types to serve (RUNNER_ENVIRONMENT_TYPES); null: whatever the machine can. */
  environmentTypes: string[] | null;
  windows: boolean;
  /** RUNNER_GPUS; null: detect. */
  gpus: number | null;
  /** Where /metrics is served (RUNNER_METRICS_PORT, RUNNER_METRICS_HOST); null: nowhere. */
  metrics: { port: number; host: string } | null;
}

export class RunnerConfigError extends Error {
  override name = 'RunnerConfigError';
}

const list = (value: string | undefined) => (value === undefined ? null : [...new Set(value.split(',').map((s) => s.trim()))]);

export function readRunnerConfig(env: NodeJS.ProcessEnv = process.env): RunnerConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    throw new RunnerConfigError(
      parsed.error.issues
        .map((i) => {
          const name = String(i.path[0]);
          return present[name] === undefined ? `${name} must be set (${i.message})` : `${name} must be ${i.message} (got ${JSON.stringify(redactNatsUrl(present[name]!))})`;
        })
        .join('\n'),
    );
  }
  const v = parsed.data;
  let secretsKey: Buffer | null = null;
  if (v.SECRETS_KEY) {
    try {
      secretsKey = parseSecretsKey(v.SECRETS_KEY);
    } catch (error) {
      throw new RunnerConfigError((error as Error).message);
    }
  }
  const dataDir = path.resolve(repoRoot, v.DATA_DIR ?? '.data');
  return {
    natsUrl: v.NATS_URL,
    natsPrefix: v.NATS_PREFIX,
    streamLimits: { ...defaultStreamLimits, logsMaxBytes: v.NATS_LOGS_MAX_BYTES, replicas: v.NATS_STREAM_REPLICAS },
    runnerId: v.RUNNER_ID ?? `${os.hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${process.pid}`,
    concurrency: v.RUNNER_CONCURRENCY,
    tasksDir: path.resolve(repoRoot, v.TASKS_DIR ?? path.join(dataDir, 'tasks')),
    jobsDir: path.resolve(repoRoot, v.JOBS_DIR ?? path.join(dataDir, 'jobs')),
    harborBin: v.HARBOR_BIN,
    secretsKey,
    drainTimeoutMs: v.RUNNER_DRAIN_TIMEOUT_MS,
    cancelGraceMs: v.RUNNER_CANCEL_GRACE_MS,
    heartbeatMs: v.RUNNER_HEARTBEAT_MS,
    wallClockSlackMs: v.RUNNER_WALL_CLOCK_SLACK_MS,
    ackWaitMs: Math.max(1_000, v.RUNNER_ACK_WAIT_MS),
    maxDeliver: v.RUNNER_MAX_DELIVER,
    logPollMs: Math.max(10, v.RUNNER_LOG_POLL_MS),
    logFlushMs: Math.max(10, v.RUNNER_LOG_FLUSH_MS),
    environmentVars: list(v.RUNNER_ENVIRONMENT_VARS),
    environmentTypes: list(v.RUNNER_ENVIRONMENT_TYPES),
    windows: v.RUNNER_WINDOWS === '1' || v.RUNNER_WINDOWS === 'true',
    gpus: v.RUNNER_GPUS ?? null,
    metrics: v.RUNNER_METRICS_PORT === undefined ? null : { port: v.RUNNER_METRICS_PORT, host: v.RUNNER_METRICS_HOST },
  };
}
