// The environment's NATS settings as nats.js connection options, for the API and runners alike:
//   NATS_URL          nats://host:4222[,nats://host2:4222]; credentials may ride in it (nats://user:password@host)
//   NATS_USER, NATS_PASSWORD   user and password, instead of putting them in the URL
//   NATS_CREDS        a .creds file (JWT and nkey seed; decentralized/operator mode)
//   NATS_NKEY_SEED    a file holding a user nkey seed (SU…)
//   NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY   CA bundle to trust, client certificate and its key (mutual TLS)
// One way of authenticating at a time, so a forgotten variable never silently wins over another.
// Passwords never reach a log line: callers print `servers` (credentials removed) or redactNatsUrl().
import { accessSync, constants, readFileSync } from 'node:fs';
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions } from '@nats-io/transport-node';
import { inboxPrefix, type NatsRole } from './permissions.js';

export class NatsSettingsError extends Error {
  override name = 'NatsSettingsError';
}

/** The URL(s) with any password (or token) replaced by `***`, for logs and error messages. */
export function redactNatsUrl(url: string): string {
  return url.replace(/([a-z]+:\/\/)([^@/\s,]*)@/gi, (_, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    return `${scheme}${colon >= 0 ? `${auth.slice(0, colon)}:***` : '***'}@`;
  });
}

interface UrlAuth {
  user: string;
  pass: string | undefined;
}

/** Splits credentials off each server URL; several URLs may carry them only if they agree. */
function splitServers(url: string): { servers: string[]; auth: UrlAuth | null } {
  let auth: UrlAuth | null = null;
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((server) => {
      if (!URL.canParse(server)) throw new NatsSettingsError(`NATS_URL holds ${JSON.stringify(redactNatsUrl(server))}, which is not a URL`);
      const u = new URL(server);
      if (u.username || u.password) {
        const found = { user: decodeURIComponent(u.username), pass: u.password ? decodeURIComponent(u.password) : undefined };
        if (auth && (auth.user !== found.user || auth.pass !== found.pass)) {
          throw new NatsSettingsError('NATS_URL holds different credentials for different servers; give them once (or in NATS_USER/NATS_PASSWORD)');
        }
        auth = found;
        u.username = '';
        u.password = '';
      }
      // URL adds a trailing slash to an empty path; nats.js wants host:port.
      return u.toString().replace(/\/$/, '');
    });
  if (servers.length === 0) throw new NatsSettingsError('NATS_URL must name at least one server');
  return { servers, auth };
}

function readableFile(name: string, file: string): string {
  try {
    accessSync(file, constants.R_OK);
  } catch (error) {
    throw new NatsSettingsError(`${name} is ${JSON.stringify(file)}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return file;
}

/**
 * nats.js options for `role` (its inbox prefix matches the role's NATS permissions). `name`,
 * timeouts and reconnect policy are the caller's. Throws NatsSettingsError naming the variable.
 */
export function natsConnectOptions(url: string, role: NatsRole, env: NodeJS.ProcessEnv = process.env): ConnectionOptions {
  const { servers, auth: urlAuth } = splitServers(url);
  const set = (name: string) => (env[name] ? env[name] : undefined);
  const user = set('NATS_USER');
  const password = set('NATS_PASSWORD');
  const creds = set('NATS_CREDS');
  const seed = set('NATS_NKEY_SEED');

  if (password !== undefined && user === undefined) throw new NatsSettingsError('NATS_PASSWORD is set without NATS_USER');
  const ways = [urlAuth && 'credentials in NATS_URL', user !== undefined && 'NATS_USER', creds && 'NATS_CREDS', seed && 'NATS_NKEY_SEED'].filter(Boolean);
  if (ways.length > 1) throw new NatsSettingsError(`NATS credentials are given more than once (${ways.join(', ')}); keep one`);

  const options: ConnectionOptions = { servers, inboxPrefix: inboxPrefix(role) };
  if (urlAuth) {
    // nats://user:password@host, or nats://token@host for token authentication.
    if (urlAuth.pass === undefined) options.token = urlAuth.user;
    else Object.assign(options, { user: urlAuth.user, pass: urlAuth.pass });
  } else if (user !== undefined) {
    Object.assign(options, { user, pass: password ?? '' });
  } else if (creds) {
    options.authenticator = credsAuthenticator(readFileSync(readableFile('NATS_CREDS', creds)));
  } else if (seed) {
    const text = readFileSync(readableFile('NATS_NKEY_SEED', seed), 'utf8').trim();
    if (!/^SU[A-Z2-7]{56}$/.test(text)) throw new NatsSettingsError(`NATS_NKEY_SEED (${seed}) must hold one user nkey seed (SU…, 58 characters)`);
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(text));
  }

  const ca = set('NATS_TLS_CA');
  const cert = set('NATS_TLS_CERT');
  const key = set('NATS_TLS_KEY');
  if (Boolean(cert) !== Boolean(key)) throw new NatsSettingsError('NATS_TLS_CERT and NATS_TLS_KEY go together (a client certificate and its key)');
  if (ca || cert) {
    options.tls = {
      ...(ca ? { caFile: readableFile('NATS_TLS_CA', ca) } : {}),
      ...(cert ? { certFile: readableFile('NATS_TLS_CERT', cert), keyFile: readableFile('NATS_TLS_KEY', key!) } : {}),
    };
  } else if (servers.some((s) => s.startsWith('tls://'))) {
    // tls:// asks for TLS with the system's trusted CAs.
    options.tls = {};
  }
  return options;
}
