import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { topology } from 'runner/protocol';
import { afterAll, expect, it } from 'vitest';
import { repoRoot } from '../src/config/paths.js';
import { BEGIN_MARK, defaultUsers, END_MARK, renderAuthorization, replaceGeneratedBlock } from '../src/nats/conf.js';
import { startOwnNats, type OwnNats } from './support/faults.js';

const confFile = path.join(repoRoot, 'nats.conf');
let server: OwnNats | undefined;
afterAll(() => server?.close());

it('nats.conf is a configuration nats-server accepts', () => {
  const result = spawnSync('nats-server', ['-c', confFile, '-t'], {
    encoding: 'utf8',
    // Debian installs nats-server in /usr/sbin.
    env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` },
  });
  expect(result.error).toBeUndefined();
  expect(`${result.stdout}${result.stderr}`).toContain('is valid');
  expect(result.status).toBe(0);
});

it("nats.conf's users and permissions are the ones generated for the default prefix (`npm run nats:conf -- --write` after a change)", async () => {
  const committed = await readFile(confFile, 'utf8');
  expect(committed).toContain(BEGIN_MARK);
  expect(committed).toContain(END_MARK);
  expect(committed).toBe(replaceGeneratedBlock(committed, renderAuthorization(topology(''), defaultUsers())));
  // Deny by default: no anonymous user, nothing allowed to everyone.
  expect(committed).not.toMatch(/^\s*no_auth_user/m);
  expect(committed).not.toMatch(/"(>|\$JS\.API\.>|\$KV\.>)"/);
});

it('the committed placeholder hashes let no one in', async () => {
  const block = (await readFile(confFile, 'utf8')).split(BEGIN_MARK)[1]!.split(END_MARK)[0]!;
  server = await startOwnNats({ authorization: block });
  for (const user of ['api', 'runner']) {
    for (const pass of ['', 'REPLACE', 'password']) {
      await expect(connect({ servers: server.url, user, pass, timeout: 5_000, reconnect: false })).rejects.toThrow(/Authorization Violation/i);
    }
  }
});
