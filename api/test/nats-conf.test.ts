import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../src/config/paths.js';

it('nats.conf is a configuration nats-server accepts', () => {
  const result = spawnSync('nats-server', ['-c', path.join(repoRoot, 'nats.conf'), '-t'], {
    encoding: 'utf8',
    // Debian installs nats-server in /usr/sbin.
    env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` },
  });
  expect(result.error).toBeUndefined();
  expect(`${result.stdout}${result.stderr}`).toContain('is valid');
  expect(result.status).toBe(0);
});
