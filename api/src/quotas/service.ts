// Per-user quotas (issue 15 item 10): an ADMIN caps how many runs a user may have active at once
// (QUEUED + CLAIMED + RUNNING across the jobs they created) and what they may spend per calendar
// month (UTC; the recorded cost of their runs that finished this month).
//
// - createJob and retryRuns check both inside their own transaction, with the user's row locked,
//   so two launches racing cannot both slip under the limit (`refuseOverQuota`).
// - The spend cap reached during the month *holds* the user's queued runs: the dispatcher publishes
//   no further order for them (dispatcher.ts) and Job.quotaHold says why. Unlike a job's budget,
//   which ends that job (budget.ts), the cap is a calendar limit that lifts by itself on the 1st or
//   when an ADMIN raises it; cancelling would throw the queue away and force retries. Runs a runner
//   already claimed run to the end, as with the budget.
// - Jobs without a creator (from before accounts, or whose user was deleted) have no quota.
import type { Viewer } from '../auth/viewer.js';
import { recordAudit } from '../audit/record.js';
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { usd } from '../jobs/budget.js';
import { DomainError, InvalidInputError, NotFoundError } from '../schema/errors.js';

type Tx = Prisma.TransactionClient;

/** Far above any real fleet; keeps the figure an Int and catches typos like 1e9. */
export const MAX_ACTIVE_RUNS_LIMIT = 1_000_000;
/** Decimal(14, 6) holds up to 10^8. */
const MAX_SPEND_CAP_USD = 99_999_999;

/** The start of the current calendar month in UTC, as the database computes it. */
export const MONTH_START = Prisma.sql`(date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`;

export interface UserUsage {
  /** Runs QUEUED, CLAIMED or RUNNING across the user's jobs. */
  activeRuns: number;
  /** Recorded cost of the user's runs finished this calendar month (UTC). */
  monthSpendUsd: number;
  maxActiveRuns: number | null;
  monthlySpendCapUsd: number | null;
}

/** A launch or retry that would take its user over a quota; the message has the figures. */
export class QuotaExceededError extends DomainError {
  readonly code = 'QUOTA_EXCEEDED';
  constructor(
    message: string,
    readonly usage: UserUsage,
    /** Runs the refused request would have added. */
    readonly newRuns: number,
  ) {
    super(message);
  }
}

interface UsageRow {
  activeRuns: number;
  monthSpendUsd: number;
  maxActiveRuns: number | null;
  monthlySpendCapUsd: number | null;
}

/**
 * One user's figures in one statement. Active runs come from the jobs' run counters (kept by the
 * recorder in the run's own transaction), so the count reads a few job rows, not every run.
 */
async function readUsage(db: Db | Tx, userId: string): Promise<UsageRow | null> {
  const [row] = await db.$queryRaw<UsageRow[]>`
    SELECT u."maxActiveRuns", u."monthlySpendCapUsd"::float8 AS "monthlySpendCapUsd",
           (SELECT COALESCE(SUM(j."runsQueued" + j."runsClaimed" + j."runsRunning"), 0)::int
              FROM "Job" j WHERE j."createdById" = u.id AND j.status IN ('QUEUED', 'RUNNING', 'CANCELLING')) AS "activeRuns",
           (SELECT COALESCE(SUM(r."costUsd"), 0)::float8
              FROM "Run" r JOIN "Job" j ON j.id = r."jobId"
             WHERE j."createdById" = u.id AND r."finishedAt" >= ${MONTH_START} AND r."costUsd" IS NOT NULL) AS "monthSpendUsd"
      FROM "User" u WHERE u.id = ${userId}::uuid`;
  return row ?? null;
}

export async function userUsage(db: Db, userId: string): Promise<UserUsage> {
  const row = await readUsage(db, userId);
  if (!row) throw new NotFoundError('user', userId);
  return row;
}

/**
 * Throws QuotaExceededError when adding `newRuns` would take the user over their active-runs limit,
 * or their spend this month has reached their cap. Call inside the transaction that writes the
 * runs: it locks the user's row, so launches of one user are checked one after the other.
 */
