// Writing the audit trail: one append-only AuditEvent row per thing a person did (who, what, when,
// from where). Callers pass either the Prisma client (right after a mutation succeeded) or their
// transaction client, so the row commits or rolls back with the change it describes. A failed
// mutation writes no row: the trail lists what happened, not what was attempted.
import type { Viewer } from '../auth/viewer.js';
import type { Prisma } from '../generated/prisma/client.js';

/** The actions recorded today; kept open (a string column) so new ones need no migration. */
export type AuditAction =
  | 'TASKS_UPLOADED'
  | 'TASK_DELETED'
  | 'JOB_CREATED'
  | 'JOB_CANCELLED'
  | 'RUN_CANCELLED'
  | 'RUNS_RETRIED'
  | 'RUNS_REGRADED'
  | 'JOB_DELETED'
  | 'JOB_UPDATED'
  | 'JOB_ARCHIVED'
  | 'JOB_UNARCHIVED'
  | 'BUDGET_SET'
  | 'QUOTA_SET'
  | 'DATASET_CREATED'
  | 'DATASET_VERSION_CREATED'
  | 'DATASET_IMPORTED'
  | (string & {});

export interface AuditEntry {
  /** The signed-in caller; a bare name for the platform itself (e.g. `{ name: 'system' }`); null when anonymous. */
  actor: Viewer | null | { name: string };
  action: AuditAction;
  targetType?: string | null;
  targetId?: string | null;
  ip?: string | null;
  detail?: Prisma.InputJsonObject;
}

/** Anything that can create an AuditEvent: the client or a transaction client. */
type AuditWriter = { auditEvent: Pick<Prisma.TransactionClient['auditEvent'], 'create'> };

/** Bounds of what one row may hold, so a client-chosen string (a job name, an IP header) cannot bloat the trail. */
const MAX_TEXT = 200;

export async function recordAudit(db: AuditWriter, entry: AuditEntry): Promise<void> {
  const actor = entry.actor;
  await db.auditEvent.create({
    data: {
      actorId: actor && 'userId' in actor ? actor.userId : null,
      actorName: actor ? clip(actor.name) : null,
      action: entry.action,
      targetType: clip(entry.targetType),
      targetId: clip(entry.targetId),
      ip: clip(entry.ip),
      detail: entry.detail ?? {},
    },
    select: { id: true },
  });
}

function clip(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT - 1)}…` : value;
}
