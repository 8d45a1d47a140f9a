// A job's budget (issue 7 item 4): an optional cap on its recorded cost. Once the sum of the
// recorded runs' costUsd (Job.costUsd, kept by the recorder) reaches it, no further run starts:
//
// - The recorder checks the budget in the transaction that adds a finished run's cost, with the job
//   row locked, so exactly one replica flips the job to BUDGET_REACHED (`checkBudget`).
// - That replica then cancels the job's QUEUED runs the way cancelJob does (`enforceBudget`). A
//   sweep on every replica repeats it for stopped jobs that still have queued runs, so a replica
//   dying between the commit and the cancel leaves nothing behind; cancelling is idempotent.
// - Runs a runner already claimed when the budget was reached run to the end: stopping them would
//   throw away money already spent, and their results are worth having. So the budget is a
//   threshold for starting runs, and the final cost may exceed it by what those runs cost.
// - A claim recorded after the stop (an order a runner pulled just before the purge, or a
//   redelivery of a run whose runner died) is recorded CANCELLED and the runner told to stop.
// - The dispatcher publishes no orders for a stopped job; retryRuns refuses while the recorded cost
//   is at or over the budget; `setJobBudget` raises (or lowers, or clears) it.
import { jetstreamManager } from '@nats-io/jetstream';
import type { Prisma } from '../generated/prisma/client.js';
import { DomainError, InvalidInputError, NotFoundError } from '../schema/errors.js';
import { cancelRuns, type ControlDeps } from './control.js';
import { notifyJob } from './recorder.js';

type Tx = Prisma.TransactionClient;

/** Decimal(14, 6) holds up to 10^8; a budget must fit the column. */
const MAX_BUDGET_USD = 99_999_999;
/** Purge requests in flight at once when a budget stop empties the queue. */
const PURGES_IN_FLIGHT = 32;

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
                     status = (CASE WHEN status IN ('QUEUED', 'RUNNING') THEN 'CANCELLING' ELSE status END)::"JobStatus"
     WHERE id = ${jobId}::uuid`;
  return true;
}

/**
 * Cancels the QUEUED runs of a job stopped by its budget: their orders are purged from RUNS one
 * subject each (a job-wide purge would also drop the orders of claimed runs, which must stay
 * redeliverable should their runner die), then the runs are recorded CANCELLED. Idempotent.
 */
export async function enforceBudget(deps: ControlDeps, jobId: string): Promise<number> {
  const job = await deps.db.job.findUnique({ where: { id: jobId }, select: { stopReason: true, budgetUsd: true } });
  if (job?.stopReason !== 'BUDGET_REACHED') return 0;
  const queued = await deps.db.run.findMany({ where: { jobId, status: 'QUEUED', dispatchedAt: { not: null } }, select: { id: true } });
  const jsm = await jetstreamManager(deps.nats);
  for (let i = 0; i < queued.length; i += PURGES_IN_FLIGHT) {
    await Promise.all(
      queued
        .slice(i, i + PURGES_IN_FLIGHT)
        .map((run) => jsm.streams.purge(deps.topology.streams.runs.name, { filter: deps.topology.runOrder(jobId, run.id) })),
    );
  }
  const message = `not started: the job's budget of $${usd(Number(job.budgetUsd))} was reached`;
  const cancelled = await cancelRuns(deps, { jobId, status: 'QUEUED' }, { exceptionMessage: message, onlyQueued: true });
  notifyJob(deps.nats, deps.topology, { jobId, runId: '', status: 'CANCELLED' });
  return cancelled;
}

/** Jobs stopped by their budget that still have queued runs: left over when a replica died mid-way. */
export async function sweepBudgetStops(deps: ControlDeps): Promise<void> {
  const jobs = await deps.db.job.findMany({ where: { stopReason: 'BUDGET_REACHED', runsQueued: { gt: 0 } }, select: { id: true } });
  for (const job of jobs) await enforceBudget(deps, job.id);
}

/** Sets, raises, lowers or (null) clears a job's budget; a budget already reached stops the job. */
export async function setJobBudget(deps: ControlDeps, jobId: string, budgetUsd: number | null): Promise<void> {
  const budget = checkBudgetValue(budgetUsd, 'budgetUsd');
  const stopped = await deps.db.$transaction(async (tx) => {
    const [job] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Job" WHERE id = ${jobId}::uuid FOR UPDATE`;
    if (!job) throw new NotFoundError('job', jobId);
    await tx.job.update({ where: { id: jobId }, data: { budgetUsd: budget } });
    return checkBudget(tx, jobId);
  });
  if (stopped) await enforceBudget(deps, jobId);
  else notifyJob(deps.nats, deps.topology, { jobId, runId: '', status: 'QUEUED' });
}

/** Throws BudgetReachedError when the job's recorded cost is at or over its budget; call with the job row locked. */
export async function refuseOverBudget(tx: Tx, jobId: string): Promise<void> {
  const [job] = await tx.$queryRaw<BudgetRow[]>`
    SELECT "costUsd"::float8 AS cost, "budgetUsd"::float8 AS budget, "costUsd" >= "budgetUsd" AS reached
      FROM "Job" WHERE id = ${jobId}::uuid`;
  if (job?.budget !== null && job?.budget !== undefined && job.reached) throw new BudgetReachedError(job.cost, job.budget);
}
