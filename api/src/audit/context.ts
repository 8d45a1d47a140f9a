// The audit entry of a GraphQL request: the caller and their address come from the context, so a
// resolver names only what it did.
import type { Prisma } from '../generated/prisma/client.js';
import type { Context } from '../schema/context.js';
import { recordAudit, type AuditAction } from './record.js';

export function auditRequest(
  ctx: Pick<Context, 'db' | 'viewer' | 'clientIp'>,
  action: AuditAction,
  target: { type: string; id: string } | null,
  detail: Prisma.InputJsonObject = {},
): Promise<void> {
  return recordAudit(ctx.db, { actor: ctx.viewer, action, targetType: target?.type, targetId: target?.id, ip: ctx.clientIp, detail });
}
