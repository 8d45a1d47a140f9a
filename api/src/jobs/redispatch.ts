// The reconciler's actions on one run (reconciler.ts decides which). Each runs in a transaction
// with the run row locked and first checks that the run is still as the reconciler saw it, so a
// run that moved on meanwhile, or was deleted, changes nothing; each says what it did in the run's
// own log (source `platform`), where a user reading the run sees it.
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { encode, PROTOCOL_VERSION, type LogChunk, type SealedSecret, type Topology } from 'runner/protocol';
import type { Db } from '../db/client.js';
import type { RunStatus } from '../generated/prisma/enums.js';
import { orderRow, publishOrder } from './dispatcher.js';
import { notifyJob, transition, type Applied } from '../runs/lifecycle.js';

export interface RedispatchDeps {
  db: Db;
  nats: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  topology: Topology;
  defaultSecrets: SealedSecret[];
  log: (line: string) => void;
}

/** The run as the reconciler saw it; an action applies only while it is still so. */
export interface SeenRun {
  id: string;
  jobId: string;
  status: RunStatus;
  dispatch: number;
  runnerId: string | null;
}

interface LockedRun {
  id: string;
  jobId: string;
  status: RunStatus;
  dispatch: number;
  runnerId: string | null;
  cancelled: boolean;
}

/**
 * Dispatches after which a run whose order keeps getting lost is given up as an infrastructure
 * failure, like JetStream's max deliveries for one order.
 */
export const MAX_DISPATCHES = 3;

/** Publishes the run's order again under the next dispatch number; removes the stale copy `staleSeq` from RUNS after. */
export async function redispatch(deps: RedispatchDeps, seen: SeenRun, why: string, staleSeq: number | null): Promise<boolean> {
  const applied = await deps.db.$transaction(
    async (tx): Promise<Applied | null> => {
      const run = await lockAsSeen(tx, seen);
      if (!run) return null;
      if (run.cancelled) {
        await transition(tx, run, 'CANCELLED', {
          exceptionType: 'CancelledError',
          exceptionMessage: 'cancelled by a user',
          finishedAt: new Date(),
          runnerId: null,
        });
        return { jobId: run.jobId, runId: run.id, status: 'CANCELLED' };
      }
      if (run.dispatch >= MAX_DISPATCHES) {
        await transition(tx, run, 'ERRORED', {
          failureKind: 'INFRASTRUCTURE',
          exceptionType: 'MaxDeliveriesExceeded',
          exceptionMessage: `the order was dispatched ${run.dispatch} times and no runner finished it (${why})`,
          finishedAt: new Date(),
        });
        return { jobId: run.jobId, runId: run.id, status: 'ERRORED' };
      }
      const row = await orderRow(tx, run.id);
      if (!row) return null;
      // Published before the commit: a crash in between leaves the new order in RUNS with the row
      // on its old dispatch, and the recorder moves the row on when that order's claim arrives.
      await publishOrder(deps, row, run.dispatch + 1);
      await transition(tx, run, 'QUEUED', {
        dispatch: run.dispatch + 1,
        dispatchedAt: new Date(),
        deliveryCount: 0,
        runnerId: null,
        claimedAt: null,
        startedAt: null,
      });
      return { jobId: run.jobId, runId: run.id, status: 'QUEUED' };
    },
    { timeout: 30_000 },
  );
  if (!applied) {
    deps.log(`reconciler: run ${seen.id} changed or was deleted before it could be reconciled (${why}); nothing done`);
    return false;
  }
  if (staleSeq !== null && applied.status === 'QUEUED') {
    await deps.jsm.streams.deleteMessage(deps.topology.streams.runs.name, staleSeq).catch(() => false);
  }
  const next = seen.dispatch + 1;
  const line =
    applied.status === 'QUEUED'
      ? `reconciled: ${why}; dispatched again (dispatch ${next} of at most ${MAX_DISPATCHES})`
      : applied.status === 'CANCELLED'
        ? `reconciled: ${why}; the job was cancelled, so the run is recorded CANCELLED`
        : `reconciled: ${why}; given up after ${seen.dispatch} dispatches`;
  await runLog(deps, seen.id, line);
  deps.log(`reconciler: run ${seen.id}: ${line}`);
  notifyJob(deps.nats, deps.topology, applied);
  return true;
}

async function lockAsSeen(tx: Parameters<Parameters<Db['$transaction']>[0]>[0], seen: SeenRun): Promise<LockedRun | null> {
  const [run] = await tx.$queryRaw<LockedRun[]>`
    SELECT r.id, r."jobId", r.status, r.dispatch, r."runnerId", j."cancelRequestedAt" IS NOT NULL AS cancelled
      FROM "Run" r JOIN "Job" j ON j.id = r."jobId"
     WHERE r.id = ${seen.id}::uuid FOR UPDATE OF r`;
  if (!run || run.status !== seen.status || run.dispatch !== seen.dispatch || run.runnerId !== seen.runnerId) return null;
  return run;
}

/** One line in the run's log, from the platform. */
async function runLog(deps: RedispatchDeps, runId: string, text: string): Promise<void> {
  const chunk: LogChunk = { v: PROTOCOL_VERSION, runId, seq: 1, lines: [{ source: 'platform', text, at: new Date().toISOString() }] };
  await deps.js.publish(deps.topology.runLog(runId), encode(chunk)).catch((error: Error) => deps.log(`reconciler: log of run ${runId}: ${error.message}`));
}
