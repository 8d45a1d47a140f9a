// The API's background work beside HTTP: the dispatcher (Postgres → RUNS), the recorder
// (EVENTS → Postgres) and the reconciler (what no redelivery catches). Every replica runs all three;
// row locks and durable consumers share the load, and an advisory lock lets one reconciler act at a time.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStreams, untilAnswered, type SealedSecret, type StreamLimits, type Topology } from 'runner/protocol';
import type { Db } from './db/client.js';
import { startDispatcher } from './jobs/dispatcher.js';
import { startReconciler } from './jobs/reconciler.js';
import { startRecorder } from './jobs/recording.js';
import { trackRunnerCapacity } from './runners/capacity.js';
import type { ApiMetrics } from './metrics/index.js';
import { DEFAULT_WEBHOOK_SETTINGS, startWebhookWorker, type WebhookSettings } from './notifications/worker.js';

export interface ServiceDeps {
  db: Db;
  nats: NatsConnection;
  topology: Topology;
  streamLimits?: StreamLimits;
  defaultSecrets?: SealedSecret[];
  log: (line: string) => void;
  dispatchPollMs?: number;
  /** RECONCILE_INTERVAL_MS; unset: derived from the runners' ack wait. */
  reconcileIntervalMs?: number;
  /** The process's metrics, shared with its app (main.ts); absent: nothing is measured. */
  metrics?: ApiMetrics;
  /** Issue 18: SECRETS_KEY opens webhook secrets; without it no webhook exists and no delivery worker runs. */
  secretsKey?: Buffer | null;
  /** PUBLIC_URL, for job links in webhook bodies. */
  publicUrl?: string;
  /** WEBHOOK_* settings over the defaults. */
  webhooks?: Partial<WebhookSettings>;
  /** How long set-up waits for JetStream to answer at start (default 2 min). */
  jetStreamDeadlineMs?: number;
}

export async function startServices(deps: ServiceDeps): Promise<{ kickDispatcher(): void; stop(): Promise<void> }> {
  // A replica starting while a NATS node is lost waits for the cluster's new leaders (seen for tens
  // of seconds) rather than exiting into a restart loop.
  const jsm = await untilAnswered(() => jetstreamManager(deps.nats), { what: 'JetStream does not answer yet', log: deps.log, deadlineMs: deps.jetStreamDeadlineMs });
  await untilAnswered(() => ensureStreams(jsm, deps.topology, deps.streamLimits), {
    what: 'setting up the streams',
    log: deps.log,
    deadlineMs: deps.jetStreamDeadlineMs,
  });
  const runners = await trackRunnerCapacity(deps.nats, deps.topology);
  const dispatcher = startDispatcher(
    {
      db: deps.db,
      js: jetstream(deps.nats),
      topology: deps.topology,
      defaultSecrets: deps.defaultSecrets ?? [],
      capacity: async () => runners.capacity(),
      log: deps.log,
      metrics: deps.metrics,
    },
    deps.dispatchPollMs,
  );
  const recorder = await startRecorder({ db: deps.db, nats: deps.nats, topology: deps.topology, log: deps.log, onRunEnded: () => dispatcher.kick(), metrics: deps.metrics });
  const reconciler = startReconciler({
    db: deps.db,
    nats: deps.nats,
    topology: deps.topology,
    defaultSecrets: deps.defaultSecrets ?? [],
    log: deps.log,
    intervalMs: deps.reconcileIntervalMs,
    metrics: deps.metrics,
  });
  const webhooks = deps.secretsKey
    ? startWebhookWorker({
        db: deps.db,
        nats: deps.nats,
        topology: deps.topology,
        secretsKey: deps.secretsKey,
        publicUrl: deps.publicUrl ?? 'http://localhost:8080',
        settings: { ...DEFAULT_WEBHOOK_SETTINGS, ...deps.webhooks },
        log: deps.log,
      })
    : null;
  return {
    kickDispatcher: () => dispatcher.kick(),
    stop: async () => {
      await webhooks?.stop();
      await reconciler.stop();
      await dispatcher.stop();
      runners.stop();
      await recorder.stop();
    },
  };
}
