// The transactional outbox (DESIGN.md §2.3): publishes queued, undispatched runs to RUNS with the
// run id as JetStream message id, then stamps dispatchedAt. A crash between publish and stamp only
// means a re-publish, which JetStream drops as a duplicate.
//
// Fair share (issue 15 item 10). RUNS is a FIFO work queue read by one shared consumer: once an
// order is in it, nothing can overtake it. So while runners are known, the dispatcher publishes only
// as many orders as they have free slots (their slots, from the heartbeats, minus the runs already
// dispatched and not finished), and picks them round-robin between users: a waiting run's turn is
// its rank among its creator's waiting runs plus the runs that creator already has in flight. The
// lowest turn goes first; a tie goes to the creator with fewer runs waiting, then to the older run.
// Runs without a creator count as one user. So a 10-run job of one user starts within one slot
// turnover of a 10,000-run job of another, whatever their order of creation.
// With no runner heard from (none started yet, or all silent), there is no capacity to share and
// every waiting run is published as before, oldest first: the first runner to come starts at once. The price: a job launched while no runner is up is queued in RUNS whole, ahead of later jobs.
//
// Pools (issue 16 items 7–9, runner/protocol pools.ts): an order is published under the pool of
// what its trial needs (environment type; Windows and GPUs from the task's task.toml), and only
// while some live runner serving that pool has a free slot (runners/capacity.ts SlotPlan), so runs
// no runner can serve wait QUEUED — not in RUNS — and the job says what it waits for. Fair share
// holds within each pool; pools take turns by their oldest waiting run.
//
// A creator whose monthly spend reached their cap (quotas/service.ts) gets no further orders; their
// runs wait QUEUED (Job.quotaHold says why).
//
// One dispatch round is one query. Replicas take turns through a transaction-scoped advisory lock:
// two replicas counting free slots at once would each fill them.
import type { JetStreamClient } from '@nats-io/jetstream';
import { DEFAULT_SOURCE, encode, orderMsgId, PROTOCOL_VERSION, type HarborOptions, type RunOrder, type SealedSecret, type Topology } from 'runner/protocol';
import type { Db } from '../db/client.js';
import { SlotPlan, type RunnerSlots } from '../runners/capacity.js';
import { Prisma } from '../generated/prisma/client.js';
import { endpointKwargs } from './launch-policy.js';
import { MONTH_START } from '../quotas/service.js';
import type { ApiMetrics } from '../metrics/index.js';

export interface DispatcherDeps {
  db: Db;
  js: JetStreamClient;
  topology: Topology;
  /** Sealed server-default provider keys by variable name, added to orders of jobs without their own key. */
  defaultSecrets: SealedSecret[];
  /**
   * The runners that take orders now, with their slots and pools; null when no runner is known
   * (nothing to share: every waiting run is published). Unset: null.
   */
  capacity?: () => Promise<RunnerSlots[] | null>;
  log?: (line: string) => void;
  /** Counts orders published and failed rounds (metrics/index.ts). */
  metrics?: ApiMetrics;
}

/** Runs published per transaction: big enough to move 10,000 runs in seconds, small enough to keep locks short. */
const BATCH = 500;
/** Publishes in flight at once within a batch. */
const IN_FLIGHT = 128;

export interface OrderRow {
  id: string;
  jobId: string;
  taskId: string;
  repeat: number;
  attempt: number;
  taskName: string;
  contentHash: string;
  agentTimeoutSec: number | null;
  verifierTimeoutSec: number | null;
  buildTimeoutSec: number | null;
  agent: string;
  model: string;
  harborOptions: HarborOptions;
  envVar: string | null;
  ciphertext: string | null;
  /** A regrade's source trial directory (relative to JOBS_DIR); null for an ordinary run. */
  regradeSourceTrialDir: string | null;
  /** The pool its order goes to (POOL). */
  pool: string;
}

/** Whether task `t` declares `[environment].os = "windows"` (any case), as Harbor reads it. */
export const TASK_WINDOWS = Prisma.sql`COALESCE(lower(t.metadata->'environment'->>'os') = 'windows', false)`;
/** Whether task `t` asks for GPUs; a nested CASE, as SQL does not promise to evaluate AND left to right. */
export const TASK_GPU = Prisma.sql`CASE WHEN jsonb_typeof(t.metadata->'environment'->'gpus') = 'number'
  THEN (t.metadata->'environment'->>'gpus')::numeric > 0 ELSE false END`;

