// Quotas in GraphQL: setUserQuota (ADMIN), myUsage (anyone signed in), the QuotaExceededError that
// createJob and retryRuns return, and Job.quotaHold. User.quota is the accounts schema's, over userUsage.
import { requireRole, requireViewer } from '../auth/viewer.js';
import { builder } from '../schema/builder.js';
import { ErrorInterface, InvalidInputError, NotFoundError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import { QuotaExceededError, quotaHold, setUserQuota, userUsage, type UserUsage } from './service.js';

export const UserUsageRef = builder.objectRef<UserUsage>('UserUsage').implement({
  description: "A user's quota figures now.",
  fields: (t) => ({
    activeRuns: t.exposeInt('activeRuns', { description: "Runs QUEUED, CLAIMED or RUNNING across the user's jobs." }),
    monthSpendUsd: t.exposeFloat('monthSpendUsd', { description: "Recorded cost of the user's runs finished this calendar month (UTC)." }),
    maxActiveRuns: t.exposeInt('maxActiveRuns', { nullable: true, description: 'Limit on activeRuns; null: none.' }),
    monthlySpendCapUsd: t.exposeFloat('monthlySpendCapUsd', {
      nullable: true,
      description: "Cap on monthSpendUsd; null: none. Once reached, the user's queued runs are held and launches refused.",
    }),
  }),
});

builder.objectType(QuotaExceededError, {
  name: 'QuotaExceededError',
  interfaces: [ErrorInterface],
  description: "The launch or retry would take its user over a quota an ADMIN set; the message has the figures.",
  isTypeOf: (value) => value instanceof QuotaExceededError,
  fields: (t) => ({
    usage: t.field({ type: UserUsageRef, resolve: (e) => e.usage }),
    newRuns: t.exposeInt('newRuns', { description: 'Runs the refused request would have added.' }),
  }),
});

const SetUserQuotaInput = builder.inputType('SetUserQuotaInput', {
  description: 'Omitted fields stay as they are; null removes that limit.',
  fields: (t) => ({
    userId: t.id({ required: true }),
    maxActiveRuns: t.int({ description: 'Runs queued + claimed + running at once across the user\'s jobs (0 to 1,000,000).' }),
    monthlySpendCapUsd: t.float({ description: 'US dollars of recorded cost per calendar month (UTC).' }),
  }),
});

builder.mutationField('setUserQuota', (t) =>
  t.field({
    type: UserUsageRef,
    description: "Sets or removes a user's quotas (ADMIN only); answers their figures afterwards.",
    errors: { types: [NotFoundError, InvalidInputError] },
    args: { input: t.arg({ type: SetUserQuotaInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const viewer = requireRole(ctx, ['ADMIN'], "set a user's quota");
      return setUserQuota(
        ctx.db,
        { actor: viewer, ip: ctx.clientIp },
        {
          userId: parseId(input.userId, 'input.userId'),
          // GraphQL leaves an omitted field undefined and an explicit null null: the first keeps the limit, the second removes it.
          maxActiveRuns: input.maxActiveRuns,
          monthlySpendCapUsd: input.monthlySpendCapUsd,
        },
      );
    },
  }),
);

builder.queryField('myUsage', (t) =>
  t.field({
    type: UserUsageRef,
    description: 'Your own quota figures: active runs and this month\'s spend against the limits an ADMIN set.',
    resolve: (_root, _args, ctx) => userUsage(ctx.db, requireViewer(ctx).userId),
  }),
);

builder.prismaObjectField('Job', 'quotaHold', (t) =>
  t.string({
    nullable: true,
    description: "Why the job's queued runs are not being dispatched (its creator's monthly spend cap was reached); null when nothing holds them.",
    select: { createdById: true },
    resolve: (job, _args, ctx) => quotaHold(ctx.db, job.createdById),
  }),
);
