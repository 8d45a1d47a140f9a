import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { natsConnectOptions, NatsSettingsError, type NatsRole } from 'runner/protocol';

export class NatsUnavailableError extends Error {
  override name = 'NatsUnavailableError';
}

/**
 * Connects with a bounded first attempt so a missing server is reported at start-up, then keeps
 * reconnecting forever once connected (a NATS restart must not take the API down). Credentials and
 * TLS come from the URL and `env` (runner/protocol connect-options.ts); `role` picks the inbox the
 * role's NATS permissions allow.
 */
export async function connectNats(
  url: string,
  name: string,
  log: (line: string) => void = () => {},
  options: { role?: NatsRole; env?: NodeJS.ProcessEnv } = {},
): Promise<NatsConnection> {
  let settings;
  try {
    settings = natsConnectOptions(url, options.role ?? 'api', options.env);
  } catch (error) {
    if (error instanceof NatsSettingsError) throw new NatsUnavailableError(error.message);
    throw error;
  }
  const servers = settings.servers as string[];
  let nc: NatsConnection;
  try {
    nc = await connect({ ...settings, name, timeout: 5_000, maxReconnectAttempts: -1, reconnectTimeWait: 1_000 });
  } catch (error) {
    throw new NatsUnavailableError(`cannot connect to NATS at ${servers.join(', ')}: ${(error as Error).message}`);
  }
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
        log(`nats ${s.type}${'server' in s && s.server ? ` ${s.server}` : ''}`);
      }
    }
  })();
  return nc;
}

/** Whether the server has JetStream enabled for this account; throws a clear message otherwise. */
export async function checkJetStream(nc: NatsConnection): Promise<void> {
  try {
    const jsm = await jetstreamManager(nc, { timeout: 3_000 });
    await jsm.getAccountInfo();
  } catch (error) {
    throw new NatsUnavailableError(
      `JetStream is not available on this NATS server (${(error as Error).message}); start nats-server with -js`,
    );
  }
}
