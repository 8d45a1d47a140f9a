// The API's background work beside HTTP: the dispatcher (Postgres → RUNS) and the recorder
// (EVENTS → Postgres). Every replica runs both; row locks and durable consumers share the load.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStreams, type SealedSecret, type StreamLimits, type Topology } from 'runner/protocol';
import type { Db } from './db/client.js';
import { startDispatcher } from './jobs/dispatcher.js';
import { startRecorder } from './jobs/recording.js';

export interface ServiceDeps {
  db: Db;
  nats: NatsConnection;
  topology: Topology;
  streamLimits?: StreamLimits;
  defaultSecrets?: SealedSecret[];
  log: (line: string) => void;
  dispatchPollMs?: number;
}

export async function startServices(deps: ServiceDeps): Promise<{ kickDispatcher(): void; stop(): Promise<void> }> {
  const jsm = await jetstreamManager(deps.nats);
  await ensureStreams(jsm, deps.topology, deps.streamLimits);
  const dispatcher = startDispatcher(
    { db: deps.db, js: jetstream(deps.nats), topology: deps.topology, defaultSecrets: deps.defaultSecrets ?? [], log: deps.log },
    deps.dispatchPollMs,
  );
  const recorder = await startRecorder({ db: deps.db, nats: deps.nats, topology: deps.topology, log: deps.log });
  return {
    kickDispatcher: () => dispatcher.kick(),
    stop: async () => {
      await dispatcher.stop();
      await recorder.stop();
    },
  };
}
