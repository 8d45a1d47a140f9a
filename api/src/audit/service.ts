// Reading the audit trail: the filter ADMINs page through, checked and turned into a Prisma where.
import type { Prisma } from '../generated/prisma/client.js';
import { InvalidInputError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';

export interface AuditFilter {
  actorId?: string | null;
  action?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  /** Events at or after this instant. */
  since?: Date | null;
  /** Events before this instant. */
  until?: Date | null;
}

const ACTION = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Newest first; the id breaks ties between events of the same millisecond so pages never skip or repeat one. */
export const AUDIT_ORDER: Prisma.AuditEventOrderByWithRelationInput[] = [{ at: 'desc' }, { id: 'desc' }];

export function auditWhere(filter: AuditFilter | null | undefined): Prisma.AuditEventWhereInput {
  if (!filter) return {};
  const { actorId, action, targetType, targetId, since, until } = filter;
  if (action != null && !ACTION.test(action)) {
    throw new InvalidInputError(`filter.action must be an action name like JOB_CREATED, got ${JSON.stringify(action)}`, 'filter.action');
  }
  for (const [field, value] of [['targetType', targetType], ['targetId', targetId]] as const) {
    if (value != null && (value.length === 0 || value.length > 200)) {
      throw new InvalidInputError(`filter.${field} must be 1 to 200 characters`, `filter.${field}`);
    }
  }
  if (since && until && since >= until) {
    throw new InvalidInputError(`filter.since (${since.toISOString()}) must be before filter.until (${until.toISOString()})`, 'filter.since');
  }
  return {
    ...(actorId != null ? { actorId: parseId(actorId, 'filter.actorId') } : {}),
    ...(action != null ? { action } : {}),
    ...(targetType != null ? { targetType } : {}),
    ...(targetId != null ? { targetId } : {}),
    ...(since || until ? { at: { ...(since ? { gte: since } : {}), ...(until ? { lt: until } : {}) } } : {}),
  };
}
