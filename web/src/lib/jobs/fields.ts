// The job fields list views and the job page read, in one place so subscriptions and queries agree.
/**
 * What a change notification of a list view reads: the job row's counters. Its pass rate (`stats`)
 * is an aggregate over the job's runs, so list views re-read it with their throttled query rather
 * than once per run change per open view.
 */
export const JOB_COUNTERS = `
  id name status agent model runsPerTask createdAt startedAt finishedAt cancelRequestedAt
  runsTotal runsQueued runsClaimed runsRunning runsPassed runsFailed runsErrored runsCancelled
  costUsd inputTokens outputTokens cacheTokens
`;
export const JOB_ROW = `${JOB_COUNTERS} stats { passRate scored passed }`;

/** A job as a change notification brings it: counters, keeping the pass rate last read. */
export function withCounters(previous: JobRow | undefined, job: Omit<JobRow, 'stats'>): JobRow {
  return { ...job, stats: previous?.stats ?? { passRate: null, scored: 0, passed: 0 } };
}

export interface JobRow {
  id: string;
  name: string;
  status: 'QUEUED' | 'RUNNING' | 'CANCELLING' | 'COMPLETED' | 'CANCELLED';
  agent: string;
  model: string | null;
  runsPerTask: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  cancelRequestedAt: string | null;
  runsTotal: number;
  runsQueued: number;
  runsClaimed: number;
  runsRunning: number;
  runsPassed: number;
  runsFailed: number;
  runsErrored: number;
  runsCancelled: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheTokens: number;
  stats: { passRate: number | null; scored: number; passed: number };
}
