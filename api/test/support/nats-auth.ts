// Users for a nats-server of a test's own that requires authentication: random passwords, their
// bcrypt hashes in an authorization block generated for the test's prefix by the same code as
// nats.conf (api/src/nats/conf.ts), and the environment each process connects with.
import type { NatsRole, Topology } from 'runner/protocol';
import { defaultUsers, hashPassword, randomPassword, renderAuthorization } from '../../src/nats/conf.js';

export interface TestNatsUsers {
  passwords: Record<NatsRole, string>;
  /** User `runner-solo`, a runner user that may beat only as runner `solo` (password as `runner`). */
  soloRunner: { user: string; runnerId: string };
  /** The authorization block for nats-server. */
  authorization: string;
  /** NATS_USER/NATS_PASSWORD for a process of this role. */
  env(role: NatsRole): Record<string, string>;
}

export async function testNatsUsers(t: Topology): Promise<TestNatsUsers> {
  const passwords = { api: randomPassword(), runner: randomPassword() };
  // The lowest bcrypt cost: every connection makes the server check a hash, and tests connect often.
  const users = defaultUsers({ api: await hashPassword(passwords.api, 4), runner: await hashPassword(passwords.runner, 4) });
  const soloRunner = { user: 'runner-solo', runnerId: 'solo' };
  users.push({ role: 'runner', ...soloRunner, passwordHash: users[1]!.passwordHash });
  return {
    passwords,
    soloRunner,
    authorization: renderAuthorization(t, users),
    env: (role) => ({ NATS_USER: role, NATS_PASSWORD: passwords[role] }),
  };
}
