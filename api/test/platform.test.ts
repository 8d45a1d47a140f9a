import { chmod, lstat, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connect as natsConnect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from 'runner/test-support';
import { NatsServerMissingError, startEmbeddedNats } from '../src/platform/embedded-nats.js';
import { freePort } from '../src/platform/ports.js';
import { graphql } from './support/app.js';
import { useToken } from './support/auth.js';
import { adminUrl } from './support/database.js';
import { simulatorEnv } from 'runner/test-support/simulator';
import { CREATE_JOB, SIMULATOR } from './support/jobs.js';
import { testNatsUrl } from './support/nats.js';
import { cleanEnv, startEntry } from './support/process.js';
import { tb2Task, under, zip } from './support/task-zips.js';
import { uploadZips } from './support/upload.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'thr-platform-'));
  // A root launcher runs PostgreSQL as an unprivileged user, which must enter DATA_DIR.
  await chmod(dir, 0o755);
  dirs.push(dir);
  return dir;
}

/** PIDs of live processes whose command line names `dir` (Linux). */
async function processesUsing(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (args.split('\0').includes(dir)) pids.push(Number(entry));
  }
  return pids;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    }).once('error', () => resolve(false));
  });

async function health(port: number) {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ health { ok database { ok message } nats { ok message } } }' }),
  });
  return ((await response.json()) as { data: { health: any } }).data.health;
}

describe('npm start with nothing configured', () => {
  it('starts PostgreSQL, nats-server and a runner, migrates, runs a job, and Ctrl-C stops it all', async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const env = simulatorEnv(cleanEnv({ DATA_DIR: dataDir, PORT: String(port), HARBOR_BIN: SIMULATOR, HARBOR_SIM_PHASE_MS: '50', RUNNER_ENVIRONMENT_TYPES: 'docker' }), await tempDir());

    const first = startEntry('api/src/platform/start.ts', env);
    await first.waitFor(/Press Ctrl-C to stop/, 90_000);
    expect(first.output()).toContain('applied migration 20261124000000_init');
    expect(first.output()).toContain(`GraphQL API  http://127.0.0.1:${port}/graphql`);
    const pgDir = path.join(dataDir, 'postgres');
    expect(first.output()).toContain(`[start] initialising a PostgreSQL cluster in ${pgDir}`);
    const database = new RegExp(`Database {5}127\\.0\\.0\\.1:(\\d+)/postgres \\(embedded PostgreSQL \\d+, data in ${pgDir}\\)`);
    const pgPort = Number(database.exec(first.output())?.[1]);
    expect(pgPort).toBeGreaterThan(0);
    expect(await processesUsing(pgDir)).toHaveLength(1);
    const natsPort = Number(/nats:\/\/127\.0\.0\.1:(\d+) \(embedded nats-server/.exec(first.output())?.[1]);
    expect(natsPort).toBeGreaterThan(0);

    expect(await health(port)).toMatchObject({
      ok: true,
      database: { ok: true, message: expect.stringMatching(/^PostgreSQL/) },
      nats: { ok: true, message: expect.stringMatching(/with JetStream$/) },
    });

    // First start made an ADMIN and left its token for the owner alone (0600), with a one-time login link.
    const url = `http://127.0.0.1:${port}/graphql`;
    const tokenFile = path.join(dataDir, 'admin.token');
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    expect(first.output()).toMatch(new RegExp(`http://127\\.0\\.0\\.1:${port}/login\\?once=[A-Za-z0-9_-]{43}`));
    useToken(url, (await readFile(tokenFile, 'utf8')).trim());

    // A job runs end to end on the embedded database and NATS, through the runner it started.
    const upload = await uploadZips(url, [{ name: 'demo.zip', bytes: await zip(under('demo', tb2Task('demo'))) }]);
    const taskId = upload.body.data.uploadTasks.data.files[0].tasks[0].task.id;
    const created = await graphql(url, CREATE_JOB, { input: { taskIds: [taskId], agent: 'oracle', runsPerTask: 2 } });
    const jobId = created.data.createJob.data.id;
    const job = await waitFor(async () => {
      const j = (await graphql(url, '{ job(id: "' + jobId + '") { status runsPassed } }')).data.job;
      return j.status === 'COMPLETED' && j;
    }, { timeoutMs: 60_000, what: 'the job to complete', intervalMs: 200 });
    expect(job).toEqual({ status: 'COMPLETED', runsPassed: 2 });

    // NATS wants the users npm start made: passwords kept for this user alone, only hashes in the
    // server's config, and nobody gets in without one.
    const usersFile = path.join(dataDir, 'nats-users.json');
    expect((await stat(usersFile)).mode & 0o777).toBe(0o600);
    const passwords = JSON.parse(await readFile(usersFile, 'utf8')) as { api: string; runner: string };
    const serverConf = await readFile(path.join(dataDir, 'nats', 'nats.conf'), 'utf8');
    expect(serverConf).toMatch(/user: "runner"\s+password: "\$2[ab]\$10\$/);
    for (const password of Object.values(passwords)) {
      expect(serverConf).not.toContain(password);
      expect(first.output()).not.toContain(password);
    }
    const natsServer = `nats://127.0.0.1:${natsPort}`;
    await expect(natsConnect({ servers: natsServer, timeout: 5_000, reconnect: false })).rejects.toThrow(/Authorization Violation/i);
    const asApi = await natsConnect({ servers: natsServer, user: 'api', pass: passwords.api, timeout: 5_000, reconnect: false });
    await asApi.close();

    first.child.kill('SIGINT');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.output()).toContain('[api] stopped');
    expect(first.output()).toContain('[runner] stopped');
    expect(first.output()).toContain('everything stopped');
    expect(await accepts(port)).toBe(false);
    expect(await accepts(natsPort)).toBe(false);
    // PostgreSQL is stopped too, cleanly: no server process, no lock file left behind.
    expect(await accepts(pgPort)).toBe(false);
    expect(await processesUsing(pgDir)).toEqual([]);
    await expect(lstat(path.join(pgDir, 'postmaster.pid'))).rejects.toThrow(/ENOENT/);

    // The data survives: a second start finds the cluster and the schema in place.
    const second = startEntry('api/src/platform/start.ts', env);
    await second.waitFor(/Press Ctrl-C to stop/, 90_000);
    expect(second.output()).not.toContain('initialising a PostgreSQL cluster');
    expect(second.output()).toContain('database schema is up to date');
    expect(second.output()).not.toContain('first start');
    expect((await graphql(url, `{ job(id: "${jobId}") { status runsPassed } }`)).data.job).toEqual({
      status: 'COMPLETED',
      runsPassed: 2,
    });
    // The same users again, and the runner connected with its own.
    expect(JSON.parse(await readFile(usersFile, 'utf8'))).toEqual(passwords);
    await second.waitFor(/\[runner\] .* ready/, 60_000);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect(await processesUsing(pgDir)).toEqual([]);
  }, 180_000);
});

