// Regrade (issue 16 item 11): re-run only the verifier of finished runs, after a task's tests were
// fixed, on the agent output each run recorded (runner/src/harbor/regrade.ts drives Harbor's regrade).
//
// A regrade is a new verdict of the SAME attempt, not a new sample (attempts.ts): it is written as the
// repeat's next attempt with `regradeOfId` = the run it regrades and role EXTRA, so while it is queued,
// running, or if it ends without a score (its verifier broke), nothing changes and the original keeps
// counting. Once it has a scored result (PASSED or FAILED) it takes over the role of the verdict it
// replaces (the original, or that original's previous scored regrade), which becomes REPLACED: every
// counter, pass rate, pass@k and export, which read attemptRole only, then see one sample with the
// new verdict.
//
// Which tests: the task's CURRENT ones. By default each run is regraded with the newest upload of its
// task's name (Task.createdAt; a fixed task is uploaded again under the same name); `taskIds` pins the
// upload to use for the names it covers. Harbor matches the source trial to the task by name, so a
// task of another name cannot regrade it. Runs of multi-step tasks are not regraded: Harbor's regrade
// refuses them (runner/src/harbor/regrade.ts).
import { Prisma } from '../generated/prisma/client.js';
import type { RunStatus } from '../generated/prisma/enums.js';
import { InvalidInputError } from '../schema/errors.js';
import { refuseOverQuota } from '../quotas/service.js';
import { notifyJob } from '../runs/lifecycle.js';
import type { ControlDeps } from './control.js';
import { NotFoundError } from '../schema/errors.js';

type Tx = Prisma.TransactionClient;

/** What regradeRuns(which) regrades, by the current verdict of each original run (over `COALESCE(g.status, r.status)` as `verdict`). */
export const REGRADE_SELECTIONS = {
  FAILED: Prisma.sql`verdict = 'FAILED'`,
  ERRORED: Prisma.sql`verdict = 'ERRORED'`,
  ALL_FINISHED: Prisma.sql`verdict IN ('PASSED', 'FAILED', 'ERRORED')`,
} satisfies Record<string, Prisma.Sql>;
export type RegradeSelection = keyof typeof REGRADE_SELECTIONS;

export interface RegradeRequest {
  which?: RegradeSelection | null;
  /** Instead of `which`: exactly these runs (each an original run of the job with a trial). */
  runIds?: string[] | null;
  /** Uploads whose tests grade the runs of their task name; other names take their newest upload. */
  taskIds?: string[] | null;
}

/**
 * The original runs a regrade may start from: finished with a trial directory, not replaced by a
 * retry, and no regrade of theirs unfinished; with their current verdict (latest scored regrade, else
 * their own status).
 */
function regradable(jobId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT r.id, r."taskId", r.repeat, t.name AS "taskName", COALESCE(g.status, r.status) AS verdict,
           t.steps IS NOT NULL AS "multiStep"
      FROM "Run" r
      JOIN "Task" t ON t.id = r."taskId"
      LEFT JOIN LATERAL (SELECT s.status FROM "Run" s
                          WHERE s."regradeOfId" = r.id AND s.status IN ('PASSED', 'FAILED')
                          ORDER BY s.attempt DESC LIMIT 1) g ON true
     WHERE r."jobId" = ${jobId}::uuid AND r."regradeOfId" IS NULL AND r."harborTrialDir" IS NOT NULL
       AND r.status IN ('PASSED', 'FAILED', 'ERRORED')
       AND (r."attemptRole" <> 'REPLACED' OR g.status IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM "Run" p WHERE p."regradeOfId" = r.id AND p.status IN ('QUEUED', 'CLAIMED', 'RUNNING'))`;
}

interface Source {
  id: string;
  taskId: string;
  repeat: number;
  taskName: string;
  verdict: RunStatus;
  /** Its task has [[steps]]: Harbor's regrade refuses multi-step tasks, so none is started. */
  multiStep: boolean;
}

/** The upload to grade each task name with: the given ones, else the newest of that name. */
async function gradingTasks(tx: Tx, names: string[], taskIds: string[]): Promise<Map<string, string>> {
  const chosen = new Map<string, string>();
  if (taskIds.length > 0) {
    const given = await tx.task.findMany({ where: { id: { in: taskIds } }, select: { id: true, name: true } });
    for (const id of taskIds) {
      const task = given.find((t) => t.id === id);
      if (!task) throw new InvalidInputError(`task ${id} does not exist`, 'taskIds');
      if (!names.includes(task.name)) throw new InvalidInputError(`task ${id} (${task.name}) is not a task of the runs to regrade: Harbor matches a run's trial to its task by name`, 'taskIds');
      if (chosen.has(task.name)) throw new InvalidInputError(`two of taskIds are uploads of ${task.name}: give one`, 'taskIds');
      chosen.set(task.name, task.id);
    }
  }
  const rest = names.filter((n) => !chosen.has(n));
  if (rest.length > 0) {
    const newest = await tx.$queryRaw<{ name: string; id: string }[]>`
      SELECT DISTINCT ON (name) name, id::text FROM "Task" WHERE name = ANY(${rest}::text[]) ORDER BY name, "createdAt" DESC, id`;
    for (const row of newest) chosen.set(row.name, row.id);
  }
  return chosen;
}

