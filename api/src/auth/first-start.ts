// First start, as Jupyter does it: with no users yet, make an ADMIN named `admin`, write its API
// token to DATA_DIR/admin.token (0600) and print a one-time login link. ADMIN_TOKEN seeds that
// token in deployments instead, idempotently: restarts with the same value change nothing.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { recordAudit } from '../audit/record.js';
import { createLoginLink } from './sessions.js';
import { newSecret, sha256Hex, TOKEN_PREFIX } from './secrets.js';

export const FIRST_ADMIN = 'admin';
export const ADMIN_TOKEN_FILE = 'admin.token';
const SEEDED_TOKEN_NAME = 'ADMIN_TOKEN';

export interface FirstStartOptions {
  dataDir: string;
  /** ADMIN_TOKEN: the admin's API token as deployed; unset, one is generated at first start. */
  adminToken?: string;
  /** Where people open the web app, for the login link. */
  publicUrl: string;
  log: (line: string) => void;
}

export interface FirstStart {
  /** Set when this start created the first ADMIN. */
  created: boolean;
  tokenFile: string | null;
  loginUrl: string | null;
}

export async function ensureFirstAdmin(db: Db, options: FirstStartOptions): Promise<FirstStart> {
  const firstStart = (await db.user.count()) === 0;
  if (options.adminToken) await seedAdminToken(db, options.adminToken, options.log);
  if (!firstStart) return { created: false, tokenFile: null, loginUrl: null };
  let admin = await db.user.findUnique({ where: { name: FIRST_ADMIN } });
  let tokenFile: string | null = null;
  if (!admin) {
    try {
      admin = await db.user.create({ data: { name: FIRST_ADMIN, role: 'ADMIN' } });
    } catch (error) {
      // Another replica made it a moment ago: its start prints the link.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return { created: false, tokenFile: null, loginUrl: null };
      throw error;
    }
    await recordAudit(db, { actor: null, action: 'USER_CREATED', targetType: 'user', targetId: admin.id, detail: { name: FIRST_ADMIN, role: 'ADMIN', firstStart: true } });
  }
  if (!options.adminToken) {
    const token = newSecret(TOKEN_PREFIX);
    await db.apiToken.create({
      data: { userId: admin.id, name: 'first start', prefix: token.slice(0, 10), tokenHash: sha256Hex(token), createdById: admin.id },
    });
    await mkdir(options.dataDir, { recursive: true });
    tokenFile = path.join(options.dataDir, ADMIN_TOKEN_FILE);
    // `mode` applies only to a new file; chmod covers one left over from an older database.
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    await chmod(tokenFile, 0o600);
  }
  const once = await createLoginLink(db, admin.id);
  const loginUrl = `${options.publicUrl.replace(/\/+$/, '')}/login?once=${once}`;
  options.log(`first start: created the ADMIN user "${FIRST_ADMIN}"`);
  if (tokenFile) options.log(`  its API token is in ${tokenFile} (send it as Authorization: Bearer <token>)`);
  options.log(`  sign in to the web app once with ${loginUrl} (valid 24 h, usable once)`);
  return { created: true, tokenFile, loginUrl };
}

async function seedAdminToken(db: Db, token: string, log: (line: string) => void): Promise<void> {
  const tokenHash = sha256Hex(token);
  const existing = await db.apiToken.findUnique({ where: { tokenHash } });
  if (existing) {
    if (existing.revokedAt) log('ADMIN_TOKEN was revoked in the web app; set a new ADMIN_TOKEN to seed another');
    return;
  }
  const admin =
    (await db.user.findUnique({ where: { name: FIRST_ADMIN } })) ??
    (await db.user.create({ data: { name: FIRST_ADMIN, role: 'ADMIN' } }).catch(async (error: unknown) => {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') return db.user.findUniqueOrThrow({ where: { name: FIRST_ADMIN } });
      throw error;
    }));
  await db.apiToken
    .create({ data: { userId: admin.id, name: SEEDED_TOKEN_NAME, prefix: token.slice(0, 10), tokenHash, createdById: admin.id } })
    .catch((error: unknown) => {
      if (!(error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')) throw error;
    });
  log(`ADMIN_TOKEN seeded as an API token of "${admin.name}"`);
}
