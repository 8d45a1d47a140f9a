// The reconciler (DESIGN.md §2.8) catches what no JetStream redelivery will:
//   a. runs dispatched but not claimed: their order is missing from RUNS (lost), or sits there,
//      already passed by the shared consumer, while runners have free slots (on nats-server 2.9 a
//      subject purge moves the consumer past unrelated orders). Re-published as the next dispatch.
//   b. runs CLAIMED or RUNNING whose runner is gone (no fresh heartbeat, or one that has not listed
//      the run for an ack wait) and whose order no delivery holds any more (it was acked by an
//      older copy of a redelivered order, say). Requeued as the next dispatch, or given up.
//   c. cancels NATS has not heard of (the job's mark, cancel.ts) and jobs CANCELLING for too long:
//      completed (records written, runners asked to stop, queued runs cancelled, the job settled).
//
// One replica acts at a time: it holds a lease, a row in PostgreSQL (ReconcilerLease) it renews
// every tick; another replica takes it over once it has lapsed, and a clean shutdown hands it back.
// Why a row: every action is a database change, so the database's own clock (now()) judges the
// lease, with no clock of ours to trust and nothing more to configure; each acquisition is one short
// statement. (An advisory lock held for the tick would need a transaction, or a session, open across
// the tick's NATS calls: with embedded PGlite's single backend that blocks every other query.) A
// tick that outlives the lease may overlap another replica's: the actions stay safe, as each locks
// its run and checks it is still as seen.
//
// Bounds come from the runners' ack wait (read from the shared consumer): an order is overdue after
// two ack waits (one for a delivery to a runner that died before its claim to come back, one of
// slack); a runner silent for an ack wait is gone (JetStream itself gives its orders away then).
// The tick is one indexed query plus NATS look-ups for the few runs it finds; the hot path pays nothing.
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  decode,
  defaultConsumerSettings,
  poolConsumer,
  RUNNERS_CONSUMER,
  runOrderSchema,
  servesPool,
  type RunnerHeartbeat,
  type SealedSecret,
  type Topology,
} from 'runner/protocol';
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/client.js';
import type { RunStatus } from '../generated/prisma/enums.js';
import { listRunners, runnerCapabilities } from '../runners/service.js';
import { POOL } from './dispatcher.js';
import { completeCancel } from './cancel.js';
import { redispatch, type RedispatchDeps, type SeenRun } from './redispatch.js';
import type { ApiMetrics } from '../metrics/index.js';

export interface ReconcilerDeps {
  db: Db;
  nats: NatsConnection;
  topology: Topology;
  defaultSecrets: SealedSecret[];
  log: (line: string) => void;
  /** Time between ticks; by default half the runners' ack wait, within 1 s … 60 s. */
  intervalMs?: number;
  /** Counts what each tick did (metrics/index.ts). */
  metrics?: ApiMetrics;
}

/** Runs looked at per tick and kind; a backlog beyond it is worked through over the next ticks. */
const BATCH = 200;

interface Candidate {
  kind: 'unclaimed' | 'held' | 'cancel';
  id: string | null;
  jobId: string;
  status: RunStatus | null;
  dispatch: number | null;
  runnerId: string | null;
  mark: Date | null;
  /** The pool its order goes to (null for 'cancel'). */
  pool: string | null;
}

export interface TickReport {
  /** False when another replica holds the lease. */
  acted: boolean;
  redispatched: number;
  cancelsCompleted: number;
}

