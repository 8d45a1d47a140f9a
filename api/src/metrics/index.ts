// The API's Prometheus metrics (issue 18 item 4), in one place: every name is declared here, and
// the dispatcher, recorder, reconciler, yoga and the HTTP server report through this object — never
// through prom-client's global registry, as tests run several apps in one process.
//
// Two kinds of figures:
//  - events counted as they happen (requests, operations, dispatches, recorded events, reconciler
//    actions, budget stops), cheap on the hot path: a label lookup and an add;
//  - state read at scrape time (queue, streams, runs by status, runners), from PostgreSQL and
//    JetStream. One snapshot serves every gauge of a scrape and is cached for `snapshotTtlMs`, so
//    a dashboard refreshing often, or several Prometheus servers, cost one round of queries per TTL.
//
// Label cardinality is bounded everywhere: route classes are a fixed list, GraphQL operation names
// are folded to "other" past a cap (clients choose them), statuses and kinds are enums.
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RECORDER_CONSUMER, type Topology } from 'runner/protocol';
import type { Db } from '../db/client.js';
import { listRunners, type RunnerState } from '../runners/service.js';

/** Request and operation latencies: a few ms (a cached query) to a minute (a big upload or export). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Event to record: milliseconds when healthy, minutes while PostgreSQL is down or a backlog drains. */
const RECORDER_LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

