// A job's budget (issue 7 item 4): an optional cap on its recorded cost. Once the sum of the
// recorded runs' costUsd (Job.costUsd, kept by the recorder) reaches it, no further run starts:
//
// - The recorder checks the budget in the transaction that adds a finished run's cost, with the job
//   row locked, so exactly one replica flips the job to BUDGET_REACHED (`checkBudget`).
// - The same transaction marks the job's cancel (cancel.ts); that replica then cancels the job's
//   QUEUED runs the way cancelJob does (`enforceBudget`). Should it die first, or NATS be away, the
//   reconciler finds the mark and completes the cancel; cancelling is idempotent.
// - Runs a runner already claimed when the budget was reached run to the end: stopping them would
//   throw away money already spent, and their results are worth having. So the budget is a
//   threshold for starting runs, and the final cost may exceed it by what those runs cost.
// - A claim recorded after the stop (an order a runner pulled before its cancellation record was
//   written, or a redelivery of a run whose runner died) is recorded CANCELLED and the runner told to stop.
// - The dispatcher publishes no orders for a stopped job; retryRuns refuses while the recorded cost
//   is at or over the budget; `setJobBudget` raises (or lowers, or clears) it.
//
// This file holds the rules, checked inside the caller's transaction; budget-stop.ts acts on them.
import type { Prisma } from '../generated/prisma/client.js';
import { enqueueJobEvent } from '../notifications/outbox.js';
import { DomainError, InvalidInputError } from '../schema/errors.js';

type Tx = Prisma.TransactionClient;

/** Decimal(14, 6) holds up to 10^8; a budget must fit the column. */
const MAX_BUDGET_USD = 99_999_999;

/** retryRuns on a job whose recorded cost has reached its budget. */
export class BudgetReachedError extends DomainError {
  readonly code = 'BUDGET_REACHED';
  constructor(
    readonly costUsd: number,
    readonly budgetUsd: number,
  ) {
    super(
      `the job has recorded $${usd(costUsd)} of cost against a budget of $${usd(budgetUsd)}; ` +
        'raise the budget with setJobBudget (or clear it) before retrying runs',
    );
  }
}

/** Dollars with 2 to 4 decimals: $5.02, $0.03, $0.0125. */
export function usd(value: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4, useGrouping: false });
}

export function budgetMessage(costUsd: number, budgetUsd: number): string {
  return `stopped: recorded cost $${usd(costUsd)} reached the budget of $${usd(budgetUsd)}`;
}

/** A budget as given by a client: null clears it, otherwise a positive number of dollars. */
export function checkBudgetValue(value: number | null | undefined, field: string): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isFinite(value) || value <= 0 || value > MAX_BUDGET_USD) {
    throw new InvalidInputError(`${field.split('.').pop()} must be a positive number of US dollars up to ${MAX_BUDGET_USD}, got ${value}`, field);
  }
  return value;
}

interface BudgetRow {
  cost: number;
  budget: number | null;
  reached: boolean;
  stopReason: string | null;
  runsQueued: number;
}

/**
 * Stops the job when its recorded cost has reached its budget and runs are still queued. Runs in
 * the caller's transaction, which must hold (or here takes) the job row lock; returns true when
 * this call stopped the job, so its caller cancels the queued runs after the commit.
 */
export async function checkBudget(tx: Tx, jobId: string): Promise<boolean> {
  const [job] = await tx.$queryRaw<BudgetRow[]>`
    SELECT "costUsd"::float8 AS cost, "budgetUsd"::float8 AS budget, "costUsd" >= "budgetUsd" AS reached,
           "stopReason"::text AS "stopReason", "runsQueued"
      FROM "Job" WHERE id = ${jobId}::uuid FOR UPDATE`;
  if (!job || job.budget === null || !job.reached || job.stopReason !== null || job.runsQueued === 0) return false;
  await tx.$executeRaw`
    UPDATE "Job" SET "stopReason" = 'BUDGET_REACHED', "stopMessage" = ${budgetMessage(job.cost, job.budget)},
                     "cancelsUnrecordedSince" = clock_timestamp(),
                     status = (CASE WHEN status IN ('QUEUED', 'RUNNING') THEN 'CANCELLING' ELSE status END)::"JobStatus"
     WHERE id = ${jobId}::uuid`;
  // Issue 18: webhooks hear of the stop in this transaction (outbox); a raised budget reached again is a new stop.
  await enqueueJobEvent(tx, 'BUDGET_REACHED', jobId, { message: budgetMessage(job.cost, job.budget), dedupeKey: `BUDGET_REACHED:${jobId}:${job.budget}:${job.cost}` });
  return true;
}

/** Throws BudgetReachedError when the job's recorded cost is at or over its budget; call with the job row locked. */
export async function refuseOverBudget(tx: Tx, jobId: string): Promise<void> {
  const [job] = await tx.$queryRaw<BudgetRow[]>`
    SELECT "costUsd"::float8 AS cost, "budgetUsd"::float8 AS budget, "costUsd" >= "budgetUsd" AS reached
      FROM "Job" WHERE id = ${jobId}::uuid`;
  if (job?.budget !== null && job?.budget !== undefined && job.reached) throw new BudgetReachedError(job.cost, job.budget);
}
