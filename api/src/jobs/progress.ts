// How fast a running job goes and when it should be done, in one SQL statement over its runs: runs
// finished per minute over the last few minutes, the runner slots its runs hold, and the remaining
// runs at that pace. Before anything finished there is no pace yet, so the ETA falls back on the
// mean trial time this agent and model took in earlier jobs (the figures of estimates/service.ts),
// spread over the slots in use.
import type { Db } from '../db/client.js';
import type { JobStatus } from '../generated/prisma/enums.js';

/**
 * The throughput window: long enough that a wave of trials finishing together does not make the
 * pace jump, short enough that a runner joining or leaving shows within minutes.
 */
export const THROUGHPUT_WINDOW_MINUTES = 5;

export type EtaBasis = 'THROUGHPUT' | 'ESTIMATE';

export interface JobProgress {
  /** Attempts finished per minute over the window (every attempt takes a slot, retries too). */
  throughputPerMinute: number;
  /** The window actually used: the last 5 minutes, or less when the job started more recently (at least one minute). */
  windowMinutes: number;
  /** Attempts finished within the window. */
  finishedInWindow: number;
  /** Attempts claimed or running: the runner slots the job holds now. */
  slotsInUse: number;
  /** Attempts queued, claimed or running. */
  remainingRuns: number;
  /** Seconds until the remaining attempts are done; null when nothing tells (no pace and no earlier timed run). */
  etaSeconds: number | null;
  etaBasis: EtaBasis | null;
}

const ACTIVE: JobStatus[] = ['QUEUED', 'RUNNING'];

interface Row {
  status: JobStatus;
  finished: number;
  windowMinutes: number;
  slots: number;
  remaining: number;
  meanSeconds: number | null;
}

/** Null for a job that is not queued or running (or does not exist). */
export async function jobProgress(db: Db, jobId: string): Promise<JobProgress | null> {
  const [row] = await db.$queryRaw<Row[]>`
    WITH job AS (
      SELECT id, status, agent, model,
             -- A job that started two minutes ago has a two-minute window, not five minutes of which three were idle.
             greatest(1.0, least(${THROUGHPUT_WINDOW_MINUTES}::float8,
                      extract(epoch FROM now() - coalesce("startedAt", "createdAt")) / 60.0)) AS window_minutes
        FROM "Job" WHERE id = ${jobId}::uuid
    ), runs AS (
      SELECT count(*) FILTER (WHERE r."finishedAt" > now() - make_interval(secs => job.window_minutes * 60)
                                AND r.status IN ('PASSED', 'FAILED', 'ERRORED', 'CANCELLED'))::int AS finished,
             count(*) FILTER (WHERE r.status IN ('CLAIMED', 'RUNNING'))::int AS slots,
             count(*) FILTER (WHERE r.status IN ('QUEUED', 'CLAIMED', 'RUNNING'))::int AS remaining
        FROM job JOIN "Run" r ON r."jobId" = job.id
    )
    SELECT job.status, runs.finished, job.window_minutes AS "windowMinutes", runs.slots, runs.remaining,
           -- Only looked up while nothing finished in the window: the estimate's mean trial of this agent and model.
           CASE WHEN runs.finished = 0 AND runs.remaining > 0 THEN (
             SELECT avg(extract(epoch FROM p."finishedAt" - p."startedAt"))::float8
               FROM "Run" p JOIN "Job" pj ON pj.id = p."jobId"
              WHERE pj.agent = job.agent AND pj.model = job.model
                AND p.status IN ('PASSED', 'FAILED', 'ERRORED') AND p."startedAt" IS NOT NULL AND p."finishedAt" IS NOT NULL
           ) END AS "meanSeconds"
      FROM job, runs`;
  if (!row || !ACTIVE.includes(row.status)) return null;
  const throughputPerMinute = row.finished / row.windowMinutes;
  let etaSeconds: number | null = null;
  let etaBasis: EtaBasis | null = null;
  if (row.remaining === 0) {
    etaSeconds = 0;
    etaBasis = row.finished > 0 ? 'THROUGHPUT' : null;
  } else if (throughputPerMinute > 0) {
    etaSeconds = Math.round((row.remaining / throughputPerMinute) * 60);
    etaBasis = 'THROUGHPUT';
  } else if (row.meanSeconds !== null) {
    // Waves of one trial per slot; with no slot held yet, as if one runner slot were free.
    etaSeconds = Math.round(Math.ceil(row.remaining / Math.max(row.slots, 1)) * row.meanSeconds);
    etaBasis = 'ESTIMATE';
  }
  return {
    throughputPerMinute,
    windowMinutes: row.windowMinutes,
    finishedInWindow: row.finished,
    slotsInUse: row.slots,
    remainingRuns: row.remaining,
    etaSeconds,
    etaBasis,
  };
}
