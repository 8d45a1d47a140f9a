// GraphQL for looking after jobs (issue 17 item 7): a job's name, notes and tags, its progress while
// it runs, and bulk archive, unarchive and delete of stopped jobs. Thin over names.ts, progress.ts
// and archive.ts; the jobs list's filters are in schema.ts.
import { auditRequest } from '../audit/context.js';
import { requireJobOwner } from '../auth/owners.js';
import { builder } from '../schema/builder.js';
import { ErrorInterface, InvalidInputError, NotFoundError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import { planned } from '../schema/planned.js';
import { deleteJobs, JobsActiveError, MAX_BULK_JOBS, setArchived } from './archive.js';
import { DeletedJobRef } from './mutations.js';
import { JobNameExistsError, MAX_JOB_NOTES, MAX_JOB_TAGS, MAX_TAG_LENGTH, updateJob } from './names.js';
import { jobProgress, THROUGHPUT_WINDOW_MINUTES, type JobProgress } from './progress.js';
import { JobStatusEnum } from './schema.js';

builder.objectType(JobNameExistsError, {
  name: 'JobNameExistsError',
  interfaces: [ErrorInterface],
  description: 'Another job has this name (names are unique regardless of case): choose another one.',
  isTypeOf: (value) => value instanceof JobNameExistsError,
  fields: (t) => ({
    name: t.string({ description: 'The name asked for.', resolve: (e) => e.jobName }),
    jobId: t.exposeID('jobId', { nullable: true, description: 'The job that has the name; null when a concurrent launch or rename took it a moment ago.' }),
  }),
});

const ActiveJobRef = builder.objectRef<{ id: string; name: string; status: string }>('ActiveJob').implement({
  fields: (t) => ({ id: t.exposeID('id'), name: t.exposeString('name'), status: t.field({ type: JobStatusEnum, resolve: (j) => j.status as never }) }),
});

builder.objectType(JobsActiveError, {
  name: 'JobsActiveError',
  interfaces: [ErrorInterface],
  description: 'Some of the jobs are still queued, running or cancelling: cancel them and wait until they have stopped. Nothing was changed.',
  isTypeOf: (value) => value instanceof JobsActiveError,
  fields: (t) => ({ jobs: t.field({ type: [ActiveJobRef], resolve: (e) => e.jobs }) }),
});

const EtaBasisEnum = builder.enumType('JobEtaBasis', {
  description: 'What a running job\'s ETA rests on.',
  values: {
    THROUGHPUT: { description: 'The runs finished per minute over the last few minutes.' },
    ESTIMATE: { description: 'Nothing finished yet: the mean trial time of this agent and model in earlier jobs, over the slots in use.' },
  },
});

const JobProgressRef = builder.objectRef<JobProgress>('JobProgress').implement({
  description: 'How fast a queued or running job goes and when it should be done. Every attempt counts: retries take slots too.',
  fields: (t) => ({
    throughputPerMinute: t.exposeFloat('throughputPerMinute', { description: 'Attempts finished per minute over windowMinutes.' }),
    windowMinutes: t.exposeFloat('windowMinutes', {
      description: `The last ${THROUGHPUT_WINDOW_MINUTES} minutes, or less (at least one) when the job started more recently.`,
    }),
    finishedInWindow: t.exposeInt('finishedInWindow'),
    slotsInUse: t.exposeInt('slotsInUse', { description: 'Attempts claimed or running: the runner slots the job holds now.' }),
    remainingRuns: t.exposeInt('remainingRuns', { description: 'Attempts queued, claimed or running.' }),
    etaSeconds: t.exposeFloat('etaSeconds', {
      nullable: true,
      description: 'Seconds until the remaining attempts are done: remainingRuns ÷ throughput, or by the estimate before anything finished; null when neither tells.',
    }),
    etaBasis: t.field({ type: EtaBasisEnum, nullable: true, resolve: (p) => p.etaBasis }),
  }),
});

builder.prismaObjectFields('Job', (t) => ({
  notes: t.exposeString('notes', { nullable: true, description: "Free text by the job's owner." }),
  tags: t.exposeStringList('tags', { description: 'Short lower-case tags, at most 20.' }),
  archivedAt: t.expose('archivedAt', { type: 'DateTime', nullable: true, description: 'Set while the job is archived: the jobs list leaves it out unless asked.' }),
  progress: t.field({
    type: JobProgressRef,
    nullable: true,
    description: 'Throughput, slots in use and ETA while the job is queued or running; null once it stopped. Live with jobUpdated.',
    select: { id: true },
    resolve: (job, _args, ctx) => jobProgress(ctx.db, job.id),
  }),
}));

const UpdateJobInput = builder.inputType('UpdateJobInput', {
  description: 'Unset fields stay as they are.',
  fields: (t) => ({
    name: t.string({ description: '1 to 200 characters, unique regardless of case.' }),
    notes: t.string({ description: `Free text, at most ${MAX_JOB_NOTES.toLocaleString('en')} characters; "" or null clears them.` }),
    tags: t.stringList({ description: `At most ${MAX_JOB_TAGS} tags of up to ${MAX_TAG_LENGTH} characters, single words, stored lower-case; [] clears them.` }),
  }),
});

builder.mutationField('updateJob', (t) =>
  t.prismaField({
    type: 'Job',
    description: "Renames a job and sets its notes and tags. Its creator or an ADMIN only (like cancelJob).",
    errors: { types: [NotFoundError, InvalidInputError, JobNameExistsError] },
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateJobInput, required: true }) },
    resolve: async (query, _root, { id, input }, ctx) => {
      const jobId = parseId(id, 'id');
      await requireJobOwner(ctx, jobId, 'change this job');
      // Absent and null differ for notes only: null clears them, as "" does.
      const edited = await updateJob(ctx.db, jobId, { name: input.name, notes: 'notes' in input ? (input.notes ?? null) : undefined, tags: input.tags });
      if (edited.changed.length) {
        await auditRequest(ctx, 'JOB_UPDATED', { type: 'job', id: jobId }, {
          changed: edited.changed,
          ...(edited.changed.includes('name') ? { previousName: edited.previousName, name: input.name!.trim() } : {}),
        });
        // Open pages and lists re-read the job.
        ctx.nats.publish(ctx.topology.jobUpdate(jobId), JSON.stringify({ jobId, runId: '', status: 'UPDATED' }));
      }
      return ctx.db.job.findUniqueOrThrow({ ...planned(query), where: { id: jobId } });
    },
  }),
);

