// Issue 18 "Bad input": a deployment missing a secret or a volume stops at start with one line that
// names it. The processes run as in a container (api/src/main.ts, runner/src/main.ts with exactly the
// settings given), not through `npm start`, which fills in local defaults.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { topology } from 'runner/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../src/config/paths.js';
import { defaultUsers, renderAuthorization } from '../src/nats/conf.js';
import { adminUrl } from './support/database.js';
import { startOwnNats, type OwnNats } from './support/faults.js';
import { cleanEnv, startEntry } from './support/process.js';

let tmp: string;
let notADir: string;
let securedNats: OwnNats;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'thr-bad-input-'));
  // A file where a folder should be: unusable even for root, unlike a mode bit.
  notADir = path.join(tmp, 'file');
  await writeFile(notADir, 'not a folder');
  securedNats = await startOwnNats({ authorization: renderAuthorization(topology(''), defaultUsers()) });
});

afterAll(async () => {
  await securedNats?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Runs the entry point until it exits; its output must be one line, with no stack trace. */
async function failsWithOneLine(entry: string, settings: Record<string, string>): Promise<string> {
  const run = startEntry(entry, cleanEnv({ SECRETS_KEY: '', RUNNER_ENVIRONMENT_TYPES: '', ...settings }));
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 60_000);
  const { code } = await run.exited;
  clearTimeout(timer);
  const lines = run.output().trim().split('\n');
  expect(lines, run.output()).toHaveLength(1);
  expect(code).toBe(1);
  return lines[0]!;
}

const api = 'api/src/main.ts';
const runner = 'runner/src/main.ts';

describe('the API', () => {
  const good = () => ({
    DATABASE_URL: adminUrl,
    NATS_URL: 'nats://127.0.0.1:4222',
    TASKS_DIR: path.join(tmp, 'tasks'),
    JOBS_DIR: path.join(tmp, 'jobs'),
    DATA_DIR: path.join(tmp, 'data'),
  });

  it('without DATABASE_URL (the thr-database Secret)', async () => {
    const { DATABASE_URL: _, ...rest } = good();
    expect(await failsWithOneLine(api, rest)).toMatch(/^\[api\] DATABASE_URL must be set/);
  });

  it('with the placeholder SECRETS_KEY of the manifests', async () => {
    expect(await failsWithOneLine(api, { ...good(), SECRETS_KEY: 'REPLACE' })).toMatch(/^\[api\] SECRETS_KEY must be 32 bytes as base64 or 64 hex characters/);
  });

  it('with TASKS_DIR not usable (the tasks volume missing)', async () => {
    expect(await failsWithOneLine(api, { ...good(), TASKS_DIR: path.join(notADir, 'tasks') })).toBe(
      `[api] TASKS_DIR is ${JSON.stringify(path.join(notADir, 'tasks'))}, which cannot be written (ENOTDIR); mount the shared volume there or point TASKS_DIR at a folder this user may write`,
    );
  });

  it('with JOBS_DIR not usable (the jobs volume missing)', async () => {
    expect(await failsWithOneLine(api, { ...good(), JOBS_DIR: path.join(notADir, 'jobs') })).toMatch(/^\[api\] JOBS_DIR is ".*", which cannot be read \(ENOTDIR\)/);
  });

  it('without NATS credentials for a NATS that requires them', async () => {
    expect(await failsWithOneLine(api, { ...good(), NATS_URL: securedNats.url })).toMatch(/^\[api\] .*(NATS|nats).*[Aa]uthori[sz]ation/);
  });
});

describe('a runner', () => {
  it('without NATS_URL', async () => {
    expect(await failsWithOneLine(runner, { HARBOR_BIN: 'true' })).toMatch(/^\[runner\] NATS_URL must be set/);
  });

  it('with the placeholder SECRETS_KEY of the manifests', async () => {
    expect(await failsWithOneLine(runner, { NATS_URL: 'nats://127.0.0.1:4222', HARBOR_BIN: 'true', SECRETS_KEY: 'REPLACE' })).toMatch(/^\[runner\] .*SECRETS_KEY/);
  });
});

// deploy/compose.yaml: every secret and host path is required, and compose refuses to start without
// it, with one line naming it (podman-compose --dry-run reads and interpolates the file, starts nothing).
const podmanCompose = spawnSync('podman-compose', ['version'], { encoding: 'utf8' }).status === 0;
describe.skipIf(!podmanCompose)(`compose${podmanCompose ? '' : ' (skipped: podman-compose is not installed)'}`, () => {
  const complete: Record<string, string> = {
    POSTGRES_PASSWORD: 'pw',
    SECRETS_KEY: 'key',
    NATS_API_PASSWORD: 'api',
    NATS_RUNNER_PASSWORD: 'runner',
    NATS_CONF: '/etc/nats.conf',
    THR_DATA_DIR: '/srv/thr',
    DOCKER_GID: '999',
    PUBLIC_URL: 'http://localhost:4000',
  };
  // podman-compose 1.0's dry run still makes the project's volumes and network: a project of this
  // run's own, removed after.
  const project = `thrbadinput${process.pid}`;
  afterAll(() => {
    spawnSync('podman', ['volume', 'rm', '-f', ...['postgres', 'nats-1', 'nats-2', 'nats-3'].map((v) => `${project}_${v}`)]);
    spawnSync('podman', ['network', 'rm', '-f', `${project}_default`]);
  });
  const up = (env: Record<string, string>) =>
    spawnSync('podman-compose', ['--dry-run', '-p', project, '-f', path.join(repoRoot, 'deploy/compose.yaml'), 'up', '-d'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...env },
    });

  it('starts with every required setting', () => {
    const r = up(complete);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('SECRETS_KEY=key');
  });
  it.each(Object.keys(complete))('refuses to start without %s, naming it in one line', (name) => {
    const { [name]: _, ...rest } = complete;
    const r = up(rest);
    expect(r.status).not.toBe(0);
    const last = (r.stderr + r.stdout).trim().split('\n').at(-1)!;
    expect(last).toMatch(new RegExp(`(^|: )${name} must `));
  });
});
