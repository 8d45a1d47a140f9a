// GraphQL for the task library and uploads: thin types over upload.ts and library.ts.
import { auditRequest } from '../audit/context.js';
import { Difficulty } from '../generated/prisma/enums.js';
import { requireTaskOwner } from '../auth/owners.js';
import { requireViewer } from '../auth/viewer.js';
import { builder } from '../schema/builder.js';
import { ErrorInterface, InvalidInputError, NotFoundError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import { planned } from '../schema/planned.js';
import { deleteTask, TASK_ORDERS, TaskInDatasetError, TaskInUseError, taskWhere, type TaskOrder } from './library.js';
import type { Problem, TaskFile, TaskStepSummary } from './package/index.js';
import { ConversionNoteRef, environmentOf, TaskStepRef, type ConversionNote } from './format-schema.js';
import { uploadTasks, type UploadedFile, type UploadedTask, type UploadResult, type UploadStatus } from './upload.js';

const DifficultyEnum = builder.enumType(Difficulty, { name: 'Difficulty' });

export const TaskFilterInput = builder.inputType('TaskFilterInput', {
  description: 'A library filter, as in `tasks`.',
  fields: (t) => ({
    search: t.string(),
    category: t.string(),
    difficulty: t.field({ type: DifficultyEnum }),
    tags: t.stringList(),
  }),
});

const TaskOrderEnum = builder.enumType('TaskOrder', {
  values: Object.fromEntries(Object.keys(TASK_ORDERS).map((k) => [k, { value: k }])) as Record<TaskOrder, { value: TaskOrder }>,
});

const UploadStatusEnum = builder.enumType('UploadStatus', {
  values: {
    CREATED: { description: 'Stored now.' },
    DUPLICATE: { description: 'The same content was already stored; `task` is that task.' },
    REJECTED: { description: 'Not stored; `errors` says why.' },
  } satisfies Record<UploadStatus, { description: string }>,
});

const UploadProblemRef = builder.objectRef<Problem>('UploadProblem').implement({
  description: 'Something wrong (an error) or worth knowing (a warning) about an uploaded zip or task.',
  fields: (t) => ({
    code: t.exposeString('code', { description: 'e.g. missing_required_file, task_toml_invalid, zip_bomb.' }),
    message: t.exposeString('message'),
    path: t.exposeString('path', { nullable: true, description: 'The entry inside the zip it concerns.' }),
  }),
});

const TaskFileRef = builder.objectRef<TaskFile>('TaskFile').implement({
  fields: (t) => ({
    path: t.exposeString('path', { description: 'Relative to the task folder, `/`-separated.' }),
    sizeBytes: t.int({ resolve: (f) => f.size }),
    executable: t.exposeBoolean('executable'),
  }),
});

builder.prismaObject('Task', {
  description: 'A Terminal-Bench task package, stored exactly as uploaded.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    contentHash: t.exposeString('contentHash', { description: 'SHA-256 of the file list and bytes; equal content, equal hash.' }),
    description: t.exposeString('description', { nullable: true }),
    difficulty: t.expose('difficulty', { type: DifficultyEnum }),
    category: t.exposeString('category', { nullable: true }),
    tags: t.exposeStringList('tags'),
    instruction: t.exposeString('instruction', { description: 'instruction.md, Markdown source.' }),
    agentTimeoutSec: t.exposeFloat('agentTimeoutSec', { nullable: true }),
    verifierTimeoutSec: t.exposeFloat('verifierTimeoutSec', { nullable: true }),
    buildTimeoutSec: t.exposeFloat('buildTimeoutSec', { nullable: true }),
    cpus: t.exposeFloat('cpus', { nullable: true }),
    memoryMb: t.exposeInt('memoryMb', { nullable: true }),
    storageMb: t.exposeInt('storageMb', { nullable: true }),
    dockerImage: t.exposeString('dockerImage', { nullable: true }),
    config: t.field({ type: 'JSON', description: 'task.toml as parsed.', resolve: (task) => task.metadata }),
    files: t.field({ type: [TaskFileRef], resolve: (task) => task.files as unknown as TaskFile[] }),
    fileCount: t.exposeInt('fileCount'),
    sizeBytes: t.float({ description: 'Sum of file sizes.', resolve: (task) => Number(task.sizeBytes) }),
    warnings: t.field({ type: [UploadProblemRef], resolve: (task) => task.warnings as unknown as Problem[] }),
    uploadFileName: t.exposeString('uploadFileName', { nullable: true, description: 'The zip it came from.' }),
    uploadRootPath: t.exposeString('uploadRootPath', { nullable: true, description: 'Its folder inside that zip.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was uploaded.' }),
    runCount: t.relationCount('runs'),
    os: t.string({
      description: '[environment].os: linux or windows (Windows tasks need a runner with Windows containers).',
      select: { metadata: true },
      resolve: (task) => String(environmentOf(task.metadata).os ?? 'linux').toLowerCase(),
    }),
    gpus: t.int({
      description: '[environment].gpus: GPUs the task needs (0 = none).',
      select: { metadata: true },
      resolve: (task) => Number(environmentOf(task.metadata).gpus ?? 0),
    }),
    gpuTypes: t.stringList({
      nullable: true,
      description: '[environment].gpu_types: acceptable GPU models; null = any.',
      select: { metadata: true },
      resolve: (task) => (environmentOf(task.metadata).gpu_types as string[] | undefined) ?? null,
    }),
    steps: t.field({
      type: [TaskStepRef],
      nullable: true,
      description: 'The steps of a multi-step task, in order; null for a single-step task.',
      select: { steps: true },
      resolve: (task) => task.steps as unknown as TaskStepSummary[] | null,
    }),
    multiStepRewardStrategy: t.string({
      nullable: true,
      description: "How a multi-step task's trial reward comes from its steps: mean (Harbor's default) or final; null for single-step tasks.",
      select: { steps: true, metadata: true },
      resolve: (task) =>
        task.steps === null ? null : String((task.metadata as { multi_step_reward_strategy?: unknown }).multi_step_reward_strategy ?? 'mean'),
    }),
    convertedFrom: t.exposeString('convertedFrom', {
      nullable: true,
      description: 'TB1 when the upload was a Terminal-Bench 1 task converted to this package on upload.',
    }),
    conversionNotes: t.field({
      type: [ConversionNoteRef],
      description: 'What the conversion changed and what to check by hand; empty for tasks uploaded as they are.',
      select: { conversionNotes: true },
      resolve: (task) => (task.conversionNotes as unknown as ConversionNote[] | null) ?? [],
    }),
    originalUrl: t.string({
      nullable: true,
      description: 'Download of the files as uploaded, before the conversion (same sign-in as other downloads).',
      select: { id: true, convertedFrom: true },
      resolve: (task) => (task.convertedFrom ? `/tasks/${task.id}/original.zip` : null),
    }),
  }),
});