function archiveField(name: 'archiveJobs' | 'unarchiveJobs', archived: boolean) {
  builder.mutationField(name, (t) =>
    t.prismaField({
      type: ['Job'],
      description: archived
        ? 'Archives stopped jobs: they leave the default jobs list (jobs(archived: true) lists them) and keep all their runs. ' +
          'All or nothing: refused with JobsActiveError naming the jobs that have not stopped, FORBIDDEN naming the ones the caller may not change.'
        : 'Brings archived jobs back to the jobs list. All or nothing, with the same refusals as archiveJobs.',
      errors: { types: [NotFoundError, InvalidInputError, JobsActiveError] },
      args: { ids: t.arg.idList({ required: true, description: `1 to ${MAX_BULK_JOBS} jobs that have stopped (completed or cancelled).` }) },
      resolve: async (query, _root, args, ctx) => {
        const ids = args.ids.map((id, i) => parseId(id, `ids.${i}`));
        const jobs = await setArchived(ctx, ids, archived);
        for (const job of jobs) {
          await auditRequest(ctx, archived ? 'JOB_ARCHIVED' : 'JOB_UNARCHIVED', { type: 'job', id: job.id }, { name: job.name, bulk: jobs.length });
          ctx.nats.publish(ctx.topology.jobUpdate(job.id), JSON.stringify({ jobId: job.id, runId: '', status: 'UPDATED' }));
        }
        const rows = await ctx.db.job.findMany({ ...planned(query), where: { id: { in: jobs.map((j) => j.id) } } });
        const byId = new Map(rows.map((r) => [r.id, r]));
        return jobs.map((j) => byId.get(j.id)!);
      },
    }),
  );
}
archiveField('archiveJobs', true);
archiveField('unarchiveJobs', false);

builder.mutationField('deleteJobs', (t) =>
  t.field({
    type: [DeletedJobRef],
    description:
      'Deletes stopped jobs as deleteJob does (runs, results, their own provider keys, trial files). All or nothing up front: refused with ' +
      'JobsActiveError naming the jobs that have not stopped, FORBIDDEN naming the ones the caller may not delete.',
    errors: { types: [NotFoundError, InvalidInputError, JobsActiveError] },
    args: { ids: t.arg.idList({ required: true, description: `1 to ${MAX_BULK_JOBS} jobs that have stopped.` }) },
    resolve: async (_root, args, ctx) => {
      const ids = args.ids.map((id, i) => parseId(id, `ids.${i}`));
      const deleted = await deleteJobs({ db: ctx.db, viewer: ctx.viewer, jobsDir: ctx.jobsDir }, ids);
      for (const job of deleted) {
        await auditRequest(ctx, 'JOB_DELETED', { type: 'job', id: job.id }, { name: job.name, runsDeleted: job.runsDeleted, bulk: deleted.length });
        ctx.nats.publish(ctx.topology.jobUpdate(job.id), JSON.stringify({ jobId: job.id, runId: '', status: 'DELETED' }));
      }
      return deleted;
    },
  }),
);
