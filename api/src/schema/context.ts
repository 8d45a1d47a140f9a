import type { NatsConnection } from '@nats-io/transport-node';
import type { Topology } from 'runner/protocol';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import type { LaunchSettings } from '../jobs/launch-policy.js';
import type { UpdatesHub } from '../live/hub.js';
import type { LiveLogFeed } from '../logs/feed.js';
import type { TaskStore } from '../tasks/store.js';
import type { UploadLimits } from '../tasks/upload.js';
import type { TrialScrubbers } from '../trials/secrets.js';

/** What every resolver gets, built per request from the process's shared connections. */
export interface Context {
  db: Db;
  nats: NatsConnection;
  topology: Topology;
  taskStore: TaskStore;
  uploadLimits: UploadLimits;
  /** Key that seals provider keys; null when SECRETS_KEY is not configured. */
  secretsKey: Buffer | null;
  /** JOBS_DIR: Harbor's job directories on shared storage, where trial files are read. */
  jobsDir: string;
  /** DATASET_IMPORT_ROOT: where importDataset may read; null: importing is off. */
  datasetImportRoot: string | null;
  /** What launches may do on this server (ALLOW_CUSTOM_AGENTS, ENDPOINT_OVERRIDE_ROLES). */
  launchSettings: LaunchSettings;
  /** A run's provider keys as a scrubber, for what is read from its trial directory. */
  trialScrubbers: TrialScrubbers;
  /** This process's fan-out of the recorder's notifications. */
  hub: UpdatesHub;
  /** This process's live feed of run logs, fanned out to runLog subscribers. */
  logFeed: LiveLogFeed;
  /** Wakes the dispatcher after runs were written. */
  kickDispatcher: () => void;
  /** The signed-in user or token owner; null for anonymous requests (auth/viewer.ts guards). */
  viewer: Viewer | null;
  /** Why the credential the request carried was refused (expired, revoked…); null when it sent none. */
  authProblem: string | null;
  /** The client's address as the server saw it, for the audit trail. */
  clientIp: string | null;
  /** The client's User-Agent, kept with a new session. */
  userAgent: string | null;
  /** Adds a Set-Cookie header to this HTTP response (login, logout); a no-op over WebSocket. */
  setCookie: (cookie: string) => void;
  /** Cookies get `Secure` when PUBLIC_URL is https. */
  secureCookies: boolean;
  /** A credential was revoked or a user changed: open WebSockets re-check theirs now. */
  credentialsChanged: () => void;
  /** Aborted when the client goes away, so long work can stop early. */
  signal?: AbortSignal;
}
