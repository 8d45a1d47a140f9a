// One row of the audit trail (AuditEvent): who did what, when, from where. Auth writes its own events
// here; the audit domain reads them. The actor is kept by id and name so the trail survives the user.
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';

export interface AuditEntry {
  /** Who acted: the caller, nobody (the system), or only a name (e.g. a failed login's claimed name). */
  actor: Viewer | null | { name: string };
  action: string;
  targetType?: string;
  targetId?: string;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

export async function recordAudit(db: Db | Prisma.TransactionClient, entry: AuditEntry): Promise<void> {
  const actor = entry.actor;
  await db.auditEvent.create({
    data: {
      actorId: actor && 'userId' in actor ? actor.userId : null,
      actorName: actor?.name ?? null,
      action: entry.action,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      ip: entry.ip ?? null,
      detail: (entry.detail ?? {}) as Prisma.InputJsonValue,
    },
  });
}