/**
 * The pool of a run, for `FROM "Run" r JOIN "Job" j … JOIN "Task" t`: the job's environment type,
 * then `_windows` for a task with `[environment].os = "windows"` and `_gpu` for one asking for GPUs
 * (read from the task.toml kept in Task.metadata). Must agree with poolOf in runner/protocol.
 */
export const POOL = Prisma.sql`(COALESCE(j."harborOptions"->>'environmentType', 'docker')
  || CASE WHEN ${TASK_WINDOWS} THEN '_windows' ELSE '' END
  || CASE WHEN ${TASK_GPU} THEN '_gpu' ELSE '' END)`;

/** What an order is made of, for `FROM "Run" r` joined as ORDER_JOINS. */
const ORDER_COLUMNS = Prisma.sql`r.id, r."jobId", r."taskId", r.repeat, r.attempt, t.name AS "taskName", t."contentHash",
               t."agentTimeoutSec", t."verifierTimeoutSec", t."buildTimeoutSec",
               j.agent, j.model, j."harborOptions", s."envVar", s.ciphertext, src."harborTrialDir" AS "regradeSourceTrialDir",
               ${POOL} AS pool`;
// A regrade's task is the upload whose tests grade it (regrade.ts), its source the run it regrades.
const ORDER_JOINS = Prisma.sql`JOIN "Job" j ON j.id = r."jobId"
          JOIN "Task" t ON t.id = COALESCE(r."regradeTaskId", r."taskId")
          LEFT JOIN "ProviderSecret" s ON s.id = j."providerSecretId"
          LEFT JOIN "Run" src ON src.id = r."regradeOfId"`;

/** The order of one run as the dispatcher would publish it; null when the run is gone. */
export async function orderRow(tx: Prisma.TransactionClient, runId: string): Promise<OrderRow | null> {
  const [row] = await tx.$queryRaw<OrderRow[]>`SELECT ${ORDER_COLUMNS} FROM "Run" r ${ORDER_JOINS} WHERE r.id = ${runId}::uuid`;
  return row ?? null;
}

/** Any constant of our own; pg_advisory_xact_lock keys are one bigint namespace per database. */
const DISPATCH_LOCK = 7_301_115_001;

/**
 * Creators whose spend this month reached their cap: their runs get no orders. Only creators with
 * a cap and queued runs are looked at, as the spend sum reads their runs finished this month.
 */
const OVER_CAP = Prisma.sql`
  SELECT u.id FROM "User" u
   WHERE u."monthlySpendCapUsd" IS NOT NULL
     AND EXISTS (SELECT 1 FROM "Job" uj WHERE uj."createdById" = u.id AND uj.status IN ('QUEUED', 'RUNNING') AND uj."runsQueued" > 0)
     AND (SELECT COALESCE(SUM(ur."costUsd"), 0) FROM "Run" ur JOIN "Job" uj ON uj.id = ur."jobId"
           WHERE uj."createdById" = u.id AND ur."finishedAt" >= ${MONTH_START}) >= u."monthlySpendCapUsd"`;

/** A run waiting for its order, for `FROM "Run" r JOIN "Job" j`. */
const WAITING = Prisma.sql`r.status = 'QUEUED' AND r."dispatchedAt" IS NULL AND j."cancelRequestedAt" IS NULL AND j."stopReason" IS NULL
  AND (j."createdById" IS NULL OR j."createdById" NOT IN (${OVER_CAP}))`;

/**
 * The next runs to publish: without a pool, every pool's, oldest first (no runner known: nothing to
 * share); with one, that pool's in fair-share order (see the top of this file). At most `limit`.
 * Runs locked by another transaction are skipped.
 */
