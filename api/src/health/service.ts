// Health of the API's dependencies. No GraphQL here: the schema file maps these to types.
import type { NatsConnection } from '@nats-io/transport-node';
import { platformVersion } from '../config/version.js';
import type { Db } from '../db/client.js';
import { explainConnectionError } from '../db/errors.js';
import { checkJetStream } from '../nats/connection.js';

export interface ComponentHealth {
  ok: boolean;
  latencyMs: number | null;
  message: string | null;
}

export interface Health {
  ok: boolean;
  version: string;
  database: ComponentHealth;
  nats: ComponentHealth;
  checkedAt: Date;
}

/** A dependency that does not answer within this long is reported down rather than hanging the query. */
const CHECK_TIMEOUT_MS = 3_000;

async function probe(check: () => Promise<string | null>): Promise<ComponentHealth> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    });
    const message = await Promise.race([check(), timeout]);
    return { ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10, message };
  } catch (error) {
    return { ok: false, latencyMs: null, message: explainConnectionError(error) };
  } finally {
    clearTimeout(timer);
  }
}

export async function checkHealth(deps: { db: Db; nats: NatsConnection }): Promise<Health> {
  const [database, nats] = await Promise.all([
    probe(async () => {
      const rows = await deps.db.$queryRaw<{ version: string }[]>`SELECT current_setting('server_version') AS version`;
      return `PostgreSQL ${rows[0]?.version ?? 'unknown'}`;
    }),
    probe(async () => {
      if (deps.nats.isClosed()) throw new Error('connection closed');
      await checkJetStream(deps.nats);
      return `NATS ${deps.nats.info?.version ?? 'unknown'} with JetStream`;
    }),
  ]);
  return { ok: database.ok && nats.ok, version: platformVersion, database, nats, checkedAt: new Date() };
}