/** Adds one regrade per selected run; returns how many. Guards (owner or ADMIN) are the caller's. */
export async function regradeRuns(deps: ControlDeps, jobId: string, request: RegradeRequest): Promise<number> {
  const job = await deps.db.job.findUnique({ where: { id: jobId }, select: { id: true } });
  if (!job) throw new NotFoundError('job', jobId);
  const runIds = request.runIds ?? null;
  const which = request.which ?? null;
  if ((runIds === null) === (which === null)) throw new InvalidInputError('give either which or runIds', runIds === null ? 'which' : 'runIds');
  if (which !== null && !(which in REGRADE_SELECTIONS)) throw new InvalidInputError(`which must be one of ${Object.keys(REGRADE_SELECTIONS).join(', ')}`, 'which');

  const created = await deps.db.$transaction(async (tx) => {
    const [locked] = await tx.$queryRaw<{ createdById: string | null }[]>`SELECT "createdById" FROM "Job" WHERE id = ${jobId}::uuid FOR UPDATE`;
    const condition = which !== null ? REGRADE_SELECTIONS[which] : Prisma.sql`id = ANY(${runIds}::uuid[])`;
    const candidates = await tx.$queryRaw<Source[]>`SELECT * FROM (${regradable(jobId)}) c WHERE ${condition} ORDER BY "taskName", repeat`;
    const multiStep = candidates.filter((s) => s.multiStep);
    if (runIds !== null && multiStep.length > 0) {
      throw new InvalidInputError(
        `not regradable: ${multiStep.map((s) => s.id).join(', ')} (a run of a multi-step task: Harbor's regrade re-runs the verifier of single-step tasks only)`,
        'runIds',
      );
    }
    // `which` leaves multi-step runs out: Harbor would refuse each of them.
    const sources = candidates.filter((s) => !s.multiStep);
    if (runIds !== null) {
      const missing = runIds.filter((id) => !sources.some((s) => s.id === id));
      if (missing.length > 0) {
        throw new InvalidInputError(
          `not regradable: ${missing.join(', ')} (a run of this job that finished with a trial, is not a regrade itself, and has no regrade under way)`,
          'runIds',
        );
      }
    }
    if (sources.length === 0) return 0;
    const tasks = await gradingTasks(tx, [...new Set(sources.map((s) => s.taskName))], request.taskIds ?? []);
    await refuseOverQuota(tx, locked?.createdById ?? null, sources.length);
    for (const source of sources) {
      await tx.$executeRaw`
        INSERT INTO "Run" (id, "jobId", "taskId", repeat, attempt, "attemptRole", "regradeOfId", "regradeTaskId")
        SELECT gen_random_uuid(), ${jobId}::uuid, ${source.taskId}::uuid, ${source.repeat},
               (SELECT max(attempt) + 1 FROM "Run" WHERE "jobId" = ${jobId}::uuid AND "taskId" = ${source.taskId}::uuid AND repeat = ${source.repeat}),
               'EXTRA', ${source.id}::uuid, ${tasks.get(source.taskName) ?? source.taskId}::uuid`;
    }
    await tx.$executeRaw`
      UPDATE "Job" SET "runsTotal" = "runsTotal" + ${sources.length}, "runsQueued" = "runsQueued" + ${sources.length},
                       status = 'RUNNING', "finishedAt" = NULL, "cancelRequestedAt" = NULL,
                       "stopReason" = NULL, "stopMessage" = NULL
       WHERE id = ${jobId}::uuid`;
    return sources.length;
  });
  if (created > 0) notifyJob(deps.nats, deps.topology, { jobId, runId: '', status: 'QUEUED' });
  return created;
}

/**
 * A regrade finished (recorder.ts, in the event's transaction): with a score it becomes the verdict
 * of its attempt, taking the role of the verdict it replaces; without one nothing changes.
 */
export async function settleRegrade(tx: Tx, regradeId: string, sourceId: string, status: RunStatus): Promise<void> {
  if (status !== 'PASSED' && status !== 'FAILED') return;
  await tx.$executeRaw`
    WITH holder AS (
      SELECT id, "attemptRole" FROM "Run"
       WHERE id <> ${regradeId}::uuid
         AND (id = ${sourceId}::uuid OR ("regradeOfId" = ${sourceId}::uuid AND status IN ('PASSED', 'FAILED') AND "attemptRole" <> 'REPLACED'))
         AND "attemptRole" <> 'REPLACED'
       ORDER BY ("regradeOfId" IS NULL), attempt DESC
       LIMIT 1
    ),
    released AS (UPDATE "Run" r SET "attemptRole" = 'REPLACED' FROM holder h WHERE r.id = h.id)
    UPDATE "Run" r SET "attemptRole" = h."attemptRole" FROM holder h WHERE r.id = ${regradeId}::uuid`;
}