export function nextRuns(tx: Prisma.TransactionClient, pool: string | null, limit: number): Promise<OrderRow[]> {
  // Without a pool every waiting run goes out: oldest first is as fair as any order, and spares
  // each batch the ranking (and the count of dispatched runs, which grows to the whole queue here).
  if (pool === null) {
    return tx.$queryRaw<OrderRow[]>`
      SELECT ${ORDER_COLUMNS} FROM "Run" r ${ORDER_JOINS}
       WHERE ${WAITING}
       ORDER BY r."createdAt", r.id
       LIMIT ${limit}
         FOR UPDATE OF r SKIP LOCKED`;
  }
  return tx.$queryRaw<OrderRow[]>`
    WITH in_flight AS (
      SELECT j."createdById" AS owner, count(*)::int AS n
        FROM "Run" r JOIN "Job" j ON j.id = r."jobId"
       WHERE r.status IN ('CLAIMED', 'RUNNING') OR (r.status = 'QUEUED' AND r."dispatchedAt" IS NOT NULL)
       GROUP BY j."createdById"
    ),
    waiting AS (
      SELECT r.id, r."createdAt", j."createdById" AS owner,
             ROW_NUMBER() OVER (PARTITION BY j."createdById" ORDER BY r."createdAt", r.id) AS rank,
             count(*) OVER (PARTITION BY j."createdById") AS backlog
        FROM "Run" r JOIN "Job" j ON j.id = r."jobId" JOIN "Task" t ON t.id = r."taskId"
       WHERE ${WAITING} AND ${POOL} = ${pool}
    ),
    picked AS (
      SELECT w.id, w.rank + COALESCE(f.n, 0) AS turn, w.backlog, w."createdAt"
        FROM waiting w LEFT JOIN in_flight f ON f.owner IS NOT DISTINCT FROM w.owner
       ORDER BY turn, w.backlog, w."createdAt", w.id
       LIMIT ${limit}
    )
    SELECT ${ORDER_COLUMNS}
      FROM picked p
      JOIN "Run" r ON r.id = p.id
      ${ORDER_JOINS}
     -- Checked again on the locked row: a run cancelled since this statement began is left alone.
     WHERE r.status = 'QUEUED' AND r."dispatchedAt" IS NULL
     ORDER BY p.turn, p.backlog, p."createdAt", p.id
       FOR UPDATE OF r SKIP LOCKED`;
}

/** Runs in flight (dispatched, not finished) per pool. */
export async function inFlightByPool(tx: Prisma.TransactionClient): Promise<Map<string, number>> {
  const rows = await tx.$queryRaw<{ pool: string; n: number }[]>`
    SELECT ${POOL} AS pool, count(*)::int AS n
      FROM "Run" r JOIN "Job" j ON j.id = r."jobId" JOIN "Task" t ON t.id = r."taskId"
     WHERE r.status IN ('CLAIMED', 'RUNNING') OR (r.status = 'QUEUED' AND r."dispatchedAt" IS NOT NULL)
     GROUP BY 1`;
  return new Map(rows.map((r) => [r.pool, r.n]));
}

/** Pools with runs waiting for an order, the one waiting longest first, with how many wait. */
export function waitingPools(tx: Prisma.TransactionClient, jobId?: string): Promise<{ pool: string; n: number }[]> {
  return tx.$queryRaw<{ pool: string; n: number }[]>`
    SELECT ${POOL} AS pool, count(*)::int AS n
      FROM "Run" r JOIN "Job" j ON j.id = r."jobId" JOIN "Task" t ON t.id = r."taskId"
     WHERE ${WAITING} ${jobId === undefined ? Prisma.empty : Prisma.sql`AND r."jobId" = ${jobId}::uuid`}
     GROUP BY 1
     ORDER BY min(r."createdAt")`;
}

/** The runs of one batch: with runners known, each pool's share of the free slots of the runners serving it. */
async function batchRuns(tx: Prisma.TransactionClient, runners: RunnerSlots[] | null): Promise<OrderRow[]> {
  if (runners === null) return nextRuns(tx, null, BATCH);
  const plan = new SlotPlan(runners, await inFlightByPool(tx));
  const rows: OrderRow[] = [];
  for (const { pool, n } of await waitingPools(tx)) {
    const granted = plan.grant(pool, Math.min(n, BATCH - rows.length));
    if (granted > 0) rows.push(...(await nextRuns(tx, pool, granted)));
    if (rows.length >= BATCH) break;
  }
  return rows;
}