const UploadedTaskRef = builder.objectRef<UploadedTask>('UploadedTask').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    rootPath: t.exposeString('rootPath', { description: "The task's folder inside the zip; empty when at the root." }),
    status: t.expose('status', { type: UploadStatusEnum }),
    task: t.prismaField({
      type: 'Task',
      nullable: true,
      resolve: (query, parent, _args, ctx) =>
        parent.taskId ? ctx.db.task.findUnique({ ...planned(query), where: { id: parent.taskId } }) : null,
    }),
    errors: t.expose('errors', { type: [UploadProblemRef] }),
    warnings: t.expose('warnings', { type: [UploadProblemRef] }),
  }),
});

const UploadedFileRef = builder.objectRef<UploadedFile>('UploadedFile').implement({
  fields: (t) => ({
    fileName: t.exposeString('fileName'),
    sizeBytes: t.float({ resolve: (f) => f.sizeBytes }),
    errors: t.expose('errors', {
      type: [UploadProblemRef],
      description: 'Problems with the zip as a whole; when present, none of its tasks was stored.',
    }),
    warnings: t.expose('warnings', { type: [UploadProblemRef] }),
    tasks: t.expose('tasks', { type: [UploadedTaskRef] }),
  }),
});

export const UploadTasksPayloadRef = builder.objectRef<UploadResult>('UploadTasksPayload').implement({
  fields: (t) => ({
    files: t.expose('files', { type: [UploadedFileRef], description: 'One entry per uploaded file, in order.' }),
    created: t.exposeInt('created'),
    duplicates: t.exposeInt('duplicates'),
    rejected: t.exposeInt('rejected', { description: 'Tasks found but not stored.' }),
    rejectedFiles: t.exposeInt('rejectedFiles', { description: 'Files in which no task could be read at all.' }),
  }),
});