export function startReconciler(deps: ReconcilerDeps): { stop(): Promise<void>; tick(): Promise<TickReport> } {
  // When a live runner's heartbeat first left out a run it should hold: only the acting replica keeps it.
  const missingSince = new Map<string, number>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let ackWaitMs = defaultConsumerSettings.ackWaitMs;
  const holder = randomUUID();
  const interval = () => deps.intervalMs ?? Math.min(60_000, Math.max(1_000, ackWaitMs / 2));

  const tick = async (): Promise<TickReport> => {
    const jsm = await jetstreamManager(deps.nats);
    ackWaitMs = await runnersAckWait(jsm, deps.topology);
    // Outlives a few ticks, so its holder keeps it; lapses soon enough after the holder dies.
    if (!(await takeLease(deps.db, holder, Math.max(3 * interval(), 2 * ackWaitMs)))) {
      missingSince.clear();
      return { acted: false, redispatched: 0, cancelsCompleted: 0 };
    }
    const report = await reconcile({ ...deps, js: jetstream(deps.nats), jsm }, ackWaitMs, missingSince);
    if (report.redispatched > 0) deps.metrics?.reconcilerActions.inc({ kind: 'redispatched' }, report.redispatched);
    if (report.cancelsCompleted > 0) deps.metrics?.reconcilerActions.inc({ kind: 'cancel_completed' }, report.cancelsCompleted);
    return report;
  };

  const loop = async () => {
    try {
      await tick();
    } catch (error) {
      deps.log(`reconciler: ${(error as Error).message}; trying again next tick`);
    }
    if (!stopped) timer = setTimeout(() => void (running = loop()), interval());
  };
  running = loop();
  return {
    tick,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
      await deps.db.reconcilerLease.deleteMany({ where: { holder } }).catch(() => undefined);
    },
  };
}

/** Takes or renews the lease; false while another replica holds it. */
async function takeLease(db: Db, holder: string, ttlMs: number): Promise<boolean> {
  const taken = await db.$queryRaw<{ holder: string }[]>`
    INSERT INTO "ReconcilerLease" (id, holder, until) VALUES (1, ${holder}, now() + ${ttlMs} * interval '1 millisecond')
    ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
     WHERE "ReconcilerLease".holder = EXCLUDED.holder OR "ReconcilerLease".until < now()
    RETURNING holder`;
  return taken.length === 1;
}

/** The longest ack wait the runners set on their consumers (one per pool); the default before any runner has started. */
async function runnersAckWait(jsm: JetStreamManager, topology: Topology): Promise<number> {
  let longest = 0;
  try {
    for await (const info of jsm.consumers.list(topology.streams.runs.name)) longest = Math.max(longest, (info.config.ack_wait ?? 0) / 1_000_000);
  } catch {
    // No stream yet: no runner has started.
  }
  return longest || defaultConsumerSettings.ackWaitMs;
}

