// The delivery worker: sends the outbox's rows (outbox.ts) and notices the events no transaction
// marks (a job stuck for lack of a runner, a runner gone silent). Every API replica runs one.
//
// Each attempt is made once across replicas: a tick claims due PENDING rows in one statement
// (`FOR UPDATE SKIP LOCKED`, so two replicas never claim the same row, and a lease, `leaseUntil`,
// so a row stays taken while its request is under way). The result is written back only while the
// lease is still ours. A worker that dies mid-request leaves the lease to lapse, and the row is
// tried again: delivery is at least once, and receivers tell repeats by X-THR-Delivery.
//
// Retries back off exponentially with jitter: with the defaults (6 attempts, 2 minutes doubling)
// the last attempt is about an hour after the first. Network errors, timeouts, 408, 429 and 5xx are
// retried; any other answer is the receiver's final word. Everything is in PostgreSQL, so pending
// retries survive a restart of every API process.
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { describePool, servesPool, type Topology } from 'runner/protocol';
import { open } from 'runner/secrets';
import type { Db } from '../db/client.js';
import type { WebhookEvent, WebhookFormat } from '../generated/prisma/enums.js';
import { POOL } from '../jobs/dispatcher.js';
import { listRunners, runnerCapabilities, type RunnerState } from '../runners/service.js';
import { enqueueJobEvent, enqueueRunnerLost } from './outbox.js';
import { renderBody, type EventData } from './payload.js';
import { DELIVERY_HEADER, EVENT_HEADER, signature, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './signing.js';
import { urlProblem } from './urls.js';

export interface WebhookSettings {
  /** WEBHOOK_ALLOW_PRIVATE: webhooks may post to private and loopback addresses (urls.ts). */
  allowPrivate: boolean;
  /** Attempts per delivery, the first included. */
  maxAttempts: number;
  /** Wait after the first failed attempt; doubled after each further one. */
  baseDelayMs: number;
  /** How long one attempt may take, connection to last byte of the answer's head. */
  timeoutMs: number;
  /** How often due deliveries are looked for. */
  pollMs: number;
  /** How often stuck jobs and lost runners are looked for. */
  watchIntervalMs: number;
  /** A job is stuck once its queued runs have had no runner able to take them for this long. */
  stuckAfterMs: number;
  /** Finished deliveries kept per webhook (the delivery log); older ones are deleted. */
  keepDeliveries: number;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  allowPrivate: true,
  maxAttempts: 6,
  baseDelayMs: 120_000,
  timeoutMs: 10_000,
  pollMs: 1_000,
  watchIntervalMs: 15_000,
  stuckAfterMs: 10 * 60_000,
  keepDeliveries: 200,
};

export interface WebhookWorkerDeps {
  db: Db;
  nats: NatsConnection;
  topology: Topology;
  secretsKey: Buffer;
  /** PUBLIC_URL: job links in bodies. */
  publicUrl: string;
  settings: WebhookSettings;
  log: (line: string) => void;
  /** Seconds since the epoch for X-THR-Timestamp; tests may set the clock. */
  now?: () => number;
}

/** Deliveries claimed per tick; a backlog is worked through over the next ticks. */
const BATCH = 20;

interface Claimed {
  id: string;
  webhookId: string;
  event: WebhookEvent;
  payload: EventData;
  attempts: number;
  leaseUntil: Date;
  url: string;
  format: WebhookFormat;
  secretCiphertext: string;
  enabled: boolean;
}

export interface AttemptLogEntry {
  attempt: number;
  at: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

interface Outcome {
  statusCode: number | null;
  error: string | null;
  delivered: boolean;
  retry: boolean;
}

/** The wait after attempt `attempt` (1-based) failed: base · 2^(attempt-1), ±10 % jitter. */
export function backoffMs(settings: Pick<WebhookSettings, 'baseDelayMs'>, attempt: number): number {
  const plain = settings.baseDelayMs * 2 ** (attempt - 1);
  return Math.round(plain * (0.9 + Math.random() * 0.2));
}

export interface WebhookWorker {
  /** Claims and sends the due deliveries once; resolves with how many attempts were made. */
  tick(): Promise<number>;
  /** Looks for stuck jobs and lost runners once. */
  watch(): Promise<void>;
  stop(): Promise<void>;
}

export function startWebhookWorker(deps: WebhookWorkerDeps, options: { loop?: boolean } = {}): WebhookWorker {
  const settings = deps.settings;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  // When each job was first seen with queued runs no runner can take (this replica's view).
  const unservedSince = new Map<string, number>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let lastWatch = 0;
  // Lost runners this replica has enqueued already (their records stay in the bucket for an hour).
  const toldLost = new Set<string>();

  const tick = async (): Promise<number> => {
    const leaseMs = settings.timeoutMs + 30_000;
    const claimed = await deps.db.$queryRaw<Claimed[]>`
      UPDATE "WebhookDelivery" d
         SET "leaseUntil" = now() + ${leaseMs} * interval '1 millisecond', attempts = d.attempts + 1
        FROM "Webhook" w
       WHERE w.id = d."webhookId"
         AND d.id IN (SELECT id FROM "WebhookDelivery"
                       WHERE status = 'PENDING' AND "nextAttemptAt" <= now() AND ("leaseUntil" IS NULL OR "leaseUntil" < now())
                       ORDER BY "nextAttemptAt" LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
      RETURNING d.id, d."webhookId", d.event::text AS event, d.payload, d.attempts, d."leaseUntil", w.url, w.format::text AS format, w."secretCiphertext", w.enabled`;
    await Promise.all(claimed.map((delivery) => attempt(delivery)));
    for (const webhookId of new Set(claimed.map((c) => c.webhookId))) await prune(webhookId);
    return claimed.length;
  };

  const attempt = async (d: Claimed): Promise<void> => {
    const started = Date.now();
    const outcome = await send(d).catch((error: Error): Outcome => ({ statusCode: null, error: error.message, delivered: false, retry: true }));
    const entry: AttemptLogEntry = { attempt: d.attempts, at: new Date(started).toISOString(), statusCode: outcome.statusCode, error: outcome.error, durationMs: Date.now() - started };
    const last = outcome.delivered || !outcome.retry || d.attempts >= settings.maxAttempts;
    const status = outcome.delivered ? 'DELIVERED' : last ? 'FAILED' : 'PENDING';
    const delay = last ? 0 : backoffMs(settings, d.attempts);
    const written = await deps.db.$executeRaw`
      UPDATE "WebhookDelivery"
         SET status = ${status}::"WebhookDeliveryStatus", "lastStatusCode" = ${outcome.statusCode}, "lastError" = ${outcome.error},
             "leaseUntil" = NULL, "nextAttemptAt" = now() + ${delay} * interval '1 millisecond',
             "finishedAt" = CASE WHEN ${last} THEN now() END, log = log || ${JSON.stringify([entry])}::jsonb
       WHERE id = ${d.id}::uuid AND "leaseUntil" = ${d.leaseUntil.toISOString()}::timestamptz`;
    if (written === 0) deps.log(`webhooks: delivery ${d.id} outlived its lease; another attempt may have been made`);
  };

  const send = async (d: Claimed): Promise<Outcome> => {
    if (!d.enabled && d.event !== 'PING') return { statusCode: null, error: 'the webhook is disabled', delivered: false, retry: false };
    const refused = await urlProblem(d.url, settings.allowPrivate);
    if (refused) return { statusCode: null, error: `URL refused: ${refused}`, delivered: false, retry: false };
    const secret = open(deps.secretsKey, d.secretCiphertext, secretContext(d.webhookId));
    const body = renderBody(d.format, d.id, d.payload, deps.publicUrl);
    const timestamp = now();
    let response: Response;
    try {
      response = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Terminal-Bench-Harbor-Runner-Webhooks/1',
          [EVENT_HEADER]: d.event,
          [DELIVERY_HEADER]: d.id,
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signature(secret, timestamp, body),
        },
        body,
        // A redirect could lead anywhere, private addresses included: it is the receiver's answer, not followed.
        redirect: 'manual',
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
    } catch (error) {
      const e = error as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${settings.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      return { statusCode: null, error: why, delivered: false, retry: true };
    }
    await response.body?.cancel().catch(() => undefined);
    const code = response.status;
    if (code >= 200 && code < 300) return { statusCode: code, error: null, delivered: true, retry: false };
    const retry = code === 408 || code === 429 || code >= 500;
    const error = code >= 300 && code < 400 ? `HTTP ${code}: redirects are not followed` : `HTTP ${code}`;
    return { statusCode: code, error, delivered: false, retry };
  };

  const prune = async (webhookId: string): Promise<void> => {
    await deps.db.$executeRaw`
      DELETE FROM "WebhookDelivery"
       WHERE "webhookId" = ${webhookId}::uuid AND status <> 'PENDING'
         AND id NOT IN (SELECT id FROM "WebhookDelivery" WHERE "webhookId" = ${webhookId}::uuid ORDER BY "createdAt" DESC LIMIT ${settings.keepDeliveries})`;
  };

  const watch = async (): Promise<void> => {
    const at = Date.now();
    const runners = await listRunners(deps.nats, deps.topology, at);
    const lost = runners.filter((r) => r.state === 'LOST');
    const lostKeys = new Set(lost.map((r) => `${r.runnerId}:${r.at}`));
    for (const key of toldLost) if (!lostKeys.has(key)) toldLost.delete(key);
    for (const runner of lost) {
      const key = `${runner.runnerId}:${runner.at}`;
      if (toldLost.has(key)) continue;
      await deps.db.$transaction((tx) => enqueueRunnerLost(tx, { id: runner.runnerId, lastHeartbeatAt: runner.at, runIds: runner.runIds }));
      toldLost.add(key);
    }
    // Jobs with queued runs and nothing under way, that someone's webhook wants JOB_STUCK for.
    const waiting = await deps.db.$queryRaw<{ id: string; progress: number }[]>`
      SELECT j.id, (j."runsPassed" + j."runsFailed" + j."runsErrored" + j."runsCancelled")::int AS progress FROM "Job" j
       WHERE j.status IN ('QUEUED', 'RUNNING') AND j."runsQueued" > 0 AND j."runsClaimed" = 0 AND j."runsRunning" = 0
         AND j."cancelRequestedAt" IS NULL AND j."stopReason" IS NULL
         AND EXISTS (SELECT 1 FROM "Webhook" w WHERE w.enabled AND 'JOB_STUCK' = ANY(w.events)
                       AND (w."jobId" = j.id OR (w."jobId" IS NULL AND w."userId" = j."createdById")))
       LIMIT 500`;
    const seen = new Set<string>();
    for (const job of waiting) {
      const why = await unserved(deps.db, job.id, runners);
      if (!why) continue;
      seen.add(job.id);
      const since = unservedSince.get(job.id) ?? at;
      unservedSince.set(job.id, since);
      if (at - since < settings.stuckAfterMs) continue;
      // One alert per stuck spell: runs finishing in between start a new one.
      const minutes = Math.round((at - since) / 60_000);
      await deps.db.$transaction((tx) =>
        enqueueJobEvent(tx, 'JOB_STUCK', job.id, { dedupeKey: `JOB_STUCK:${job.id}:${job.progress}`, message: `${why} for ${minutes} minute(s)` }),
      );
    }
    for (const id of unservedSince.keys()) if (!seen.has(id)) unservedSince.delete(id);
  };

  const loop = async () => {
    try {
      while (!stopped && (await tick()) === BATCH);
      if (!stopped && Date.now() - lastWatch >= settings.watchIntervalMs) {
        lastWatch = Date.now();
        await watch();
      }
    } catch (error) {
      deps.log(`webhooks: ${(error as Error).message}; trying again next tick`);
    }
    if (!stopped) timer = setTimeout(() => void (running = loop()), settings.pollMs);
  };
  if (options.loop !== false) running = loop();
  return {
    tick,
    watch,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/**
 * What a job's queued runs wait for when no live (or degraded, soon back) runner serves their pool;
 * null when some runner could take them. Unlike Job.waitingForRunner this counts runs already
 * dispatched: with no runner at all, orders are published and sit in RUNS.
 */
async function unserved(db: Db, jobId: string, runners: RunnerState[]): Promise<string | null> {
  const up = runners.filter((r) => r.state === 'LIVE' || r.state === 'DEGRADED');
  const pools = await db.$queryRaw<{ pool: string }[]>`
    SELECT DISTINCT ${POOL} AS pool FROM "Run" r JOIN "Job" j ON j.id = r."jobId" JOIN "Task" t ON t.id = r."taskId"
     WHERE r."jobId" = ${jobId}::uuid AND r.status = 'QUEUED'`;
  const missing = pools.map((p) => p.pool).filter((pool) => !up.some((r) => servesPool(runnerCapabilities(r), pool)));
  return missing.length === 0 ? null : `waiting for a runner that can serve ${missing.map(describePool).join(', ')}`;
}

/** The associated data a webhook's secret is sealed with: a sealed secret opens for its own webhook only. */
export function secretContext(webhookId: string): string {
  return `webhook:${webhookId}`;
}

/** A unique id for a new webhook, known before the insert so its secret can be sealed for it. */
export const newWebhookId = (): string => randomUUID();
