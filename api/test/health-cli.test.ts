// `npm run health` against a real platform (PostgreSQL, a nats-server of the test's own, the API with
// its services): all OK with a token, a WARN without one, FAIL on a wrong token and with NATS down,
// and the process's exit codes.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatLine, runHealthChecks, type CheckLine } from '../src/health/cli.js';
import { startTestApp, type TestApp } from './support/app.js';
import { anonymousFetch } from './support/auth.js';
import { startOwnNats, type OwnNats } from './support/faults.js';
import { startEntry, cleanEnv } from './support/process.js';
import { waitFor } from 'runner/test-support';

let nats: OwnNats;
let platform: TestApp;
let base: string;

beforeAll(async () => {
  nats = await startOwnNats();
  platform = await startTestApp({ natsUrl: nats.url, services: true });
  base = platform.url.replace(/\/graphql$/, '');
});

afterAll(async () => {
  await platform?.close();
  await nats?.close();
});

const levels = (lines: CheckLine[]) => Object.fromEntries(lines.map((l) => [l.check, l.level]));

/** The script as `npm run health` runs it; startEntry passes no arguments, so --api/--token go as THR_API/THR_TOKEN. */
async function runCli(api: string, token: string): Promise<{ code: number | null; output: string }> {
  const run = startEntry('api/src/health/cli.ts', cleanEnv({ THR_API: api, THR_TOKEN: token }));
  const { code } = await run.exited;
  return { code, output: run.output() };
}

it('with a token: API, database, NATS, the RUNS stream, pools, runners and queue, one line each', async () => {
  const lines = await runHealthChecks({ api: base, token: platform.admin.token, queueAgeMinutes: 30, fetch: anonymousFetch });
  const runs = `stream ${platform.nats.topology.streams.runs.name}`;
  expect(levels(lines)).toMatchObject({ api: 'OK', database: 'OK', nats: 'OK', [runs]: 'OK', pools: 'OK', queue: 'OK' });
  // No runner was started: nothing waits, so that is a warning, not a failure.
  expect(levels(lines).runners).toBe('WARN');
  expect(lines.find((l) => l.check === 'runners')!.message).toContain('0 live');
  expect(lines.find((l) => l.check === runs)!.message).toContain('single server, 1 replica(s)');
  expect(formatLine(lines[0]!)).toMatch(/^OK {4}api +http:\/\/127\.0\.0\.1:\d+\/graphql answers, version /);
});

it('without a token: the public probes, and a WARN that the rest is not checked', async () => {
  const lines = await runHealthChecks({ api: base, queueAgeMinutes: 30, fetch: anonymousFetch });
  expect(levels(lines)).toEqual({ api: 'OK', database: 'OK', nats: 'OK', token: 'WARN' });
});

it('with a wrong token: FAIL naming the token', async () => {
  const lines = await runHealthChecks({ api: base, token: 'thr_wrong0000000000000000000000000000000000', queueAgeMinutes: 30, fetch: anonymousFetch });
  expect(lines.some((l) => l.level === 'FAIL')).toBe(true);
  expect(lines.map(formatLine)).toContain('FAIL  token           the API refused the token: the cluster, runners and queue stay hidden');
});

it('with nothing listening: FAIL for the API', async () => {
  const lines = await runHealthChecks({ api: 'http://127.0.0.1:9', queueAgeMinutes: 30, fetch: anonymousFetch, timeoutMs: 5_000 });
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ level: 'FAIL', check: 'api' });
  expect(lines[0]!.message).toContain('does not answer');
});

it('the script exits 0 when healthy and 1 with NATS down, printing one line per check', async () => {
  const healthy = await runCli(base, platform.admin.token);
  expect(healthy.output).toMatch(/^OK {4}database/m);
  expect(healthy.output).not.toMatch(/^FAIL/m);
  expect(healthy.code).toBe(0);

  await nats.stop('SIGKILL');
  try {
    const down = await runCli(base, platform.admin.token);
    expect(down.output).toMatch(/^OK {4}api/m);
    expect(down.output).toMatch(/^FAIL {2}nats +\S/m);
    expect(down.code).toBe(1);
  } finally {
    await nats.start();
    // The platform's connection reconnects on its own; wait for it so that cleanup can reach NATS.
    await waitFor(async () => levels(await runHealthChecks({ api: base, queueAgeMinutes: 30, fetch: anonymousFetch })).nats === 'OK', {
      timeoutMs: 30_000,
      what: 'the API to reconnect to NATS',
    });
  }
}, 120_000);

it('a stream without a leader FAILs, and runs waiting with no live runner FAIL (answers as a cluster gives them)', async () => {
  const answer = {
    ok: true,
    version: '0.1.0',
    checkedAt: '2026-12-06T12:00:00.000Z',
    database: { ok: true, latencyMs: 1, message: 'PostgreSQL 16' },
    nats: { ok: true, latencyMs: 1, message: 'NATS 2.10 with JetStream' },
    jetStream: {
      streams: [{ name: 'RUNS', replicas: 3, cluster: 'thr', leader: null, currentFollowers: 0, laggingFollowers: 2, maxLag: 0, messages: 5 }],
      consumers: [{ stream: 'RUNS', name: 'runners-docker', pending: 5, ackPending: 0 }],
    },
    runners: { live: 0, draining: 0, degraded: 1, lost: 2, slots: 4, busy: 0 },
    queue: { runsQueued: 5, oldestQueuedAt: '2026-12-06T11:00:00.000Z' },
  };
  const fakeFetch = (async () => Response.json({ data: { health: answer } })) as typeof fetch;
  const lines = await runHealthChecks({ api: 'http://thr.test', token: 't', queueAgeMinutes: 30, fetch: fakeFetch });
  expect(levels(lines)).toEqual({ api: 'OK', database: 'OK', nats: 'OK', 'stream RUNS': 'FAIL', pools: 'OK', runners: 'FAIL', queue: 'WARN' });
  expect(lines.find((l) => l.check === 'queue')!.message).toBe('5 run(s) waiting, the oldest for 60 min');
});
