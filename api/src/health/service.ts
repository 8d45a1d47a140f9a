// Health of the API's dependencies. No GraphQL here: the schema file maps these to types.
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Topology } from 'runner/protocol';
import { platformVersion } from '../config/version.js';
import type { Db } from '../db/client.js';
import { explainConnectionError } from '../db/errors.js';
import { checkJetStream } from '../nats/connection.js';
import { listRunners } from '../runners/service.js';

export interface ComponentHealth {
  ok: boolean;
  latencyMs: number | null;
  message: string | null;
}

export interface Health {
  ok: boolean;
  version: string;
  database: ComponentHealth;
  nats: ComponentHealth;
  checkedAt: Date;
}

/** A dependency that does not answer within this long is reported down rather than hanging the query. */
const CHECK_TIMEOUT_MS = 3_000;

async function probe(check: () => Promise<string | null>): Promise<ComponentHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    });
    const message = await Promise.race([check(), timeout]);
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10, message };
  } catch (error) {
    return { ok: false, latencyMs: null, message: explainConnectionError(error) };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkHealth(deps: { db: Db; nats: NatsConnection }): Promise<Health> {
  const [database, nats] = await Promise.all([
    probe(async () => {
      const rows = await deps.db.$queryRaw<{ version: string }[]>`SELECT current_setting('server_version') AS version`;
      return `PostgreSQL ${rows[0]?.version ?? 'unknown'}`;
    }),
    probe(async () => {
      if (deps.nats.isClosed()) throw new Error('connection closed');
      await checkJetStream(deps.nats);
      return `NATS ${deps.nats.info?.version ?? 'unknown'} with JetStream`;
    }),
  ]);
  return { ok: database.ok && nats.ok, version: platformVersion, database, nats, checkedAt: new Date() };
}

// Issue 18 (deploy): what `npm run health` reports besides the two probes, for signed-in callers.

export interface StreamHealth {
  name: string;
  /** Copies the stream is configured with (NATS_STREAM_REPLICAS). */
  replicas: number;
  /** The JetStream cluster's name; null on a single server. */
  cluster: string | null;
  /** The server leading the stream; null on a single server or while no leader is elected. */
  leader: string | null;
  /** Followers that are current (caught up and seen recently). */
  currentFollowers: number;
  /** Followers that are offline or behind. */
  laggingFollowers: number;
  /** The most operations any follower is behind the leader. */
  maxLag: number;
  messages: number;
}

export interface ConsumerHealth {
  stream: string;
  name: string;
  /** Messages not yet delivered (for RUNS: orders waiting for a runner of that pool). */
  pending: number;
  /** Delivered, not yet acknowledged. */
  ackPending: number;
}

export interface JetStreamHealth {
  streams: StreamHealth[];
  consumers: ConsumerHealth[];
}

/** RUNS, EVENTS and LOGS as the cluster sees them, and RUNS' consumers (one per pool). */
export async function jetStreamHealth(deps: { nats: NatsConnection; topology: Topology }): Promise<JetStreamHealth> {
  const jsm = await jetstreamManager(deps.nats, { timeout: CHECK_TIMEOUT_MS });
  const streams: StreamHealth[] = [];
  for (const key of ['runs', 'events', 'logs'] as const) {
    const info = await jsm.streams.info(deps.topology.streams[key].name).catch(() => null);
    if (!info) continue;
    const followers = info.cluster?.replicas ?? [];
    streams.push({
      name: info.config.name,
      replicas: info.config.num_replicas,
      cluster: info.cluster?.name ?? null,
      leader: info.cluster?.leader ?? null,
      currentFollowers: followers.filter((r) => r.current && !r.offline).length,
      laggingFollowers: followers.filter((r) => !r.current || r.offline).length,
      maxLag: Math.max(0, ...followers.map((r) => r.lag ?? 0)),
      messages: info.state.messages,
    });
  }
  const consumers: ConsumerHealth[] = [];
  const runs = deps.topology.streams.runs.name;
  try {
    for await (const c of jsm.consumers.list(runs)) consumers.push({ stream: runs, name: c.name, pending: c.num_pending, ackPending: c.num_ack_pending });
  } catch {
    // No RUNS stream yet: no consumers.
  }
  consumers.sort((a, b) => a.name.localeCompare(b.name));
  return { streams, consumers };
}

export interface RunnersHealth {
  live: number;
  draining: number;
  degraded: number;
  lost: number;
  /** Slots of the runners not lost, and how many of them hold a run. */
  slots: number;
  busy: number;
}

export async function runnersHealth(deps: { nats: NatsConnection; topology: Topology }): Promise<RunnersHealth> {
  const counts: RunnersHealth = { live: 0, draining: 0, degraded: 0, lost: 0, slots: 0, busy: 0 };
  for (const r of await listRunners(deps.nats, deps.topology)) {
    counts[r.state.toLowerCase() as 'live' | 'draining' | 'degraded' | 'lost'] += 1;
    if (r.state === 'LOST') continue;
    counts.slots += r.slots;
    counts.busy += r.busy;
  }
  return counts;
}

export interface QueueHealth {
  /** Runs waiting for a runner (QUEUED), dispatched or not. */
  runsQueued: number;
  /** When the oldest of them was created; null when none waits. */
  oldestQueuedAt: Date | null;
}

export async function queueHealth(deps: { db: Db }): Promise<QueueHealth> {
  const [row] = await deps.db.$queryRaw<{ n: number; oldest: Date | null }[]>`
    SELECT count(*)::int AS n, min("createdAt") AS oldest FROM "Run" WHERE status = 'QUEUED'`;
  return { runsQueued: row?.n ?? 0, oldestQueuedAt: row?.oldest ?? null };
}
