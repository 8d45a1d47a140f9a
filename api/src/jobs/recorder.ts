// The recorder (DESIGN.md §2.5): applies run events from EVENTS to Postgres, exactly once in
// effect. Each event is applied in one transaction with the run row locked; an event already
// applied (same or older stream sequence), from an older delivery — deliveries are ordered by
// (dispatch, deliveryCount) — or arriving after the run finished changes nothing. The one exception
// is an older delivery's outcome while the run has none yet: a finished trial is kept (see applyEvent). Job counters move
// with each status change in the same transaction.
// After the commit it publishes `updates.job.<jobId>` for every API replica's subscribers.
import { Prisma } from '../generated/prisma/client.js';
import type { RunStatus } from '../generated/prisma/enums.js';
import type { RunEvent, RunResult } from 'runner/protocol';
import type { Db } from '../db/client.js';
import { replaceTests, testColumns } from '../tests/service.js';
import { transition, type Applied } from '../runs/lifecycle.js';
import { checkBudget } from './budget.js';
import { settleRegrade } from './regrade.js';

type Tx = Prisma.TransactionClient;

export const TERMINAL: ReadonlySet<RunStatus> = new Set(['PASSED', 'FAILED', 'ERRORED', 'CANCELLED']);
/** Order of the live states within one delivery: an event may only move a run forward. */
const RANK: Record<RunStatus, number> = { QUEUED: 0, CLAIMED: 1, RUNNING: 2, PASSED: 3, FAILED: 3, ERRORED: 3, CANCELLED: 3 };
interface LockedRun {
  id: string;
  jobId: string;
  status: RunStatus;
  dispatch: number;
  deliveryCount: number;
  lastEventSeq: bigint;
  cancelRequested: boolean;
  /** The job's budget was reached (budget.ts): no run of it may start any more. */
  budgetStopped: boolean;
  /** Set for a regrade (regrade.ts): its scored outcome becomes the verdict of the run it regrades. */
  regradeOfId: string | null;
}

export interface EventOutcome {
  applied: Applied | null;
  /**
   * The run should not be running (cancelled before this runner took it, or finished by an older
   * delivery while a newer one runs): tell the runner holding it to stop.
   */
  stop: boolean;
  /** This event's cost took the job to its budget: cancel its queued runs (budget-stop.ts `enforceBudget`). */
  budgetReached?: boolean;
}

function resultData(result: RunResult, at: Date): Prisma.RunUpdateInput {
  return {
    reward: result.reward,
    rewards: result.rewards ?? Prisma.DbNull,
    exceptionType: result.exceptionType,
    exceptionMessage: result.exceptionMessage,
    failureKind: result.failureKind,
    inputTokens: result.inputTokens,
    cacheTokens: result.cacheTokens,
    outputTokens: result.outputTokens,
    costUsd: result.costUsd,
    environmentSetupMs: result.environmentSetupMs,
    agentSetupMs: result.agentSetupMs,
    agentExecutionMs: result.agentExecutionMs,
    verifierMs: result.verifierMs,
    harborTrialDir: result.trialDir,
    rewardFlag: result.rewardFlag?.kind ?? null,
    rewardFlagDetail: result.rewardFlag?.detail ?? null,
    finishedAt: at,
    ...detailData(result),
  };
}

/** Issue 16 item 3's fields; an older runner sends none of them, and then they stay empty. */
function detailData(result: RunResult): Prisma.RunUpdateInput {
  const json = (value: unknown) => (value === undefined || value === null ? Prisma.DbNull : (value as Prisma.InputJsonValue));
  return {
    agentVersion: result.agentVersion ?? null,
    modelUsage: result.modelUsage?.length ? json(result.modelUsage) : Prisma.DbNull,
    agentMetadata: json(result.agentMetadata),
    exceptionTraceback: result.exceptionTraceback ?? null,
    exceptionOccurredAt: result.exceptionOccurredAt ? new Date(result.exceptionOccurredAt) : null,
    verifierEnvironmentMode: result.verifierEnvironmentMode ?? null,
    stepResults: result.steps?.length ? json(result.steps) : Prisma.DbNull,
  };
}

