// The job fields list views and the job page read, in one place so subscriptions and queries agree.
import { graphql, type ResultOf } from '$lib/graphql/graphql';

/**
 * What a change notification of a list view reads: the job row's counters. Its pass rate (`stats`)
 * is an aggregate over the job's runs, so list views re-read it with their throttled query rather
 * than once per run change per open view.
 */
export const JobCounters = graphql(`
  fragment JobCounters on Job {
    id name status agent model runsPerTask createdAt startedAt finishedAt cancelRequestedAt
    runsTotal runsQueued runsClaimed runsRunning runsPassed runsFailed runsErrored runsCancelled
    attemptsTotal extraAttempts replacedAttempts
    costUsd inputTokens outputTokens cacheTokens
    tags archivedAt
  }
`);

export const JobRowFields = graphql(
  `
  fragment JobRow on Job {
    ...JobCounters
    stats { passRate scored passed }
  }
`,
  [JobCounters],
);

export type JobCounters = ResultOf<typeof JobCounters>;
export type JobRow = ResultOf<typeof JobRowFields>;

/** The list views' live feed: every job's counters as the recorder changes them. */
export const JobsUpdated = graphql(
  `
  subscription JobsUpdated {
    jobsUpdated { ...JobCounters }
  }
`,
  [JobCounters],
);

/** A job as a change notification brings it: counters, keeping the pass rate last read. */
export function withCounters(previous: JobRow | undefined, job: JobCounters): JobRow {
  return { ...job, stats: previous?.stats ?? { passRate: null, scored: 0, passed: 0 } };
}

/** The job page's header: the row plus what only the page shows. */
export const JobDetailFields = graphql(
  `
  fragment JobDetail on Job {
    ...JobRow
    harborOptions hasProviderKey budgetUsd stopMessage cancelNote quotaHold waitingForRunner
    createdBy { id name }
    notes
    progress { throughputPerMinute windowMinutes finishedInWindow slotsInUse remainingRuns etaSeconds etaBasis }
    exportUrls { runsCsv runsJson tasksCsv tasksJson }
  }
`,
  [JobRowFields],
);
export type JobDetail = ResultOf<typeof JobDetailFields>;

/** A cell of the task × repeat matrix: every attempt comes, each saying whether it is the one that counts. */
export const RunCell = graphql(`
  fragment RunCell on Run { id repeat attempt attemptRole status reward task { id name } }
`);
export type MatrixRun = ResultOf<typeof RunCell>;

export const RunStatsFields = graphql(`
  fragment RunStats on RunStats {
    runs scored passed failed errored erroredAgent erroredInfrastructure cancelled unfinished includesInfrastructure
    passRate passRateLow passRateHigh meanReward durationP50Ms durationP95Ms phaseDurations { phase p50Ms p95Ms }
    costPerPass tokensPerPass passAtK { k value } extraAttempts bestOf bestOfPassed bestOfPassRate
  }
`);
export type Stats = ResultOf<typeof RunStatsFields>;

export const TaskStatFields = graphql(`
  fragment TaskStat on TaskStats {
    task { id name } runs passed failed errored erroredInfrastructure cancelled unfinished scored
    passRate passRateLow passRateHigh passAtK { k value } durationP50Ms meanReward costUsd flaky neverPassed
    extraAttempts bestOf bestOfPassed
  }
`);
export type TaskStat = ResultOf<typeof TaskStatFields>;

/** A verifier test and how often it failed in this job (counted attempts). */
export const FailingTestFields = graphql(`
  fragment FailingTest on FailingTest { task { id name } name failures runs lastMessage sampleRunId }
`);
export type FailingTest = ResultOf<typeof FailingTestFields>;

export const ErrorCountFields = graphql(`
  fragment ErrorCount on ErrorCount { exceptionType failureKind count sampleMessage sampleRunId }
`);
export type ErrorCount = ResultOf<typeof ErrorCountFields>;

/** What each retry button would start: latest attempts per (task, repeat) that match. */
export const RetryableFields = graphql(`
  fragment Retryable on RetryableRuns { failed errored infra cancelled }
`);
export type Retryable = ResultOf<typeof RetryableFields>;
