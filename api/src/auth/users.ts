// Accounts an ADMIN manages: names are unique regardless of case (stored lower-case); roles ADMIN,
// MEMBER, VIEWER; disabling keeps the history but ends every session and token at once.
import { recordAudit } from '../audit/record.js';
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { checkPassword, hashPassword } from './passwords.js';
import type { Role, Viewer } from './viewer.js';

export interface UserDeps {
  db: Db;
  viewer: Viewer;
  clientIp: string | null;
  credentialsChanged: () => void;
}

export const ROLES: readonly Role[] = ['ADMIN', 'MEMBER', 'VIEWER'];
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function normalizeName(raw: string, field: string): string {
  const name = raw.trim().toLowerCase();
  if (!NAME.test(name)) {
    throw new InvalidInputError('name must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit', field);
  }
  return name;
}

function checkRole(role: string, field: string): Role {
  if (!ROLES.includes(role as Role)) throw new InvalidInputError(`role must be one of ${ROLES.join(', ')}`, field);
  return role as Role;
}

export async function createUser(deps: UserDeps, input: { name: string; role: string; password?: string | null }) {
  const name = normalizeName(input.name, 'input.name');
  const role = checkRole(input.role, 'input.role');
  if (input.password != null) checkPassword(input.password, 'input.password');
  const passwordHash = input.password != null ? await hashPassword(input.password) : null;
  try {
    const user = await deps.db.user.create({ data: { name, role, passwordHash } });
    await recordAudit(deps.db, { actor: deps.viewer, action: 'USER_CREATED', targetType: 'user', targetId: user.id, ip: deps.clientIp, detail: { name, role } });
    return user;
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw new InvalidInputError(`a user named ${name} already exists`, 'input.name');
    }
    throw error;
  }
}

export interface UserUpdate {
  id: string;
  role?: string | null;
  /** true disables (sessions and tokens stop working), false enables again. */
  disabled?: boolean | null;
  /** A new password (a reset); every session of the user ends. */
  password?: string | null;
}

export async function updateUser(deps: UserDeps, input: UserUpdate, now = new Date()) {
  const user = await deps.db.user.findUnique({ where: { id: input.id } });
  if (!user) throw new NotFoundError('user', input.id);
  const data: Prisma.UserUpdateInput = {};
  const changes: Record<string, unknown> = {};
  if (input.role != null) {
    data.role = checkRole(input.role, 'input.role');
    changes.role = data.role;
  }
  if (input.disabled != null) {
    data.disabledAt = input.disabled ? (user.disabledAt ?? now) : null;
    changes.disabled = input.disabled;
  }
  if (input.password != null) {
    checkPassword(input.password, 'input.password');
    data.passwordHash = await hashPassword(input.password);
    changes.passwordReset = true;
  }
  if (Object.keys(changes).length === 0) throw new InvalidInputError('nothing to change: give role, disabled or password', 'input');
  // An ADMIN locking themselves out (or the last ADMIN demoted) leaves nobody to undo it.
  const losesAdmin = user.role === 'ADMIN' && ((data.role && data.role !== 'ADMIN') || input.disabled === true);
  if (losesAdmin) {
    const admins = await deps.db.user.count({ where: { role: 'ADMIN', disabledAt: null, id: { not: user.id } } });
    if (admins === 0) throw new InvalidInputError('this is the last enabled ADMIN; make another user ADMIN first', 'input');
  }
  const updated = await deps.db.$transaction(async (tx) => {
    const row = await tx.user.update({ where: { id: user.id }, data });
    // A password reset ends the sessions signed in with the old password; tokens are separate credentials.
    if (changes.passwordReset) await tx.session.updateMany({ where: { userId: user.id, revokedAt: null }, data: { revokedAt: now } });
    await recordAudit(tx, { actor: deps.viewer, action: 'USER_UPDATED', targetType: 'user', targetId: user.id, ip: deps.clientIp, detail: changes as Prisma.InputJsonObject });
    return row;
  });
  deps.credentialsChanged();
  return updated;
}
