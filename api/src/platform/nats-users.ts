// The embedded nats-server's users: one password per role, made on the first start and kept in
// DATA_DIR/nats-users.json (mode 0600) so restarts reuse them; the server's config gets only their
// bcrypt hashes, with the permissions nats.conf has (api/src/nats/conf.ts).
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { topology, type NatsRole } from 'runner/protocol';
import { z } from 'zod';
import { defaultUsers, hashPassword, randomPassword, renderAuthorization } from '../nats/conf.js';

const fileSchema = z.object({ api: z.string().min(32), runner: z.string().min(32) });

export interface LocalNatsUsers {
  passwords: Record<NatsRole, string>;
  authorization: string;
}

async function readOrMakePasswords(file: string): Promise<Record<NatsRole, string>> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (text !== null) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) throw new Error(`${file} is not a NATS users file written by npm start; remove it to make new passwords`);
    // Whatever created it, only this user may read it.
    await chmod(file, 0o600);
    return parsed.data;
  }
  const passwords = { api: randomPassword(), runner: randomPassword() };
  await mkdir(path.dirname(file), { recursive: true });
  // `wx`: two launchers racing on a fresh DATA_DIR end up with one file, read back below.
  await writeFile(file, `${JSON.stringify(passwords, null, 2)}\n`, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return fileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

export async function localNatsUsers(dataDir: string, prefix: string): Promise<LocalNatsUsers> {
  const passwords = await readOrMakePasswords(path.join(dataDir, 'nats-users.json'));
  // Cost 10: the server checks a hash on every connection, and only this machine can reach it.
  const users = defaultUsers({ api: await hashPassword(passwords.api, 10), runner: await hashPassword(passwords.runner, 10) });
  return { passwords, authorization: renderAuthorization(topology(prefix), users) };
}