/** Applies one event; `applied` is null when the event was stale or repeated. */
export async function applyEvent(db: Db, event: RunEvent, seq: number): Promise<EventOutcome> {
  return db.$transaction(async (tx) => {
    const [run] = await tx.$queryRaw<LockedRun[]>`
      SELECT r.id, r."jobId", r.status, r.dispatch, r."deliveryCount", r."lastEventSeq", j."cancelRequestedAt" IS NOT NULL AS "cancelRequested",
             j."stopReason" IS NOT NULL AS "budgetStopped", r."regradeOfId"::text AS "regradeOfId"
        FROM "Run" r JOIN "Job" j ON j.id = r."jobId"
       WHERE r.id = ${event.runId}::uuid FOR UPDATE OF r`;
    if (!run || run.jobId !== event.jobId) return { applied: null, stop: event.type !== 'finished' };
    // Events of a delivery that is (or may still be) running Harbor; a stop request makes sense only for those.
    const live = event.type === 'claimed' || event.type === 'started';
    if (TERMINAL.has(run.status)) return { applied: null, stop: live && BigInt(seq) > run.lastEventSeq };
    const delivery = compareDelivery(event, run);
    // An older delivery's outcome while a newer one has not finished (the order was redelivered while
    // its first copy was still finishing): that trial ran to the end, so it is the run's result, and the
    // newer copy is told to stop; its own outcome then arrives after the end and is dropped. Throwing
    // the finished trial away would run it (its containers, its model spend) once more.
    const olderOutcome = delivery < 0 && event.type === 'finished';
    if (BigInt(seq) <= run.lastEventSeq || (delivery < 0 && !olderOutcome)) return { applied: null, stop: false };
    const at = new Date(event.at);
    let budgetReached = false;
    const to = targetStatus(event);
    // A newer delivery restarts the run's life (a runner died; another took the order, or the
    // reconciler re-published it). A release moves its own delivery back to the queue, so it is the
    // one event that may go backwards.
    if (delivery === 0 && RANK[to] <= RANK[run.status] && !TERMINAL.has(to) && event.type !== 'released') {
      return { applied: null, stop: false };
    }

    const common: Prisma.RunUpdateInput = {
      lastEventSeq: BigInt(seq),
      dispatch: event.dispatch,
      deliveryCount: event.deliveryCount,
      runnerId: event.runnerId,
    };
    // After a budget stop no run starts: not one still queued, nor a new delivery of one whose runner died.
    if (live && run.budgetStopped && (run.status === 'QUEUED' || delivery > 0)) {
      await transition(tx, run, 'CANCELLED', {
        ...common,
        exceptionType: 'CancelledError',
        exceptionMessage: "not started: the job's budget was reached",
        finishedAt: at,
      });
      return { applied: { jobId: run.jobId, runId: run.id, status: 'CANCELLED' }, stop: true };
    }
    if (event.type === 'claimed') {
      await transition(tx, run, to, { ...common, claimedAt: at, startedAt: null });
    } else if (event.type === 'started') {
      await transition(tx, run, to, { ...common, startedAt: at, harborTrialDir: event.trialDir });
    } else if (event.type === 'dropped') {
      await transition(tx, run, to, { ...common, exceptionType: 'CancelledError', exceptionMessage: 'cancelled before it started', finishedAt: at });
    } else if (event.type === 'released') {
      // The order stays in RUNS and is redelivered; until then the run waits like any queued one.
      await transition(tx, run, to, { ...common, runnerId: null, claimedAt: null, startedAt: null });
    } else {
      await transition(tx, run, to, { ...common, ...resultData(event.result, at), ...testColumns(event.result.tests) });
      await replaceTests(tx, run.id, event.result.tests);
      if (run.regradeOfId) await settleRegrade(tx, run.id, run.regradeOfId, to);
      await addUsage(tx, run.jobId, event.result);
      if (event.result.costUsd) budgetReached = await checkBudget(tx, run.jobId);
    }
    return { applied: { jobId: run.jobId, runId: run.id, status: to }, stop: (live && run.cancelRequested) || olderOutcome, budgetReached };
  });
}

/** Negative when the event comes from an older delivery than the run's last, 0 from the same, positive from a newer. */
function compareDelivery(event: Pick<RunEvent, 'dispatch' | 'deliveryCount'>, run: Pick<LockedRun, 'dispatch' | 'deliveryCount'>): number {
  return event.dispatch !== run.dispatch ? event.dispatch - run.dispatch : event.deliveryCount - run.deliveryCount;
}

function targetStatus(event: RunEvent): RunStatus {
  switch (event.type) {
    case 'claimed':
      return 'CLAIMED';
    case 'started':
      return 'RUNNING';
    case 'finished':
      return event.result.status;
    case 'dropped':
      return 'CANCELLED';
    case 'released':
      return 'QUEUED';
  }
}

async function addUsage(tx: Tx, jobId: string, result: RunResult): Promise<void> {
  if (result.inputTokens === null && result.outputTokens === null && result.cacheTokens === null && result.costUsd === null) return;
  await tx.$executeRaw`
    UPDATE "Job" SET "inputTokens" = "inputTokens" + ${result.inputTokens ?? 0},
                     "cacheTokens" = "cacheTokens" + ${result.cacheTokens ?? 0},
                     "outputTokens" = "outputTokens" + ${result.outputTokens ?? 0},
                     "costUsd" = "costUsd" + ${result.costUsd ?? 0}
     WHERE id = ${jobId}::uuid`;
}
