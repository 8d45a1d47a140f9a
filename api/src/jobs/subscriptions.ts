// Live views of jobs and runs: each sends the current state first, then every change the
// recorder notifies, re-read with the client's selection (coalesced to one read per 200 ms).
import { builder } from '../schema/builder.js';
import { parseId } from '../schema/ids.js';
import { planned } from '../schema/planned.js';

builder.subscriptionField('jobUpdated', (t) =>
  t.prismaField({
    type: 'Job',
    nullable: true,
    description: 'The job now, then again whenever one of its runs changes. Null when it does not exist.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: (_root, { id }, ctx) => {
      const jobId = parseId(id, 'id');
      return ctx.hub.changes((n) => (n.jobId === jobId ? jobId : null), { initial: [jobId] });
    },
    resolve: (query, jobId, _args, ctx) => ctx.db.job.findUnique({ ...planned(query), where: { id: jobId } }),
  }),
);

builder.subscriptionField('runUpdated', (t) =>
  t.prismaField({
    type: 'Run',
    nullable: true,
    description: "Each run of the job whose state changed, as it is now. Read the job's runs first for the current state.",
    args: { jobId: t.arg.id({ required: true }) },
    subscribe: (_root, args, ctx) => {
      const jobId = parseId(args.jobId, 'jobId');
      return ctx.hub.changes((n) => (n.jobId === jobId && n.runId ? n.runId : null));
    },
    resolve: (query, runId, _args, ctx) => ctx.db.run.findUnique({ ...planned(query), where: { id: runId } }),
  }),
);

builder.subscriptionField('jobsUpdated', (t) =>
  t.prismaField({
    type: 'Job',
    nullable: true,
    description: 'Every job that changed (new, progressing, finished), for list views.',
    subscribe: (_root, _args, ctx) => ctx.hub.changes((n) => n.jobId),
    resolve: (query, jobId, _args, ctx) => ctx.db.job.findUnique({ ...planned(query), where: { id: jobId } }),
  }),
);
