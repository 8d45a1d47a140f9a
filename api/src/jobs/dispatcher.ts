// The transactional outbox (DESIGN.md §2.3): publishes every queued, undispatched run to RUNS with
// the run id as JetStream message id, then stamps dispatchedAt. Rows are claimed with
// FOR UPDATE SKIP LOCKED so API replicas share the work; a crash between publish and stamp only
// means a re-publish, which JetStream drops as a duplicate.
import type { JetStreamClient } from '@nats-io/jetstream';
import { encode, orderMsgId, PROTOCOL_VERSION, type HarborOptions, type RunOrder, type SealedSecret, type Topology } from 'runner/protocol';
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { endpointKwargs } from './launch-policy.js';

export interface DispatcherDeps {
  db: Db;
  js: JetStreamClient;
  topology: Topology;
  /** Sealed server-default provider keys by variable name, added to orders of jobs without their own key. */
  defaultSecrets: SealedSecret[];
  log?: (line: string) => void;
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
}

/** What an order is made of, for `FROM "Run" r` joined as ORDER_JOINS. */
const ORDER_COLUMNS = Prisma.sql`r.id, r."jobId", r."taskId", r.repeat, r.attempt, t.name AS "taskName", t."contentHash",
               t."agentTimeoutSec", t."verifierTimeoutSec", t."buildTimeoutSec",
               j.agent, j.model, j."harborOptions", s."envVar", s.ciphertext`;
const ORDER_JOINS = Prisma.sql`JOIN "Job" j ON j.id = r."jobId"
          JOIN "Task" t ON t.id = r."taskId"
          LEFT JOIN "ProviderSecret" s ON s.id = j."providerSecretId"`;

/** The order of one run as the dispatcher would publish it; null when the run is gone. */
export async function orderRow(tx: Prisma.TransactionClient, runId: string): Promise<OrderRow | null> {
  const [row] = await tx.$queryRaw<OrderRow[]>`SELECT ${ORDER_COLUMNS} FROM "Run" r ${ORDER_JOINS} WHERE r.id = ${runId}::uuid`;
  return row ?? null;
}

/** Publishes one batch; returns how many runs it dispatched. */
export async function dispatchBatch(deps: DispatcherDeps): Promise<number> {
  return deps.db.$transaction(
    async (tx) => {
      const rows = await tx.$queryRaw<OrderRow[]>`
        SELECT ${ORDER_COLUMNS}
          FROM "Run" r
          ${ORDER_JOINS}
         WHERE r.status = 'QUEUED' AND r."dispatchedAt" IS NULL AND j."cancelRequestedAt" IS NULL AND j."stopReason" IS NULL
         ORDER BY r."createdAt", r.id
         LIMIT ${BATCH}
           FOR UPDATE OF r SKIP LOCKED`;
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
    source: 'thr',
  };
  await deps.js.publish(deps.topology.runOrder(row.jobId, row.id), encode(order), { msgID: orderMsgId(row.id, order.dispatch) });
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
        while (!stopped && (await dispatchBatch(deps)) > 0);
      } catch (error) {
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