/** Publishes one batch; returns how many runs it dispatched. */
export async function dispatchBatch(deps: DispatcherDeps): Promise<number> {
  const runners = deps.capacity ? await deps.capacity() : null;
  return deps.db.$transaction(
    async (tx) => {
      // Its own statement, so the query below sees what the replica before us committed.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${DISPATCH_LOCK}::bigint)`;
      const rows = await batchRuns(tx, runners);
      if (rows.length === 0) return 0;
      for (let i = 0; i < rows.length; i += IN_FLIGHT) {
        await Promise.all(rows.slice(i, i + IN_FLIGHT).map((row) => publishOrder(deps, row, 1)));
      }
      await tx.run.updateMany({ where: { id: { in: rows.map((r) => r.id) } }, data: { dispatchedAt: new Date() } });
      return rows.length;
    },
    { timeout: 60_000 },
  );
}

/**
 * The longest a trial can legitimately take: every phase at its task timeout × multiplier, with
 * Harbor's defaults where the task sets none (harbor-contract §2). Null when the agent phase is
 * unlimited, so the runner sets no wall-clock guard.
 */
export function maxDurationSec(row: Pick<OrderRow, 'agentTimeoutSec' | 'verifierTimeoutSec' | 'buildTimeoutSec' | 'harborOptions'>): number | null {
  if (row.agentTimeoutSec === null) return null;
  const h = row.harborOptions;
  const m = (phase: number | null) => phase ?? h.timeoutMultiplier;
  return (
    row.agentTimeoutSec * m(h.agentTimeoutMultiplier) +
    (row.verifierTimeoutSec ?? 600) * m(h.verifierTimeoutMultiplier) +
    (row.buildTimeoutSec ?? 600) * m(h.environmentBuildTimeoutMultiplier) +
    360 * m(h.agentSetupTimeoutMultiplier)
  );
}

/**
 * The keys an order carries: the job's own key, else the server's default keys. The defaults also go
 * along as `redact` with a job's own key, so the runner can scrub them from what it reports whichever
 * key the run got. An old job (launched before the launch policy) whose agent kwargs point the agent
 * at another endpoint gets no default key: it would be sent there.
 */
export function orderSecrets(
  defaults: SealedSecret[],
  row: Pick<OrderRow, 'ciphertext' | 'envVar' | 'harborOptions'>,
): Pick<RunOrder, 'secrets' | 'redact'> {
  if (row.ciphertext && row.envVar) return { secrets: [{ envVar: row.envVar, ciphertext: row.ciphertext }], redact: defaults };
  if (endpointKwargs(row.harborOptions.agentKwargs).length > 0) return { secrets: [], redact: defaults };
  return { secrets: defaults, redact: [] };
}

/** Publishes a run's order; the message id makes a repeat of the same dispatch a no-op. */
export async function publishOrder(deps: Pick<DispatcherDeps, 'js' | 'topology' | 'defaultSecrets'>, row: OrderRow, dispatch: number): Promise<void> {
  const order: RunOrder = {
    v: PROTOCOL_VERSION,
    runId: row.id,
    jobId: row.jobId,
    taskId: row.taskId,
    taskName: row.taskName,
    taskDir: `${row.contentHash.trim()}/${row.taskName}`,
    repeat: row.repeat,
    attempt: row.attempt,
    dispatch,
    agent: row.agent,
    model: row.model || null,
    harbor: row.harborOptions,
    maxDurationSec: maxDurationSec(row),
    ...orderSecrets(deps.defaultSecrets, row),
    source: DEFAULT_SOURCE,
    ...(row.regradeSourceTrialDir ? { regrade: { sourceTrialDir: row.regradeSourceTrialDir } } : {}),
  };
  await deps.js.publish(deps.topology.runOrder(row.jobId, row.id, row.pool), encode(order), { msgID: orderMsgId(row.id, order.dispatch) });
}

/**
 * Runs the outbox until stopped: drains every pending run, then waits for a kick (a job was just
 * created) or the poll interval, which catches runs written by another replica or before a crash.
 */
export function startDispatcher(deps: DispatcherDeps, pollMs = 1_000): { kick(): void; stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const sleep = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const loop = (async () => {
    while (!stopped) {
      try {
        for (let n = 1; !stopped && n > 0; ) {
          n = await dispatchBatch(deps);
          deps.metrics?.runsDispatched.inc(n);
        }
      } catch (error) {
        deps.metrics?.dispatcherErrors.inc();
        deps.log?.(`dispatcher: ${(error as Error).message}; retrying`);
      }
      if (!stopped) await sleep();
    }
  })();
  return {
    kick: () => wake?.(),
    stop: async () => {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
