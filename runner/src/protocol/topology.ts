// Names of every NATS stream, subject and bucket the platform uses (DESIGN.md §3).
// Subjects are the API: one token per id, so wildcards and last-by-subject lookups work. RUNS is
// never purged by subject (on nats-server 2.9 that moves the shared consumer past other orders).
// A prefix isolates one deployment (or one test) from another on a shared server.

export interface Topology {
  readonly prefix: string;
  readonly streams: {
    /** Run orders, a work queue shared by all runners: `runs.<pool>.<job>.<run>`, and `runs.<job>.<run>` from before pools. */
    readonly runs: { readonly name: string; readonly subjects: string[] };
    /** Run lifecycle events, consumed by the API's recorder. */
    readonly events: { readonly name: string; readonly subjects: string[] };
    /** Log chunks per run, replayed to late viewers. */
    readonly logs: { readonly name: string; readonly subjects: string[] };
  };
  /** KV bucket of runner heartbeats. */
  readonly runnersBucket: string;
  /** KV bucket of cancelled runs (key: run id): a runner that takes such an order drops it unstarted. */
  readonly cancelledBucket: string;
  /** An order's subject; without a pool, the subject orders had before pools (legacy). */
  runOrder(jobId: string, runId: string, pool?: string): string;
  /** The filter of a pool's consumer; without a pool, the legacy orders'. */
  poolOrders(pool?: string): string;
  runEvent(jobId: string, runId: string): string;
  runLog(runId: string): string;
  cancelRun(runId: string): string;
  jobUpdate(jobId: string): string;
  /** Every notification the recorder publishes after a commit. */
  readonly updates: string;
}

const PREFIX_PATTERN = /^[A-Za-z0-9_-]*$/;
const ID_PATTERN = /^[A-Za-z0-9_-]+$/;

/** One subject token: ids are uuids, but anything with `.`, `*`, `>` or spaces would change the subject's shape. */
function token(kind: string, value: string): string {
  if (!ID_PATTERN.test(value)) {
    throw new Error(`${kind} ${JSON.stringify(value)} cannot be a NATS subject token (letters, digits, '-' and '_' only)`);
  }
  return value;
}

export function topology(prefix = ''): Topology {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new Error(`NATS prefix ${JSON.stringify(prefix)} may hold only letters, digits, '-' and '_'`);
  }
  // Stream and bucket names cannot contain '.', subjects use it as a separator.
  const stream = (name: string) => (prefix ? `${prefix}_${name}` : name);
  const subject = (name: string) => (prefix ? `${prefix}.${name}` : name);
  return {
    prefix,
    streams: {
      runs: { name: stream('RUNS'), subjects: [subject('runs.*.*'), subject('runs.*.*.*')] },
      events: { name: stream('EVENTS'), subjects: [subject('events.*.*')] },
      logs: { name: stream('LOGS'), subjects: [subject('logs.*')] },
    },
    runnersBucket: stream('runners'),
    cancelledBucket: stream('cancelled'),
    runOrder: (jobId, runId, pool) =>
      subject(`runs.${pool === undefined ? '' : `${token('pool', pool)}.`}${token('job id', jobId)}.${token('run id', runId)}`),
    poolOrders: (pool) => subject(pool === undefined ? 'runs.*.*' : `runs.${token('pool', pool)}.*.*`),
    runEvent: (jobId, runId) => subject(`events.${token('job id', jobId)}.${token('run id', runId)}`),
    runLog: (runId) => subject(`logs.${token('run id', runId)}`),
    cancelRun: (runId) => subject(`cancel.${token('run id', runId)}`),
    jobUpdate: (jobId) => subject(`updates.job.${token('job id', jobId)}`),
    updates: subject('updates.>'),
  };
}