async function reconcile(deps: RedispatchDeps, ackWaitMs: number, missingSince: Map<string, number>): Promise<TickReport> {
  const now = Date.now();
  const overdue = new Date(now - 2 * ackWaitMs);
  const silent = new Date(now - ackWaitMs);
  const candidates = await deps.db.$queryRaw<Candidate[]>`
    (SELECT 'unclaimed' AS kind, r.id, r."jobId", r.status, r.dispatch, r."runnerId", NULL::timestamptz AS mark, ${POOL} AS pool
       FROM "Run" r JOIN "Job" j ON j.id = r."jobId" JOIN "Task" t ON t.id = r."taskId"
      WHERE r.status = 'QUEUED' AND r."dispatchedAt" < ${overdue} AND j."cancelRequestedAt" IS NULL AND j."stopReason" IS NULL
      ORDER BY r."dispatchedAt" LIMIT ${BATCH})
    UNION ALL
    (SELECT 'held', r.id, r."jobId", r.status, r.dispatch, r."runnerId", NULL, ${POOL}
       FROM "Run" r JOIN "Job" j ON j.id = r."jobId" JOIN "Task" t ON t.id = r."taskId"
      WHERE r.status IN ('CLAIMED', 'RUNNING') AND COALESCE(r."claimedAt", r."dispatchedAt") < ${silent}
      ORDER BY r."claimedAt" LIMIT ${BATCH})
    UNION ALL
    (SELECT 'cancel', NULL, j.id, NULL, NULL, NULL, j."cancelsUnrecordedSince", NULL
       FROM "Job" j WHERE j."cancelsUnrecordedSince" IS NOT NULL LIMIT ${BATCH})
    UNION ALL
    (SELECT 'cancel', NULL, j.id, NULL, NULL, NULL, NULL, NULL
       FROM "Job" j WHERE j.status = 'CANCELLING' AND j."cancelsUnrecordedSince" IS NULL AND j."cancelRequestedAt" < ${overdue} LIMIT ${BATCH})`;
  const report: TickReport = { acted: true, redispatched: 0, cancelsCompleted: 0 };

  for (const job of candidates.filter((c) => c.kind === 'cancel')) {
    if (await completeCancel(deps, job.jobId, job.mark)) {
      report.cancelsCompleted++;
      deps.log(`reconciler: completed the cancel of job ${job.jobId}`);
    }
  }

  const beats = new Map((await listRunners(deps.nats, deps.topology, now)).map((b) => [b.runnerId, b] as const));
  const live = (beat: RunnerHeartbeat | undefined) => beat !== undefined && now - Date.parse(beat.at) <= ackWaitMs;
  const holders = new Set([...beats.values()].filter(live).flatMap((b) => b.runIds));
  // Per pool: the free slots of the live runners serving it, and how far its consumer got.
  const taking = [...beats.values()].filter((b) => live(b) && !b.draining && !b.degraded);
  const freeSlots = (pool: string) =>
    taking.filter((b) => servesPool(runnerCapabilities(b), pool)).reduce((sum, b) => sum + Math.max(0, b.slots - b.busy), 0);
  const passed = new Map<string, Promise<number>>();
  const passedSeq = (consumer: string) => {
    const known = passed.get(consumer);
    if (known) return known;
    const seq = deps.jsm.consumers.info(deps.topology.streams.runs.name, consumer).then((c) => c.delivered.stream_seq, () => 0);
    passed.set(consumer, seq);
    return seq;
  };

  const held = new Set<string>();
  for (const c of candidates) {
    if (c.kind === 'cancel' || !c.id) continue;
    const seen: SeenRun = { id: c.id, jobId: c.jobId, status: c.status!, dispatch: c.dispatch!, runnerId: c.runnerId };
    if (c.kind === 'unclaimed') {
      // Nothing stays queued with free slots; without free slots, waiting is what queued runs do.
      if (freeSlots(c.pool!) === 0 || holders.has(seen.id)) continue;
      const order = await storedOrder(deps, seen, c.pool!);
      // Not reached by its consumer yet: it will be delivered. Of a later dispatch: one is under way.
      if (order && (order.seq > (await passedSeq(order.consumer)) || order.dispatch > seen.dispatch)) continue;
      const why = order ? 'the order sat in the queue, passed over, while runners had free slots' : 'the order was no longer in the queue';
      if (await redispatch(deps, seen, why, order?.seq ?? null)) report.redispatched++;
      continue;
    }
    held.add(seen.id);
    const beat = seen.runnerId ? beats.get(seen.runnerId) : undefined;
    if (live(beat) && beat!.runIds.includes(seen.id)) {
      missingSince.delete(seen.id);
      continue;
    }
    if (live(beat)) {
      // A live runner that does not list the run: give its next beats an ack wait to show it.
      const since = missingSince.get(seen.id) ?? now;
      missingSince.set(seen.id, since);
      if (now - since < ackWaitMs) continue;
    }
    // An order still in RUNS is redelivered by JetStream (or held by another delivery): leave it.
    if (holders.has(seen.id) || (await storedOrder(deps, seen, c.pool!))) continue;
    const why = live(beat)
      ? `runner ${seen.runnerId} no longer holds the run and its order is gone from the queue`
      : `runner ${seen.runnerId ?? '(unknown)'} is gone and no delivery of the order is left`;
    missingSince.delete(seen.id);
    if (await redispatch(deps, seen, why, null)) report.redispatched++;
  }
  for (const id of missingSince.keys()) if (!held.has(id)) missingSince.delete(id);
  return report;
}

/**
 * The run's order in RUNS (its stream sequence and the consumer that reads it), or null when no
 * message is left on its subjects: its pool's, then the subject of orders published before pools.
 */
async function storedOrder(
  deps: RedispatchDeps,
  run: SeenRun,
  pool: string,
): Promise<{ seq: number; dispatch: number; consumer: string } | null> {
  const runs = deps.topology.streams.runs.name;
  // Null only when the server says there is none; any other failure ends the tick, acting on nothing.
  let stored = await deps.jsm.streams.getMessage(runs, { last_by_subj: deps.topology.runOrder(run.jobId, run.id, pool) });
  const consumer = stored ? poolConsumer(pool) : RUNNERS_CONSUMER;
  if (!stored) stored = await deps.jsm.streams.getMessage(runs, { last_by_subj: deps.topology.runOrder(run.jobId, run.id) });
  if (!stored) return null;
  try {
    return { seq: stored.seq, dispatch: decode(runOrderSchema, stored.data, `order of run ${run.id}`).dispatch, consumer };
  } catch {
    return { seq: stored.seq, dispatch: 0, consumer };
  }
}
