// Zero-setup NATS for `npm start` when NATS_URL is unset: a `nats-server -js` child found on PATH,
// with its JetStream store under DATA_DIR. Production uses a NATS cluster configured by nats.conf.
// With `auth`, the server requires the same users and permissions as nats.conf (nats-users.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import path from 'node:path';
import type { NatsRole } from 'runner/protocol';
import { localNatsUsers } from './nats-users.js';
import { freePort } from './ports.js';

export class NatsServerMissingError extends Error {
  override name = 'NatsServerMissingError';
}

export interface EmbeddedNats {
  /** Without credentials: a process adds its own (`env`). */
  url: string;
  /** With `auth`: NATS_USER and NATS_PASSWORD for a process of this role; without: nothing. */
  env(role: NatsRole): Record<string, string>;
  stop(): Promise<void>;
  /** Resolves when the server exits, for whatever reason. */
  exited: Promise<number | null>;
}

const INSTALL_HINT =
  'nats-server was not found on PATH. Install it (Debian/Ubuntu: `sudo apt-get install nats-server`; ' +
  'macOS: `brew install nats-server`; or a release from https://github.com/nats-io/nats-server/releases), ' +
  'or set NATS_URL to a running NATS server with JetStream.';

async function findOnPath(binary: string): Promise<string | undefined> {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  // Debian installs nats-server in /usr/sbin, which is not on every user's PATH.
  for (const dir of [...dirs, '/usr/sbin', '/usr/local/sbin']) {
    const candidate = path.join(dir, binary);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * `port`: a fixed port (a test restarting the server on the same port and store); unset: a free one.
 * `auth`: require the platform's users, with passwords made on the first start and kept under
 * DATA_DIR, and permissions for the deployment's NATS prefix.
 */
export async function startEmbeddedNats(dataDir: string, bin = 'nats-server', port?: number, auth?: { prefix: string }): Promise<EmbeddedNats> {
  const executable = await findOnPath(bin);
  if (!executable) throw new NatsServerMissingError(INSTALL_HINT);
  const storeDir = path.join(dataDir, 'nats');
  await mkdir(storeDir, { recursive: true });
  port ??= await freePort();
  let args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
  const users = auth ? await localNatsUsers(dataDir, auth.prefix) : null;
  if (users) {
    // Rewritten on every start (the port may change); it holds password hashes only.
    const conf = path.join(storeDir, 'nats.conf');
    const text = [`listen: "127.0.0.1:${port}"`, `jetstream { store_dir: ${JSON.stringify(storeDir)} }`, users.authorization, ''].join('\n');
    await writeFile(conf, text, { mode: 0o600 });
    args = ['-c', conf];
  }
  const child: ChildProcess = spawn(executable, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group: Ctrl-C reaches the launcher only, which stops NATS after the API.
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`nats-server exited with status ${child.exitCode} at start-up:\n${stderr.trim()}`);
    }
    if (await Promise.race([canConnect(port), spawnError])) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nats-server did not accept connections on port ${port} within 15 s:\n${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    env: (role): Record<string, string> => (users ? { NATS_USER: role, NATS_PASSWORD: users.passwords[role] } : {}),
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGTERM lets JetStream flush its store; a stuck server is killed after the grace period.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
