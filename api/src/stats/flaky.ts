// Flaky and broken tasks (issue 7, item 2). Flaky is a property of one job's numbers, so it needs no
// query; "never passed" looks across every job that ran the task, in one GROUP BY.
import { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import { isScored } from './service.js';

/**
 * A task is flaky within a job when its scored outcomes (counted attempts) include both a pass and
 * a non-pass: the same agent and model on the same task do not agree with themselves.
 */
export function isFlaky(stats: { passed: number; scored: number }): boolean {
  return stats.passed > 0 && stats.passed < stats.scored;
}

/**
 * Of the tasks this job ran, those that have at least one scored run in some job and no PASSED run
 * in any job: candidates for a broken package (a verifier nothing can satisfy, a missing
 * dependency) rather than a hard task. Every attempt counts, extra ones too, since one pass
 * anywhere shows the task can be solved. Infrastructure errors make a run scored only when
 * `includeInfrastructure` is set, as in the pass rates.
 */
export async function neverPassedTasks(db: Db, jobId: string, includeInfrastructure: boolean): Promise<Set<string>> {
  const rows = await db.$queryRaw<{ taskId: string }[]>(Prisma.sql`
    SELECT r."taskId"::text AS "taskId"
      FROM "Run" r
     WHERE r."taskId" IN (SELECT DISTINCT "taskId" FROM "Run" WHERE "jobId" = ${jobId}::uuid)
     GROUP BY r."taskId"
    HAVING bool_or(${isScored(includeInfrastructure)}) AND NOT bool_or(r.status = 'PASSED')`);
  return new Set(rows.map((row) => row.taskId));
}