/** The HTTP routes, by what they serve; anything else is `web` (the mounted app) or `other`. */
export const ROUTE_CLASSES = ['graphql', 'login', 'run_log', 'export', 'leaderboard_export', 'trial_file', 'task_original', 'graphiql', 'metrics', 'web', 'other'] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const ROUTES: [RegExp, RouteClass][] = [
  [/^\/graphql$/, 'graphql'],
  [/^\/login$/, 'login'],
  [new RegExp(`^/runs/${UUID}/log$`, 'i'), 'run_log'],
  [new RegExp(`^/runs/${UUID}/(recording\\.cast|files\\.zip|files/.*)$`, 'i'), 'trial_file'],
  [/^\/jobs\/[^/]+\/(runs|tasks)\.(csv|json)$/, 'export'],
  [/^\/datasets\/[^/]+\/leaderboard\.(csv|json)$/, 'leaderboard_export'],
  [new RegExp(`^/tasks/${UUID}/original\\.zip$`, 'i'), 'task_original'],
  [/^\/graphiql\//, 'graphiql'],
  [/^\/metrics$/, 'metrics'],
];

/** The route class of a request path (its query string ignored); `web` only where a web app is mounted. */
export function routeClass(url: string | undefined, webMounted: boolean): RouteClass {
  const pathname = (url ?? '/').split('?', 1)[0]!;
  for (const [pattern, name] of ROUTES) if (pattern.test(pathname)) return name;
  return webMounted ? 'web' : 'other';
}

/** Distinct GraphQL operation names kept as labels; later new names count as `other`. */
export const DEFAULT_OPERATION_NAME_CAP = 200;

export interface ApiMetricsSource {
  db: Db;
  nats: NatsConnection;
  topology: Topology;
}

export interface ApiMetricsOptions {
  /** How long one scrape-time snapshot of the queue, streams and runs serves; default 5 s. */
  snapshotTtlMs?: number;
  operationNameCap?: number;
  /** Process metrics (CPU, memory, event loop lag, GC); default on. */
  defaultMetrics?: boolean;
}

interface Snapshot {
  waiting: { n: number; oldestAgeSec: number };
  runsByStatus: Map<string, number>;
  jobsByStatus: Map<string, number>;
  jobsBudgetStopped: number;
  runsPending: Map<string, number>;
  recorderPending: number;
  streams: Map<string, { bytes: number; messages: number }>;
  /** Null when the heartbeats could not be read (NATS failing over): the gauges keep their last values. */
  runners: Map<string, number> | null;
  slots: { total: number; busy: number } | null;
}

const RUN_STATUSES = ['QUEUED', 'CLAIMED', 'RUNNING', 'PASSED', 'FAILED', 'ERRORED', 'CANCELLED'] as const;
const JOB_STATUSES = ['QUEUED', 'RUNNING', 'COMPLETED', 'CANCELLING', 'CANCELLED'] as const;
const RUNNER_STATES = ['LIVE', 'DRAINING', 'DEGRADED', 'LOST'] as const;

export class ApiMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;

  readonly httpRequests = new Counter({
    name: 'thr_api_http_requests_total',
    help: 'HTTP requests answered, by route class and status class (2xx, 4xx, 5xx, …).',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'thr_api_http_request_duration_seconds',
    help: 'Time from request to the end of the response, by route class.',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly graphqlOperations = new Counter({
    name: 'thr_api_graphql_operations_total',
    help: 'GraphQL operations executed (HTTP and WebSocket), by operation name and type; subscriptions count once when they start.',
    labelNames: ['operation', 'type'] as const,
    registers: [this.registry],
  });
  readonly graphqlErrors = new Counter({
    name: 'thr_api_graphql_operation_errors_total',
    help: 'GraphQL operations whose result carried errors (not union error results, which are answers), by operation name and type.',
    labelNames: ['operation', 'type'] as const,
    registers: [this.registry],
  });
  readonly graphqlDuration = new Histogram({
    name: 'thr_api_graphql_operation_duration_seconds',
    help: 'Execution time of GraphQL queries and mutations, by operation name.',
    labelNames: ['operation', 'type'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly subscriptionsOpen = new Gauge({
    name: 'thr_api_subscriptions_open',
    help: 'GraphQL subscriptions open on this replica.',
    registers: [this.registry],
  });
  readonly runsDispatched = new Counter({
    name: 'thr_api_dispatcher_runs_dispatched_total',
    help: 'Run orders published to RUNS by the dispatcher of this replica.',
    registers: [this.registry],
  });
  readonly dispatcherErrors = new Counter({
    name: 'thr_api_dispatcher_errors_total',
    help: 'Dispatch rounds that failed (PostgreSQL or NATS unreachable); retried at the next poll.',
    registers: [this.registry],
  });
  readonly reconcilerActions = new Counter({
    name: 'thr_api_reconciler_actions_total',
    help: 'What the reconciler did: redispatched (a lost or stranded order published again), cancel_completed.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly recorderEvents = new Counter({
    name: 'thr_api_recorder_events_total',
    help: 'Run events the recorder of this replica took from EVENTS, by event type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly recorderLag = new Histogram({
    name: 'thr_api_recorder_lag_seconds',
    help: 'Time from a run event reaching EVENTS to its record in PostgreSQL.',
    buckets: RECORDER_LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly budgetStops = new Counter({
    name: 'thr_api_budget_stops_total',
    help: "Jobs stopped because their cost reached the job's budget.",
    registers: [this.registry],
  });
  readonly scrapeErrors = new Counter({
    name: 'thr_api_metrics_snapshot_errors_total',
    help: 'Scrapes whose queue, stream or run figures could not be read (PostgreSQL or NATS down); those gauges keep their last values.',
    registers: [this.registry],
  });

  private readonly operationNames = new Set<string>();
  private readonly operationNameCap: number;
  private readonly snapshotTtlMs: number;
  private snapshot: { at: number; value: Promise<Snapshot | null> } | null = null;

  constructor(
    private readonly source: ApiMetricsSource,
    options: ApiMetricsOptions = {},
  ) {
    this.operationNameCap = options.operationNameCap ?? DEFAULT_OPERATION_NAME_CAP;
    this.snapshotTtlMs = options.snapshotTtlMs ?? 5_000;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const read = () => this.read();
    const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge<string>, s: Snapshot) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          const s = await read();
          if (s) fill(this, s);
        },
      });
    gauge('thr_api_dispatcher_lag_seconds', 'Age of the oldest run waiting to be published to RUNS (0 when none waits).', [], (g, s) => g.set(s.waiting.oldestAgeSec));
    gauge('thr_api_dispatcher_runs_waiting', 'Runs QUEUED and not yet published to RUNS (waiting for a free slot, a pool or a quota).', [], (g, s) => g.set(s.waiting.n));
    gauge('thr_api_runs', "Runs by status, all jobs (from the jobs' run counters).", ['status'], (g, s) => {
      for (const status of RUN_STATUSES) g.set({ status }, s.runsByStatus.get(status) ?? 0);
    });
    gauge('thr_api_jobs', 'Jobs by status.', ['status'], (g, s) => {
      for (const status of JOB_STATUSES) g.set({ status }, s.jobsByStatus.get(status) ?? 0);
    });
    gauge('thr_api_jobs_budget_stopped', 'Jobs stopped by their budget, ever (every replica sees the same figure; alert on its delta).', [], (g, s) =>
      g.set(s.jobsBudgetStopped),
    );
    gauge('thr_api_runs_pending', 'Orders in RUNS not yet delivered to a runner, by consumer (one per pool).', ['consumer'], (g, s) => {
      g.reset();
      for (const [consumer, n] of s.runsPending) g.set({ consumer }, n);
    });
    gauge('thr_api_recorder_pending_events', 'Run events in EVENTS the recorder has not acknowledged (undelivered plus in hand).', [], (g, s) => g.set(s.recorderPending));
    gauge('thr_api_stream_bytes', 'Bytes stored in a JetStream stream (runs, events, logs).', ['stream'], (g, s) => {
      for (const [stream, info] of s.streams) g.set({ stream }, info.bytes);
    });
    gauge('thr_api_stream_messages', 'Messages stored in a JetStream stream (runs, events, logs).', ['stream'], (g, s) => {
      for (const [stream, info] of s.streams) g.set({ stream }, info.messages);
    });
    gauge('thr_api_runners', "Runners by state, from their heartbeats (LOST: silent for 30 s and not shut down cleanly).", ['state'], (g, s) => {
      for (const state of RUNNER_STATES) if (s.runners) g.set({ state }, s.runners.get(state) ?? 0);
    });
    gauge('thr_api_runner_slots', 'Trial slots of the runners not LOST, from their heartbeats: total and busy.', ['state'], (g, s) => {
      if (!s.slots) return;
      g.set({ state: 'total' }, s.slots.total);
      g.set({ state: 'busy' }, s.slots.busy);
    });
  }

  /** The label for an operation name: `anonymous` without one, `other` past the cap of distinct names. */
  operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= this.operationNameCap) return 'other';
    this.operationNames.add(name);
    return name;
  }

  /** Prometheus text format of every metric. */
  async expose(): Promise<string> {
    return this.registry.metrics();
  }

  /** The cached snapshot, or a fresh one once it is older than the TTL; null when it could not be read. */
  private read(): Promise<Snapshot | null> {
    const now = Date.now();
    if (!this.snapshot || now - this.snapshot.at >= this.snapshotTtlMs) {
      this.snapshot = {
        at: now,
        value: takeSnapshot(this.source).catch(() => {
          this.scrapeErrors.inc();
          return null;
        }),
      };
    }
    return this.snapshot.value;
  }
}

// Only PostgreSQL failing fails a snapshot. Each NATS read has its own fallback: while a NATS node is
// lost and the client fails over, the run and job gauges (from PostgreSQL) must still be served.
async function takeSnapshot({ db, nats, topology }: ApiMetricsSource): Promise<Snapshot> {
  // No API check: that is one more request to time out during a failover, and the reads below say it.
  const jsm = await jetstreamManager(nats, { checkAPI: false });
  const [waiting, jobs, runsPending, recorderPending, streams, runnerStates] = await Promise.all([
    // The dispatcher's own notion of waiting (dispatcher.ts WAITING) without its quota clause: a run
    // held by its creator's cap waits too, and counting it keeps this one indexed scan.
    db.$queryRaw<{ n: number; oldest: Date | null }[]>`
      SELECT count(*)::int AS n, min(r."createdAt") AS oldest
        FROM "Run" r JOIN "Job" j ON j.id = r."jobId"
       WHERE r.status = 'QUEUED' AND r."dispatchedAt" IS NULL AND j."cancelRequestedAt" IS NULL AND j."stopReason" IS NULL`,
    // Runs by status from the jobs' counters (kept by the recorder in the same transaction as each
    // run's change): a scan of jobs, not of runs, which are a hundred to a hundred thousand times more.
    db.$queryRaw<({ status: string; n: number; budget: number } & Record<(typeof RUN_STATUSES)[number], number>)[]>`
      SELECT status::text, count(*)::int AS n, count(*) FILTER (WHERE "stopReason" = 'BUDGET_REACHED')::int AS budget,
             sum("runsQueued")::int AS "QUEUED", sum("runsClaimed")::int AS "CLAIMED", sum("runsRunning")::int AS "RUNNING",
             sum("runsPassed")::int AS "PASSED", sum("runsFailed")::int AS "FAILED", sum("runsErrored")::int AS "ERRORED",
             sum("runsCancelled")::int AS "CANCELLED"
        FROM "Job" GROUP BY status`,
    (async () => {
      const pending = new Map<string, number>();
      try {
        for await (const info of jsm.consumers.list(topology.streams.runs.name)) pending.set(info.name, info.num_pending);
      } catch {
        // No RUNS stream yet: nothing pending.
      }
      return pending;
    })(),
    jsm.consumers
      .info(topology.streams.events.name, RECORDER_CONSUMER)
      .then((info) => info.num_pending + info.num_ack_pending)
      .catch(() => 0),
    Promise.all(
      (['runs', 'events', 'logs'] as const).map(async (key) => {
        const info = await jsm.streams.info(topology.streams[key].name).catch(() => null);
        return [key, { bytes: info?.state.bytes ?? 0, messages: info?.state.messages ?? 0 }] as const;
      }),
    ),
    listRunners(nats, topology).catch(() => null),
  ]);
  const fleet = runnerStates && countRunners(runnerStates);
  const oldest = waiting[0]?.oldest;
  return {
    waiting: { n: waiting[0]?.n ?? 0, oldestAgeSec: oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0 },
    runsByStatus: new Map(RUN_STATUSES.map((status) => [status, jobs.reduce((sum, r) => sum + r[status], 0)])),
    jobsByStatus: new Map(jobs.map((r) => [r.status, r.n])),
    jobsBudgetStopped: jobs.reduce((sum, r) => sum + r.budget, 0),
    runsPending,
    recorderPending,
    streams: new Map(streams),
    runners: fleet?.runners ?? null,
    slots: fleet?.slots ?? null,
  };
}

/** Runners by state, and the slots of those not LOST. */
function countRunners(states: RunnerState[]): { runners: Map<string, number>; slots: { total: number; busy: number } } {
  const runners = new Map<string, number>();
  const slots = { total: 0, busy: 0 };
  for (const runner of states) {
    runners.set(runner.state, (runners.get(runner.state) ?? 0) + 1);
    if (runner.state === 'LOST') continue;
    slots.total += runner.slots;
    slots.busy += runner.busy;
  }
  return { runners, slots };
}