builder.mutationField('uploadTasks', (t) =>
  t.field({
    type: UploadTasksPayloadRef,
    description:
      'Uploads Terminal-Bench task packages (zips, GraphQL multipart request). Each task is CREATED, ' +
      'DUPLICATE or REJECTED with every reason; one bad zip or task never blocks the others.',
    errors: { types: [InvalidInputError] },
    args: { files: t.arg({ type: ['Upload'], required: true }) },
    resolve: async (_root, { files }, ctx) => {
      if (files.length === 0) throw new InvalidInputError('files must hold at least one zip', 'files');
      if (files.length > ctx.uploadLimits.maxFiles) {
        throw new InvalidInputError(
          `files holds ${files.length} zips; at most ${ctx.uploadLimits.maxFiles} fit in one request, split the batch`,
          'files',
        );
      }
      const uploaderId = requireViewer(ctx).userId;
      const result = await uploadTasks({ db: ctx.db, store: ctx.taskStore, limits: ctx.uploadLimits, uploaderId }, files, ctx.signal);
      await auditRequest(ctx, 'TASKS_UPLOADED', null, {
        files: result.files.length,
        created: result.created,
        duplicates: result.duplicates,
        rejected: result.rejected,
        // The new tasks' ids, for "what did this upload bring"; bounded so one big upload cannot bloat the row.
        createdTaskIds: result.files.flatMap((f) => f.tasks.filter((t) => t.status === 'CREATED').map((t) => t.taskId!)).slice(0, 100),
      });
      return result;
    },
  }),
);

builder.queryField('task', (t) =>
  t.prismaField({
    type: 'Task',
    nullable: true,
    description: 'One task, or null when there is none with this id.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => ctx.db.task.findUnique({ ...planned(query), where: { id: parseId(id, 'id') } }),
  }),
);

builder.queryField('tasks', (t) =>
  t.prismaConnection(
    {
      type: 'Task',
      cursor: 'id',
      defaultSize: 50,
      maxSize: 500,
      description: 'The task library, filtered and paged.',
      args: {
        search: t.arg.string({ description: 'Case-insensitive text in the name, description or category.' }),
        category: t.arg.string(),
        difficulty: t.arg({ type: DifficultyEnum }),
        tags: t.arg.stringList({ description: 'Only tasks carrying every one of these tags.' }),
        orderBy: t.arg({ type: TaskOrderEnum, defaultValue: 'CREATED_AT_DESC' }),
      },
      totalCount: (_parent, args, ctx) => ctx.db.task.count({ where: taskWhere(args) }),
      resolve: (query, _root, args, ctx) =>
        ctx.db.task.findMany({ ...planned(query), where: taskWhere(args), orderBy: TASK_ORDERS[args.orderBy ?? 'CREATED_AT_DESC'] }),
    },
    { description: 'A page of tasks.' },
  ),
);

builder.objectType(TaskInUseError, {
  name: 'TaskInUseError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof TaskInUseError,
  fields: (t) => ({
    taskId: t.exposeID('taskId'),
    runCount: t.exposeInt('runCount', { description: 'Runs that refer to the task.' }),
  }),
});

builder.objectType(TaskInDatasetError, {
  name: 'TaskInDatasetError',
  interfaces: [ErrorInterface],
  description: 'The task is part of a dataset version; versions never change, so it stays while they exist.',
  isTypeOf: (value) => value instanceof TaskInDatasetError,
  fields: (t) => ({
    taskId: t.exposeID('taskId'),
    datasets: t.exposeStringList('datasets', { description: 'Labels of the versions holding it, e.g. "terminal-bench@2.0".' }),
  }),
});

const DeletedTaskRef = builder.objectRef<{ id: string; name: string }>('DeletedTask').implement({
  fields: (t) => ({ id: t.exposeID('id'), name: t.exposeString('name') }),
});

builder.mutationField('deleteTask', (t) =>
  t.field({
    type: DeletedTaskRef,
    description: 'Deletes a task and its files; refused while any run refers to it or a dataset version holds it.',
    errors: { types: [NotFoundError, TaskInUseError, TaskInDatasetError, InvalidInputError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx) => {
      const taskId = parseId(id, 'id');
      await requireTaskOwner(ctx, taskId, 'delete this task');
      const deleted = await deleteTask({ db: ctx.db, store: ctx.taskStore }, taskId);
      await auditRequest(ctx, 'TASK_DELETED', { type: 'task', id: deleted.id }, { name: deleted.name });
      return deleted;
    },
  }),
);