export async function refuseOverQuota(tx: Tx, userId: string | null, newRuns: number): Promise<void> {
  if (userId === null || newRuns <= 0) return;
  // The lock first, in a statement of its own: under READ COMMITTED a statement that waited for the
  // lock still reads the other rows as of its start, and would miss the runs of the launch it waited for.
  await tx.$executeRaw`SELECT 1 FROM "User" WHERE id = ${userId}::uuid FOR UPDATE`;
  const usage = await readUsage(tx, userId);
  if (!usage) return; // the creator was deleted meanwhile: no quota, as for jobs without a creator
  if (usage.monthlySpendCapUsd !== null && usage.monthSpendUsd >= usage.monthlySpendCapUsd) {
    throw new QuotaExceededError(
      `spent $${usd(usage.monthSpendUsd)} this month, which reached the monthly cap of $${usd(usage.monthlySpendCapUsd)}; ` +
        'an ADMIN can raise it with setUserQuota, or wait for the next month (UTC)',
      usage,
      newRuns,
    );
  }
  if (usage.maxActiveRuns !== null && usage.activeRuns + newRuns > usage.maxActiveRuns) {
    throw new QuotaExceededError(
      `would have ${usage.activeRuns + newRuns} active runs, limit ${usage.maxActiveRuns} ` +
        `(${usage.activeRuns} queued or running now + ${newRuns} new); wait for runs to finish, launch fewer, or ask an ADMIN to raise the limit`,
      usage,
      newRuns,
    );
  }
}

export interface QuotaInput {
  userId: string;
  /** Absent: unchanged; null: no limit. */
  maxActiveRuns?: number | null;
  monthlySpendCapUsd?: number | null;
}

/** Sets (null: clears) a user's quotas and records QUOTA_SET with the old and new values, in one transaction. */
export async function setUserQuota(
  db: Db,
  audit: { actor: Viewer | null; ip: string | null },
  input: QuotaInput,
): Promise<UserUsage> {
  const data: { maxActiveRuns?: number | null; monthlySpendCapUsd?: number | null } = {};
  if (input.maxActiveRuns !== undefined) data.maxActiveRuns = checkMaxActiveRuns(input.maxActiveRuns);
  if (input.monthlySpendCapUsd !== undefined) data.monthlySpendCapUsd = checkSpendCap(input.monthlySpendCapUsd);
  if (Object.keys(data).length === 0) {
    throw new InvalidInputError('give maxActiveRuns, monthlySpendCapUsd or both (null removes a limit)', 'input');
  }
  await db.$transaction(async (tx) => {
    const [before] = await tx.$queryRaw<{ name: string; maxActiveRuns: number | null; monthlySpendCapUsd: number | null }[]>`
      SELECT name, "maxActiveRuns", "monthlySpendCapUsd"::float8 AS "monthlySpendCapUsd"
        FROM "User" WHERE id = ${input.userId}::uuid FOR UPDATE`;
    if (!before) throw new NotFoundError('user', input.userId);
    await tx.user.update({ where: { id: input.userId }, data, select: { id: true } });
    await recordAudit(tx, {
      actor: audit.actor,
      action: 'QUOTA_SET',
      targetType: 'user',
      targetId: input.userId,
      ip: audit.ip,
      detail: {
        user: before.name,
        before: { maxActiveRuns: before.maxActiveRuns, monthlySpendCapUsd: before.monthlySpendCapUsd },
        after: { maxActiveRuns: before.maxActiveRuns, monthlySpendCapUsd: before.monthlySpendCapUsd, ...data },
      },
    });
  });
  return userUsage(db, input.userId);
}

function checkMaxActiveRuns(value: number | null): number | null {
  if (value === null) return null;
  if (!Number.isInteger(value) || value < 0 || value > MAX_ACTIVE_RUNS_LIMIT) {
    throw new InvalidInputError(`maxActiveRuns must be a whole number from 0 to ${MAX_ACTIVE_RUNS_LIMIT}, or null for no limit; got ${value}`, 'input.maxActiveRuns');
  }
  return value;
}

function checkSpendCap(value: number | null): number | null {
  if (value === null) return null;
  if (!Number.isFinite(value) || value < 0 || value > MAX_SPEND_CAP_USD) {
    throw new InvalidInputError(
      `monthlySpendCapUsd must be a number of US dollars from 0 to ${MAX_SPEND_CAP_USD}, or null for no cap; got ${value}`,
      'input.monthlySpendCapUsd',
    );
  }
  return value;
}

/** Why a job's queued runs are not being dispatched, or null when nothing holds them. */
export async function quotaHold(db: Db, createdById: string | null): Promise<string | null> {
  if (createdById === null) return null;
  const row = await readUsage(db, createdById);
  if (!row || row.monthlySpendCapUsd === null || row.monthSpendUsd < row.monthlySpendCapUsd) return null;
  return (
    `queued runs held: the creator's spend this month ($${usd(row.monthSpendUsd)}) reached their monthly cap of ` +
    `$${usd(row.monthlySpendCapUsd)}; they start again when an ADMIN raises it or the month ends (UTC)`
  );
}
