// A real PostgreSQL server, run from the binaries of an npm package: `npm start`'s database when
// DATABASE_URL is unset (data under DATA_DIR/postgres), and a server that fault tests stop and
// restart on the same port. initdb and postgres are called directly (see postgres-binaries.ts).
// It listens on 127.0.0.1 only, with a password made at initdb and kept in the data directory.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { binariesFor, findPostgresBinaries, type PostgresBinaries } from './postgres-binaries.js';
import { assertReachable, chownTree, serverUser, type ServerUser } from './postgres-user.js';
import { freePort } from './ports.js';

export interface PostgresServer {
  /** postgresql://postgres:<password>@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  dataDir: string;
  /** The data directory's major version, e.g. "18". */
  version: string;
  /** Resolves with the exit code when the server exits, for whatever reason. */
  exited: Promise<number | null>;
  /** Fast shutdown: open transactions roll back, clients are cut off, the data is kept. */
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** The cluster's directory; initialised when it holds none yet. */
  dataDir: string;
  /** Default: a free port. A restarted server may ask for its old one. */
  port?: number;
  /** Progress worth telling a person (initialising, stopping a leftover server). */
  log?: (line: string) => void;
}

/** Kept beside the cluster's files; postgres ignores files it does not know. */
const PASSWORD_FILE = 'embedded-password';
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 30_000;

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/** Runs a binary to completion as the server's user; rejects with its output when it fails. */
function run(file: string, args: string[], user: ServerUser | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv(), ...runAs(user) });
    let output = '';
    const append = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    child.once('error', (error) => reject(spawnFailure(file, user, error)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(file)} failed (${signal ?? `status ${code}`}):\n${output.trim()}`));
    });
  });
}

function runAs(user: ServerUser | undefined): { uid?: number; gid?: number } {
  return user ? { uid: user.uid, gid: user.gid } : {};
}

function spawnFailure(file: string, user: ServerUser | undefined, error: NodeJS.ErrnoException): Error {
  if (error.code === 'EACCES' && user) {
    return new Error(
      `PostgreSQL runs as user ${user.name} (it refuses root), which cannot run ${file}: ` +
        'install the project where that user can read it, or set DATABASE_URL to a PostgreSQL server',
    );
  }
  return new Error(`cannot run ${file}: ${error.message}`);
}

/** Not the launcher's environment: it may hold provider keys, and postgres needs none of it. */
function serverEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
}

/**
 * initdb into a scratch directory renamed into place when complete, so a launcher killed during
 * initdb leaves no half-made cluster that later starts would take for a real one.
 */
async function initCluster(binaries: PostgresBinaries, dataDir: string, user: ServerUser | undefined): Promise<void> {
  if (await exists(dataDir)) {
    if ((await readdir(dataDir)).length > 0) {
      throw new Error(`${dataDir} is neither empty nor a PostgreSQL data directory (no PG_VERSION): move it away or choose another DATA_DIR`);
    }
    await rmdir(dataDir);
  }
  const scratch = `${dataDir}.initdb`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { mode: 0o700 });
  const passwordFile = path.join(scratch, PASSWORD_FILE);
  await writeFile(passwordFile, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  if (user) await chownTree(scratch, user);
  const cluster = path.join(scratch, 'cluster');
  await run(
    binaries.initdb,
    [
      `--pgdata=${cluster}`,
      '--username=postgres',
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      // Independent of the machine's locale settings, and of locales it may not have.
      '--encoding=UTF8',
      '--locale=C',
    ],
    user,
  );
  await rename(passwordFile, path.join(cluster, PASSWORD_FILE));
  await rename(cluster, dataDir);
  await rm(scratch, { recursive: true, force: true });
}

/**
 * Whether `pid` is a postmaster running on `dataDir`, judged by its command line: a stale lock's
 * PID may belong to anything by now. An exited server waiting to be reaped has none.
 */
async function isServerOf(pid: number, dataDir: string): Promise<boolean> {
  if (process.platform === 'linux') {
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    return path.basename(args[0] ?? '') === 'postgres' && args.includes(dataDir);
  }
  // No /proc (macOS): ps shows the arguments joined by spaces; an exited process shows none.
  const command = await promisify(execFile)('ps', ['-o', 'command=', '-p', String(pid)]).then(
    (ps) => ps.stdout.trim(),
    () => '',
  );
  return /(^|\/)postgres /.test(command) && command.includes(` -D ${dataDir} `);
}

/**
 * A launcher killed outright (SIGKILL, a crash) leaves its server running and postmaster.pid in
 * place. Stop such a server, so this start owns the one it uses; drop a lock whose PID now
 * belongs to some other process, which postgres would take for a live server.
 */
async function clearLeftovers(dataDir: string, log: (line: string) => void): Promise<void> {
  const lockFile = path.join(dataDir, 'postmaster.pid');
  const lock = await readFile(lockFile, 'utf8').catch(() => undefined);
  if (lock === undefined) return;
  const pid = Number(lock.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !(await isServerOf(pid, dataDir))) {
    await rm(lockFile, { force: true });
    return;
  }
  log(`stopping the PostgreSQL server (PID ${pid}) that an earlier start left running on ${dataDir}`);
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(pid, name);
    } catch {
      // gone already
    }
  };
  signal('SIGINT');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (await isServerOf(pid, dataDir)) {
    if (Date.now() > deadline) signal('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function acceptsQueries(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function startPostgres(options: PostgresOptions): Promise<PostgresServer> {
  const dataDir = path.resolve(options.dataDir);
  const log = options.log ?? (() => {});
  const user = await serverUser(dataDir);
  await mkdir(path.dirname(dataDir), { recursive: true });
  if (user) await assertReachable(path.dirname(dataDir), user);
  else {
    const owner = await stat(dataDir).catch(() => undefined);
    if (owner && owner.uid !== process.getuid?.()) {
      throw new Error(`${dataDir} belongs to uid ${owner.uid}: start as that user (or as root), or choose another DATA_DIR`);
    }
  }

  const binaries = await binariesFor(await findPostgresBinaries(), user, path.dirname(dataDir));

  if (await exists(path.join(dataDir, 'PG_VERSION'))) {
    await clearLeftovers(dataDir, log);
    // A cluster made by hand as root: postgres only starts on a data directory its user owns.
    if (user && (await stat(dataDir)).uid !== user.uid) await chownTree(dataDir, user);
  } else {
    log(`initialising a PostgreSQL cluster in ${dataDir}`);
    await initCluster(binaries, dataDir, user);
  }
  const version = (await readFile(path.join(dataDir, 'PG_VERSION'), 'utf8')).trim();
  const password = (await readFile(path.join(dataDir, PASSWORD_FILE), 'utf8').catch(() => '')).trim();
  if (!password) throw new Error(`${dataDir} holds a PostgreSQL cluster this launcher did not make (no ${PASSWORD_FILE}): choose another DATA_DIR`);

  const port = options.port ?? (await freePort());
  const child: ChildProcess = spawn(
    binaries.postgres,
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: serverEnv(),
      // Its own process group: Ctrl-C reaches the launcher only, which stops the database last.
      detached: true,
      ...runAs(user),
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (error) => reject(spawnFailure(binaries.postgres, user, error))));
  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited at start-up (${child.signalCode ?? `status ${child.exitCode}`}):\n${stderr.trim()}`);
    }
    if (await Promise.race([acceptsQueries(url), spawnError])) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`postgres did not accept connections on port ${port} within ${START_TIMEOUT_MS / 1000} s:\n${stderr.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    url,
    port,
    dataDir,
    version,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
