// Acting on a reached budget (the rules are in budget.ts): cancelling the job's queued runs, and
// changing the budget. Apart from budget.ts so that the recorder and retries, which only check the
// rules, do not depend on the cancel path.
import { NotFoundError } from '../schema/errors.js';
import { notifyJob } from '../runs/lifecycle.js';
import { checkBudget, checkBudgetValue } from './budget.js';
import { completeCancel } from './cancel.js';
import type { ControlDeps } from './control.js';

/**
 * Cancels the QUEUED runs of a job stopped by its budget, as cancel.ts does for a user's cancel (no
 * purge of RUNS: their orders stay until a runner drops them). Idempotent; returns false when NATS
 * was unreachable and the reconciler completes it later.
 */
export async function enforceBudget(deps: ControlDeps, jobId: string): Promise<boolean> {
  const job = await deps.db.job.findUnique({ where: { id: jobId }, select: { stopReason: true, cancelsUnrecordedSince: true } });
  if (job?.stopReason !== 'BUDGET_REACHED') return true;
  const complete = await completeCancel(deps, jobId, job.cancelsUnrecordedSince);
  notifyJob(deps.nats, deps.topology, { jobId, runId: '', status: 'CANCELLED' });
  return complete;
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