describe('start-up failures are one clear line', () => {
  it('says how to install nats-server when it is missing', async () => {
    const error = await startEmbeddedNats(await tempDir(), 'no-such-nats-server').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsServerMissingError);
    expect((error as Error).message).toMatch(/^nats-server was not found on PATH\. Install it \(Debian\/Ubuntu: `sudo apt-get install nats-server`/);
    expect((error as Error).message).toContain('or set NATS_URL');
  });

  it('names a malformed variable and exits non-zero', async () => {
    const api = startEntry('api/src/platform/start.ts', cleanEnv({ PORT: 'eighty' }));
    expect((await api.exited).code).toBe(1);
    expect(api.output().trim()).toBe('[start] PORT must be a port number (got "eighty")');
  });

  it('reports an unreachable database without a stack trace', async () => {
    const deadPort = await freePort();
    const api = startEntry(
      'api/src/main.ts',
      cleanEnv({ DATABASE_URL: `postgresql://postgres@127.0.0.1:${deadPort}/x`, NATS_URL: testNatsUrl, PORT: '0' }),
    );
    expect((await api.exited).code).toBe(1);
    expect(api.output().trim()).toBe(
      `[api] cannot reach PostgreSQL at 127.0.0.1:${deadPort}/x: nothing is listening at 127.0.0.1:${deadPort} (is the server running?)`,
    );
  });

  it('reports an unreachable NATS without a stack trace', async () => {
    const deadPort = await freePort();
    const api = startEntry(
      'api/src/main.ts',
      cleanEnv({ DATABASE_URL: adminUrl, NATS_URL: `nats://127.0.0.1:${deadPort}`, PORT: '0' }),
    );
    expect((await api.exited).code).toBe(1);
    expect(api.output().trim()).toBe(`[api] cannot connect to NATS at nats://127.0.0.1:${deadPort}: connection refused`);
  });

  it('asks for DATABASE_URL when the API is started on its own', async () => {
    const api = startEntry('api/src/main.ts', cleanEnv({ NATS_URL: testNatsUrl }));
    expect((await api.exited).code).toBe(1);
    expect(api.output().trim()).toBe(
      '[api] DATABASE_URL must be set to a PostgreSQL URL (`npm start` provides an embedded database when it is unset)',
    );
  });
});
