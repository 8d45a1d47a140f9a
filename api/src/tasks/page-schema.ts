// GraphQL for what the task page reads beyond the task itself: one stored file as text (the viewer),
// the zip of the package, and the task's runs across every job (attempts of different agents and
// models side by side, and any two of them compared).
import { AttemptRoleEnum, ATTEMPT_ROLE_FILTER, RunStatusEnum, runWhere } from '../runs/schema.js';
import { builder } from '../schema/builder.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import type { TaskFile } from './package/index.js';
import { MAX_FILE_TEXT_BYTES, readTaskFileText, TaskFilePathError, type TaskFileText } from './files.js';

const TaskFileTextRef = builder.objectRef<TaskFileText>('TaskFileText').implement({
  description: 'One file of a stored task, as text for reading in the browser.',
  fields: (t) => ({
    path: t.exposeString('path', { description: 'Relative to the task folder, `/`-separated.' }),
    text: t.exposeString('text', {
      nullable: true,
      description: `The file as UTF-8 text: its first ${MAX_FILE_TEXT_BYTES / 1024} KiB when truncated; null for a binary file.`,
    }),
    truncated: t.exposeBoolean('truncated', { description: 'The file is longer than the text holds: the zip has all of it.' }),
    language: t.exposeString('language', {
      description: 'What to highlight it as, from its name: toml, dockerfile, python, bash, yaml, json, markdown or plaintext.',
    }),
    size: t.exposeFloat('size', { description: 'The whole file, in bytes.' }),
    binary: t.exposeBoolean('binary', { description: 'Not text (a NUL byte near the start, or not UTF-8): not shown; download the zip.' }),
  }),
});

interface TaskRunGroup {
  agent: string;
  model: string;
  runs: number;
}

const TaskRunGroupRef = builder.objectRef<TaskRunGroup>('TaskRunGroup').implement({
  description: 'An agent × model that ran a task, and how many of its runs (every attempt) did.',
  fields: (t) => ({
    agent: t.exposeString('agent'),
    model: t.exposeString('model'),
    runs: t.exposeInt('runs'),
  }),
});

builder.prismaObjectFields('Task', (t) => ({
  fileText: t.field({
    type: TaskFileTextRef,
    description: "One of the task's files (a path of `files`), to read in the browser.",
    errors: { types: [NotFoundError, InvalidInputError] },
    args: { path: t.arg.string({ required: true }) },
    select: { contentHash: true, name: true, files: true },
    resolve: async (task, args, ctx) => {
      try {
        const file = await readTaskFileText(ctx.taskStore, { ...task, files: task.files as unknown as TaskFile[] }, args.path);
        if (!file) {
          const error = new NotFoundError('file', args.path);
          // "no file with id …" would read oddly: a file is named by its path.
          error.message = `task ${task.name} has no file ${args.path}`;
          throw error;
        }
        return file;
      } catch (error) {
        if (error instanceof TaskFilePathError) throw new InvalidInputError(error.message, 'path');
        throw error;
      }
    },
  }),
  zipUrl: t.string({
    description: "Download of the task's stored files as one zip, folder `<name>/` (same sign-in as other downloads).",
    select: { id: true },
    resolve: (task) => `/tasks/${task.id}/task.zip`,
  }),
  runGroups: t.field({
    type: [TaskRunGroupRef],
    description: 'Every agent × model that ran the task, by agent then model: the choices of the `runs` filters.',
    select: { id: true },
    resolve: async (task, _args, ctx) => {
      // Per job, then summed: a task is run by tens of jobs, not thousands.
      const jobs = await ctx.db.job.findMany({
        where: { runs: { some: { taskId: task.id } } },
        select: { agent: true, model: true, _count: { select: { runs: { where: { taskId: task.id } } } } },
      });
      const groups = new Map<string, TaskRunGroup>();
      for (const job of jobs) {
        const key = JSON.stringify([job.agent, job.model]);
        const group = groups.get(key) ?? { agent: job.agent, model: job.model, runs: 0 };
        group.runs += job._count.runs;
        groups.set(key, group);
      }
      return [...groups.values()].sort((a, b) => a.agent.localeCompare(b.agent) || a.model.localeCompare(b.model));
    },
  }),
  runs: t.relatedConnection('runs', {
    cursor: 'id',
    defaultSize: 50,
    maxSize: 500,
    totalCount: true,
    description: "The task's runs in every job, newest first: attempts of different agents and models to read side by side or compare.",
    args: {
      agent: t.arg.string({ description: "Only runs of jobs with this agent (the job's `agent`, exactly)." }),
      model: t.arg.string({ description: "Only runs of jobs with this model (the job's `model`, exactly)." }),
      status: t.arg({ type: [RunStatusEnum] }),
      attemptRole: t.arg({ type: [AttemptRoleEnum], description: ATTEMPT_ROLE_FILTER }),
    },
    query: (args) => ({
      where: {
        ...runWhere(args),
        ...(args.agent != null || args.model != null
          ? { job: { ...(args.agent != null ? { agent: args.agent } : {}), ...(args.model != null ? { model: args.model } : {}) } }
          : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    }),
  }),
}));
