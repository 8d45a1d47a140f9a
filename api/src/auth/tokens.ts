// API tokens: created by a user for themselves (an ADMIN for anyone), shown once, stored as sha256,
// listed with their last use, revocable. Revoking tells open WebSockets at once (credentialsChanged).
import { recordAudit } from '../audit/record.js';
import type { Db } from '../db/client.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { newSecret, sha256Hex, TOKEN_PREFIX } from './secrets.js';
import { ForbiddenError, type Viewer } from './viewer.js';

export interface TokenDeps {
  db: Db;
  viewer: Viewer;
  clientIp: string | null;
  /** Wakes the WebSocket sweep so sockets on a revoked credential close now, not at the next check. */
  credentialsChanged: () => void;
}

export const MAX_TOKEN_NAME = 100;
/** Characters of the token kept in clear (ApiToken.prefix) so people can tell tokens apart. */
const SHOWN_PREFIX = TOKEN_PREFIX.length + 6;

/** The user a caller may act for: themselves, or anyone when ADMIN. */
async function targetUser(deps: TokenDeps, userId: string | null | undefined, action: string) {
  const id = userId ?? deps.viewer.userId;
  if (id !== deps.viewer.userId && deps.viewer.role !== 'ADMIN') {
    throw new ForbiddenError(`only an ADMIN may ${action} for another user`);
  }
  const user = await deps.db.user.findUnique({ where: { id } });
  if (!user) throw new NotFoundError('user', id);
  return user;
}

export async function createApiToken(
  deps: TokenDeps,
  input: { userId?: string | null; name: string; expiresAt?: Date | null },
  now = new Date(),
) {
  const name = input.name.trim();
  if (!name) throw new InvalidInputError('name must not be empty: say what the token is for', 'input.name');
  if (name.length > MAX_TOKEN_NAME) throw new InvalidInputError(`name must be at most ${MAX_TOKEN_NAME} characters`, 'input.name');
  if (input.expiresAt && input.expiresAt <= now) {
    throw new InvalidInputError('expiresAt must be in the future', 'input.expiresAt');
  }
  const user = await targetUser(deps, input.userId, 'create an API token');
  if (user.disabledAt) throw new InvalidInputError(`the account ${user.name} is disabled`, 'input.userId');
  const token = newSecret(TOKEN_PREFIX);
  const row = await deps.db.apiToken.create({
    data: {
      userId: user.id,
      name,
      prefix: token.slice(0, SHOWN_PREFIX),
      tokenHash: sha256Hex(token),
      createdById: deps.viewer.userId,
      expiresAt: input.expiresAt ?? null,
    },
  });
  await recordAudit(deps.db, {
    actor: deps.viewer,
    action: 'TOKEN_CREATED',
    targetType: 'token',
    targetId: row.id,
    ip: deps.clientIp,
    detail: { name, userId: user.id, expiresAt: row.expiresAt?.toISOString() ?? null },
  });
  return { token, apiToken: row };
}

export async function revokeApiToken(deps: TokenDeps, id: string, now = new Date()) {
  const row = await deps.db.apiToken.findUnique({ where: { id } });
  if (!row) throw new NotFoundError('API token', id);
  if (row.userId !== deps.viewer.userId && deps.viewer.role !== 'ADMIN') {
    throw new ForbiddenError('only its owner or an ADMIN may revoke an API token');
  }
  if (row.revokedAt) return row;
  const revoked = await deps.db.apiToken.update({ where: { id }, data: { revokedAt: now } });
  await recordAudit(deps.db, { actor: deps.viewer, action: 'TOKEN_REVOKED', targetType: 'token', targetId: id, ip: deps.clientIp, detail: { name: row.name } });
  deps.credentialsChanged();
  return revoked;
}

/** Whose tokens a caller may list: their own; an ADMIN anyone's. */
export async function tokenOwnerFilter(deps: Pick<TokenDeps, 'db' | 'viewer'>, userId: string | null | undefined): Promise<string> {
  if (!userId || userId === deps.viewer.userId) return deps.viewer.userId;
  if (deps.viewer.role !== 'ADMIN') throw new ForbiddenError("only an ADMIN may list another user's API tokens");
  return userId;
}
