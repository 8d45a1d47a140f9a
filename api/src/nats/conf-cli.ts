// `npm run nats:conf`: nats.conf with its users and permissions block generated for a prefix.
//   npm run nats:conf                       print nats.conf for the default prefix, placeholder hashes
//   npm run nats:conf -- --write            rewrite the repository's nats.conf (after changing permissions)
//   npm run nats:conf -- --prefix prod --api-hash '$2a$11$…' --runner-hash '$2a$11$…' > /etc/nats/nats.conf
//   … --runner-id gpu-1='$2a$11$…'          also a user `runner-gpu-1` that may beat only as runner gpu-1
// `npm run nats:passwd`: a fresh random password and its bcrypt hash (the hash goes into nats.conf,
// the password into the process's NATS_PASSWORD or NATS_URL).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { topology } from 'runner/protocol';
import { repoRoot } from '../config/paths.js';
import { defaultUsers, hashPassword, isPlaceholderHash, randomPassword, renderAuthorization, replaceGeneratedBlock, type NatsUser } from './conf.js';

const BCRYPT = /^\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const RUNNER_ID = /^[A-Za-z0-9._-]{1,128}$/;

function fail(message: string): never {
  console.error(`nats:conf: ${message}`);
  process.exit(2);
}

function hashArg(name: string, value: string | undefined): string | undefined {
  if (value !== undefined && !BCRYPT.test(value)) fail(`--${name} must be a bcrypt hash like $2a$11$… (from npm run nats:passwd)`);
  return value;
}

async function conf(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      prefix: { type: 'string', default: '' },
      'api-hash': { type: 'string' },
      'runner-hash': { type: 'string' },
      'runner-id': { type: 'string', multiple: true, default: [] },
      write: { type: 'boolean', default: false },
    },
  });
  let t;
  try {
    t = topology(values.prefix);
  } catch (error) {
    fail((error as Error).message);
  }
  const users: NatsUser[] = defaultUsers({ api: hashArg('api-hash', values['api-hash']), runner: hashArg('runner-hash', values['runner-hash']) });
  for (const spec of values['runner-id']) {
    const [id, hash] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)];
    if (!spec.includes('=') || !RUNNER_ID.test(id)) fail(`--runner-id takes RUNNER_ID=HASH, the id as the runner's RUNNER_ID (got ${JSON.stringify(spec)})`);
    users.push({ role: 'runner', user: `runner-${id}`, passwordHash: hashArg('runner-id', hash)!, runnerId: id });
  }
  const file = path.join(repoRoot, 'nats.conf');
  const text = replaceGeneratedBlock(await readFile(file, 'utf8'), renderAuthorization(t, users));
  if (!values.write) {
    process.stdout.write(text);
    return;
  }
  if (values.prefix || !users.every((u) => isPlaceholderHash(u.passwordHash))) {
    fail('--write keeps the committed nats.conf generic: the default prefix and placeholder hashes only');
  }
  await writeFile(file, text);
  console.error(`nats:conf: wrote ${file}`);
}

async function passwd(): Promise<void> {
  const password = randomPassword();
  console.log(`password: ${password}`);
  console.log(`bcrypt:   ${await hashPassword(password)}`);
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'passwd') await passwd();
else if (command === 'conf') await conf(rest);
else fail('usage: conf-cli.ts conf [--prefix P] [--api-hash H] [--runner-hash H] [--runner-id ID=H]... [--write] | passwd');
