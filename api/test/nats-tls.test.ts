// NATS over TLS with a private CA, as the tls block of nats.conf sets it up: the API's connection
// (NATS_TLS_CA, a tls:// URL, its user) gets in and JetStream works; without the CA the server's
// certificate is refused, and a client certificate is presented when NATS_TLS_CERT/KEY are set.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { topology } from 'runner/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkJetStream, connectNats } from '../src/nats/connection.js';
import { startOwnNats, type OwnNats } from './support/faults.js';
import { testNatsUsers, type TestNatsUsers } from './support/nats-auth.js';

let dir: string;
let server: OwnNats;
let users: TestNatsUsers;

/** A CA, a server certificate it signs (nats.js checks it against `localhost` when given an IP) and a client one. */
function makeCerts(): void {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=thr test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    execFileSync('sh', ['-c', `printf '${ext}\\n' > ${name}.ext`], { cwd: dir });
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'thr-nats-tls-'));
  makeCerts();
  users = await testNatsUsers(topology('tls'));
  const file = (f: string) => JSON.stringify(path.join(dir, f));
  // verify: the server asks for a client certificate from this CA (mutual TLS).
  server = await startOwnNats({
    authorization: users.authorization,
    config: `tls { cert_file: ${file('server.crt')}\n key_file: ${file('server.key')}\n ca_file: ${file('ca.crt')}\n verify: true\n timeout: 5 }`,
  });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

it('connects over TLS with the private CA and a client certificate, as its user, and JetStream works', async () => {
  const env = {
    ...users.env('api'),
    NATS_TLS_CA: path.join(dir, 'ca.crt'),
    NATS_TLS_CERT: path.join(dir, 'client.crt'),
    NATS_TLS_KEY: path.join(dir, 'client.key'),
  };
  const nc = await connectNats(`tls://127.0.0.1:${server.port}`, 'tls-test', undefined, { env });
  try {
    expect(nc.info?.tls_required).toBe(true);
    await checkJetStream(nc);
  } finally {
    await nc.close();
  }
});

it('refuses a server certificate from an unknown CA, and a client without a certificate', async () => {
  const url = `tls://127.0.0.1:${server.port}`;
  const message = (env: Record<string, string>) => connectNats(url, 'tls-refused', undefined, { env }).then(() => 'connected', (e: Error) => e.message);
  expect(await message(users.env('api'))).toMatch(/cannot connect to NATS at tls:\/\/127\.0\.0\.1:\d+: unable to verify the first certificate/);
  // The server drops the handshake; the client sees its connect attempt fail.
  expect(await message({ ...users.env('api'), NATS_TLS_CA: path.join(dir, 'ca.crt') })).toMatch(/^cannot connect to NATS at tls:/);
});
