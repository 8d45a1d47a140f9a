// The audit trail in GraphQL: the AuditEvent type and the ADMIN-only `auditLog` connection.
import { requireRole } from '../auth/viewer.js';
import { builder } from '../schema/builder.js';
import { planned } from '../schema/planned.js';
import { AUDIT_ORDER, auditWhere } from './service.js';

builder.prismaObject('AuditEvent', {
  description: 'One thing a person (or the platform) did: who, what, when, from where.',
  fields: (t) => ({
    id: t.exposeID('id'),
    at: t.expose('at', { type: 'DateTime' }),
    actorId: t.exposeID('actorId', { nullable: true, description: 'The user who acted; null for anonymous requests and the platform itself.' }),
    actorName: t.exposeString('actorName', { nullable: true, description: 'Their name at the time (kept when the user is deleted).' }),
    action: t.exposeString('action', { description: 'e.g. JOB_CREATED, RUNS_RETRIED, QUOTA_SET, LOGIN.' }),
    targetType: t.exposeString('targetType', { nullable: true, description: 'What was acted on: job, run, task, user, …' }),
    targetId: t.exposeString('targetId', { nullable: true }),
    ip: t.exposeString('ip', { nullable: true, description: 'The client address as the server saw it.' }),
    detail: t.expose('detail', { type: 'JSON', description: 'The figures of the moment: counts, old and new values.' }),
  }),
});

const AuditFilterInput = builder.inputType('AuditFilter', {
  fields: (t) => ({
    actorId: t.id(),
    action: t.string({ description: 'One action, e.g. JOB_CREATED.' }),
    targetType: t.string(),
    targetId: t.string(),
    since: t.field({ type: 'DateTime', description: 'Events at or after this instant.' }),
    until: t.field({ type: 'DateTime', description: 'Events before this instant.' }),
  }),
});

builder.queryField('auditLog', (t) =>
  t.prismaConnection(
    {
      type: 'AuditEvent',
      cursor: 'id',
      defaultSize: 50,
      maxSize: 500,
      description: 'The audit trail, newest first (ADMIN only).',
      args: { filter: t.arg({ type: AuditFilterInput }) },
      totalCount: (_parent, { filter }, ctx) => {
        requireRole(ctx, ['ADMIN'], 'read the audit log');
        return ctx.db.auditEvent.count({ where: auditWhere(filter) });
      },
      resolve: (query, _root, { filter }, ctx) => {
        requireRole(ctx, ['ADMIN'], 'read the audit log');
        return ctx.db.auditEvent.findMany({ ...planned(query), where: auditWhere(filter), orderBy: AUDIT_ORDER });
      },
    },
    { description: 'A page of audit events.' },
  ),
);
