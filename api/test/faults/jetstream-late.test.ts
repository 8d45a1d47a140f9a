// A platform replica that starts while JetStream does not answer yet (a NATS node lost and its
// streams electing new leaders; here a nats-server that comes up without JetStream and is restarted
// with it) waits for it and sets up its streams, instead of exiting into a restart loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { topology } from 'runner/protocol';
import { waitFor } from 'runner/test-support';
import { afterAll, expect, it } from 'vitest';
import { connectNats } from '../../src/nats/connection.js';
import { freePort } from '../../src/platform/ports.js';
import { startServices } from '../../src/services.js';
import { createTestDatabase } from '../support/database.js';

const PATH = `${process.env.PATH ?? ''}:/usr/sbin:/usr/local/sbin`;
let server: ChildProcess | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  server?.kill('SIGKILL');
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function startServer(args: string[]): Promise<ChildProcess> {
  const child = spawn('nats-server', args, { env: { ...process.env, PATH }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return waitFor(() => /Server is ready/.test(stderr) && child, { what: `nats-server ${args.join(' ')} to be ready`, timeoutMs: 30_000, intervalMs: 50 });
}

it('waits for JetStream to answer, then sets up its streams', async () => {
  const port = await freePort();
  const store = await mkdtemp(path.join(os.tmpdir(), 'thr-js-late-'));
  cleanups.push(() => rm(store, { recursive: true, force: true }));
  server = await startServer(['-a', '127.0.0.1', '-p', String(port)]); // no JetStream yet
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const nats = await connectNats(`nats://127.0.0.1:${port}`, 'test-js-late');
  cleanups.push(() => nats.close());
  const lines: string[] = [];
  const t = topology(`late${process.pid}`);

  const starting = startServices({ db: database.db, nats, topology: t, log: (line) => lines.push(line), jetStreamDeadlineMs: 60_000 });
  let settled = false;
  void starting.then(() => (settled = true), () => (settled = true));
  await waitFor(() => lines.some((l) => /does not answer yet|setting up the streams/.test(l)), { what: 'a retry to be logged', timeoutMs: 30_000, intervalMs: 50 });
  expect(settled).toBe(false);

  // JetStream comes: the same port, now with a store.
  server.kill('SIGTERM');
  await new Promise((resolve) => server!.once('exit', resolve));
  server = await startServer(['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store]);
  const services = await starting;
  cleanups.push(() => services.stop());
  expect(lines.find((l) => /trying again in/.test(l))).toBeTruthy();
}, 90_000);
