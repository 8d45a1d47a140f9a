// The embedded PostgreSQL server on its own: what `npm start` relies on, and what fault tests use
// to stop and restart a database under a running platform.
import { spawn, spawnSync } from 'node:child_process';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../src/config/paths.js';
import { startPostgres } from '../src/platform/embedded-postgres.js';
import { binariesFor, findPostgresBinaries, hydrateSymlinks } from '../src/platform/postgres-binaries.js';
import { firstClosed, serverUser } from '../src/platform/postgres-user.js';

const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
/** A fresh directory the server's user can enter (mkdtemp makes it 0700, root's alone). */
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'thr-pg-'));
  await chmod(dir, 0o755);
  dirs.push(dir);
  return dir;
}

async function query(url: string, sql: string): Promise<any[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

const accepts = (url: string) => query(url, 'SELECT 1').then(
  () => true,
  () => false,
);

const postmasterPid = async (dataDir: string) => Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);

/** The real uid of a process, from /proc (Linux). */
const processUid = async (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]);

describe('an embedded PostgreSQL server', () => {
  it('starts, answers, stops, and restarts on the same port with its data', async () => {
    const dataDir = path.join(await tempDir(), 'postgres');
    const first = await startPostgres({ dataDir });
    expect(first.url).toMatch(/^postgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres$/);
    expect(first.version).toMatch(/^\d+$/);
    await query(first.url, `CREATE TABLE kept (note text); INSERT INTO kept VALUES ('before the restart')`);
    expect(await query(first.url, `SELECT current_setting('server_encoding') AS encoding, datcollate FROM pg_database WHERE datname = 'postgres'`)).toEqual([
      { encoding: 'UTF8', datcollate: 'C' },
    ]);
    // Without the password kept in the data directory, nobody gets in.
    expect(await accepts(first.url.replace(/:[^:@]+@/, ':wrong@'))).toBe(false);

    await first.stop();
    expect(await first.exited).toBe(0);
    expect(await accepts(first.url)).toBe(false);
    await expect(lstat(path.join(dataDir, 'postmaster.pid'))).rejects.toThrow(/ENOENT/);

    const second = await startPostgres({ dataDir, port: first.port });
    try {
      expect(second.url).toBe(first.url);
      expect(await query(second.url, 'SELECT note FROM kept')).toEqual([{ note: 'before the restart' }]);
    } finally {
      await second.stop();
    }
  });

  it('stops a server that a killed launcher left running on its data directory, and starts its own', async () => {
    const dataDir = path.join(await tempDir(), 'postgres');
    const leftover = await startPostgres({ dataDir });
    await query(leftover.url, `CREATE TABLE kept AS SELECT 'from the first start' AS note`);
    const lines: string[] = [];

    // As after SIGKILL: nobody stops the first server; the next start finds it.
    const next = await startPostgres({ dataDir, log: (line) => lines.push(line) });
    try {
      expect(await leftover.exited).toBe(0);
      expect(lines).toEqual([expect.stringMatching(/^stopping the PostgreSQL server \(PID \d+\) that an earlier start left running on /)]);
      expect(await query(next.url, 'SELECT note FROM kept')).toEqual([{ note: 'from the first start' }]);
    } finally {
      await next.stop();
    }
  });

  it('starts over a lock file whose PID now belongs to another process', async () => {
    const dataDir = path.join(await tempDir(), 'postgres');
    const server = await startPostgres({ dataDir });
    const pid = await postmasterPid(dataDir);
    process.kill(pid, 'SIGKILL');
    await server.exited;
    // The crashed server's lock stays; its PID is reused by something that is not PostgreSQL, run by
    // the server's user (postgres takes a PID it may not signal for a dead one).
    const owner = await stat(dataDir);
    const other = spawn('sleep', ['60'], { stdio: 'ignore', ...(isRoot && { uid: owner.uid, gid: owner.gid }) });
    const lock = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8');
    await writeFile(path.join(dataDir, 'postmaster.pid'), lock.replace(/^\d+/, String(other.pid)));
    try {
      const restarted = await startPostgres({ dataDir });
      expect(await accepts(restarted.url)).toBe(true);
      await restarted.stop();
      expect(other.exitCode).toBeNull();
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('refuses a directory that is neither empty nor a PostgreSQL data directory, and leaves it as it was', async () => {
    const dataDir = path.join(await tempDir(), 'postgres');
    await mkdir(dataDir);
    await writeFile(path.join(dataDir, 'notes.txt'), 'mine');
    await expect(startPostgres({ dataDir })).rejects.toThrow(`${dataDir} is neither empty nor a PostgreSQL data directory (no PG_VERSION)`);
    expect(await readdir(dataDir)).toEqual(['notes.txt']);
  });

  it('recreates the library links that npm did not make, and leaves them alone once made', async () => {
    const { packageDir } = await findPostgresBinaries();
    const copy = path.join(await tempDir(), 'package');
    await cp(packageDir, copy, { recursive: true, verbatimSymlinks: true });
    const links = JSON.parse(await readFile(path.join(copy, 'native/pg-symlinks.json'), 'utf8').catch(() => '[]')) as { target: string }[];
    for (const link of links) await unlink(path.join(copy, link.target));
    const version = () => spawnSync(path.join(copy, 'native/bin/postgres'), ['--version'], { encoding: 'utf8' });
    if (links.length > 0) expect(version().stderr).toMatch(/error while loading shared libraries/);

    await hydrateSymlinks(copy);
    await hydrateSymlinks(copy);
    expect(version().stdout).toMatch(/^postgres \(PostgreSQL\) \d+/);
    for (const link of links) expect((await lstat(path.join(copy, link.target))).isSymbolicLink()).toBe(true);
  });
});

describe.runIf(isRoot)('an embedded PostgreSQL server started by root', () => {
  it('runs initdb and postgres as an unprivileged user that owns the data directory', async () => {
    const dataDir = path.join(await tempDir(), 'postgres');
    const server = await startPostgres({ dataDir });
    try {
      const owner = (await stat(dataDir)).uid;
      expect(owner).not.toBe(0);
      expect(await processUid(await postmasterPid(dataDir))).toBe(owner);
    } finally {
      await server.stop();
    }
  });

  it('says which directory keeps the server user out of the data directory', async () => {
    const closed = path.join(await tempDir(), 'closed');
    await mkdir(closed, { mode: 0o700 });
    await expect(startPostgres({ dataDir: path.join(closed, 'postgres') })).rejects.toThrow(
      new RegExp(`^PostgreSQL runs as user \\S+ \\(it refuses root\\), which cannot enter ${closed} \\(mode 700, owner uid 0\\)`),
    );
  });

  it('copies the binaries beside the data when the server user cannot reach the checkout', async () => {
    const binaries = await findPostgresBinaries();
    const closed = path.join(await tempDir(), 'closed');
    await mkdir(closed, { mode: 0o700 });
    const packageDir = path.join(closed, 'package');
    await cp(binaries.packageDir, packageDir, { recursive: true, verbatimSymlinks: true });
    const unreachable = {
      packageDir,
      initdb: path.join(packageDir, path.relative(binaries.packageDir, binaries.initdb)),
      postgres: path.join(packageDir, path.relative(binaries.packageDir, binaries.postgres)),
    };
    const stageParent = await tempDir();
    const user = (await serverUser(path.join(stageParent, 'postgres')))!;
    const asUser = (file: string) => spawnSync(file, ['--version'], { uid: user.uid, gid: user.gid, encoding: 'utf8' });
    expect(asUser(unreachable.postgres).error).toMatchObject({ code: 'EACCES' });

    const staged = await binariesFor(unreachable, user, stageParent);
    expect(path.dirname(staged.packageDir)).toBe(stageParent);
    expect(asUser(staged.postgres).stdout).toMatch(/^postgres \(PostgreSQL\) \d+/);
    expect(asUser(staged.initdb).stdout).toMatch(/^initdb \(PostgreSQL\) \d+/);
    expect(await binariesFor(unreachable, user, stageParent)).toEqual(staged);
    expect(await binariesFor(binaries, user, stageParent)).toEqual(binaries);
  });

  it('also starts for a launcher that is not root, as that user', async (context) => {
    const uid = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).stdout.trim());
    // That launcher has to read the checkout, which a root-only directory may hide.
    if (await firstClosed(repoRoot, { name: 'nobody', uid, gid })) context.skip();
    const parent = await tempDir();
    const dataDir = path.join(parent, 'postgres');
    await chmod(parent, 0o777);
    const script = `import { startPostgres } from './src/platform/embedded-postgres.ts';
      const server = await startPostgres({ dataDir: ${JSON.stringify(dataDir)} });
      console.log(server.url);
      await server.stop();`;
    const launcher = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.join(repoRoot, 'api'),
      uid,
      gid,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(launcher.stderr).toBe('');
    expect(launcher.stdout).toMatch(/^postgresql:\/\/postgres:\S+@127\.0\.0\.1:\d+\/postgres\n$/);
    expect((await stat(dataDir)).uid).toBe(uid);
  });
});
