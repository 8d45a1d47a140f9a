import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { natsConnectOptions, redactNatsUrl } from './connect-options.js';

describe('natsConnectOptions', () => {
  it('takes user and password from the URL, strips them from the servers, and uses the role inbox', () => {
    const o = natsConnectOptions('nats://api:s%40cret@a:4222, nats://api:s%40cret@b:4222', 'api', {});
    expect(o).toMatchObject({ servers: ['nats://a:4222', 'nats://b:4222'], user: 'api', pass: 's@cret', inboxPrefix: '_INBOX_api' });
    expect(natsConnectOptions('nats://tok@a:4222', 'runner', {})).toMatchObject({ token: 'tok', inboxPrefix: '_INBOX_runner' });
    expect(natsConnectOptions('nats://a:4222', 'runner', {})).toEqual({ servers: ['nats://a:4222'], inboxPrefix: '_INBOX_runner' });
  });

  it('takes NATS_USER and NATS_PASSWORD', () => {
    expect(natsConnectOptions('nats://a:4222', 'runner', { NATS_USER: 'runner', NATS_PASSWORD: 'pw' })).toMatchObject({ user: 'runner', pass: 'pw' });
  });

  it('refuses credentials given twice or half given, naming the variables', () => {
    expect(() => natsConnectOptions('nats://u:p@a:4222', 'api', { NATS_USER: 'u' })).toThrow(/more than once \(credentials in NATS_URL, NATS_USER\)/);
    expect(() => natsConnectOptions('nats://u:p@a:4222,nats://v:p@b:4222', 'api', {})).toThrow(/different credentials/);
    expect(() => natsConnectOptions('nats://a:4222', 'api', { NATS_PASSWORD: 'p' })).toThrow(/NATS_PASSWORD is set without NATS_USER/);
    expect(() => natsConnectOptions('nats://a:4222', 'api', { NATS_CREDS: '/x', NATS_NKEY_SEED: '/y' })).toThrow(/NATS_CREDS, NATS_NKEY_SEED/);
  });

  it('reads an nkey seed file and checks it, and refuses files it cannot read', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'thr-nkey-'));
    const good = path.join(dir, 'good.nk');
    await writeFile(good, `${new TextDecoder().decode(nkeys.createUser().getSeed())}\n`);
    expect(natsConnectOptions('nats://a:4222', 'runner', { NATS_NKEY_SEED: good }).authenticator).toBeTypeOf('function');
    const bad = path.join(dir, 'bad.nk');
    await writeFile(bad, 'not a seed');
    expect(() => natsConnectOptions('nats://a:4222', 'runner', { NATS_NKEY_SEED: bad })).toThrow(/must hold one user nkey seed/);
    expect(() => natsConnectOptions('nats://a:4222', 'runner', { NATS_CREDS: path.join(dir, 'missing.creds') })).toThrow(/NATS_CREDS is .* cannot be read \(ENOENT\)/);
  });

  it('sets TLS from the CA, certificate and key, or from a tls:// URL', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'thr-tls-'));
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) await writeFile(path.join(dir, f), '');
    const env = { NATS_TLS_CA: path.join(dir, 'ca.pem'), NATS_TLS_CERT: path.join(dir, 'cert.pem'), NATS_TLS_KEY: path.join(dir, 'key.pem') };
    expect(natsConnectOptions('nats://a:4222', 'api', env).tls).toEqual({ caFile: env.NATS_TLS_CA, certFile: env.NATS_TLS_CERT, keyFile: env.NATS_TLS_KEY });
    expect(() => natsConnectOptions('nats://a:4222', 'api', { NATS_TLS_CERT: env.NATS_TLS_CERT })).toThrow(/go together/);
    expect(natsConnectOptions('tls://a:4222', 'api', {}).tls).toEqual({});
    expect(natsConnectOptions('nats://a:4222', 'api', {}).tls).toBeUndefined();
  });
});

it('redactNatsUrl hides passwords and tokens, keeps the rest', () => {
  expect(redactNatsUrl('nats://api:secret@a:4222, tls://tok@b:4222,nats://c:4222')).toBe('nats://api:***@a:4222, tls://***@b:4222,nats://c:4222');
});
