// GraphQL for datasets: thin types over service.ts (create, versions, launches) and import.ts
// (folders and manifests on the server), plus a dataset straight from an upload.
import { auditRequest } from '../audit/context.js';
import { requireViewer } from '../auth/viewer.js';
import { DatasetSource } from '../generated/prisma/enums.js';
import type { Prisma } from '../generated/prisma/client.js';
import { builder } from '../schema/builder.js';
import { ErrorInterface, InvalidInputError, NotFoundError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import { planned } from '../schema/planned.js';
import { TaskFilterInput, UploadTasksPayloadRef } from '../tasks/schema.js';
import { uploadTasks, type UploadResult } from '../tasks/upload.js';
import { DatasetImportError, importDataset, type ImportProblem } from './import.js';
import { label, parseLabel } from './names.js';
import {
  addVersion,
  checkNaming,
  checkVersionFree,
  createDataset,
  createOrAddVersion,
  DatasetExistsError,
  DatasetVersionExistsError,
  editedVersionTasks,
  tasksByFilter,
  tasksById,
  type DraftTask,
} from './service.js';

const DatasetSourceEnum = builder.enumType(DatasetSource, {
  name: 'DatasetSource',
  description: "How a version's task list was made: UPLOAD, LIBRARY (a filter), MANUAL (picked or edited), FOLDER or MANIFEST (imported on the server).",
});

const VERSIONS_NEWEST_FIRST = [{ createdAt: 'desc' }, { id: 'desc' }] satisfies Prisma.DatasetVersionOrderByWithRelationInput[];

builder.prismaObject('Dataset', {
  description: 'A named benchmark (terminal-bench); its task lists are its versions.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name', { description: 'Unique regardless of case.' }),
    description: t.exposeString('description', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    createdBy: t.relation('createdBy', { nullable: true }),
    versions: t.relation('versions', { description: 'Newest first.', query: { orderBy: VERSIONS_NEWEST_FIRST } }),
    versionCount: t.relationCount('versions'),
    latestVersion: t.prismaField({
      type: 'DatasetVersion',
      nullable: true,
      select: { id: true },
      resolve: (query, dataset, _args, ctx) =>
        ctx.db.datasetVersion.findFirst({ ...planned(query), where: { datasetId: dataset.id }, orderBy: VERSIONS_NEWEST_FIRST }),
    }),
  }),
});

builder.prismaObject('DatasetVersion', {
  description: 'One fixed task list of a dataset (terminal-bench@2.0). It never changes; jobs launched on it point at it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    dataset: t.relation('dataset'),
    version: t.exposeString('version'),
    label: t.string({
      description: 'name@version, e.g. "terminal-bench@2.0" (as Harbor names datasets).',
      select: { version: true, dataset: { select: { name: true } } },
      resolve: (v) => label(v.dataset.name, v.version),
    }),
    description: t.exposeString('description', { nullable: true }),
    source: t.expose('source', { type: DatasetSourceEnum }),
    sourceDetail: t.exposeString('sourceDetail', {
      nullable: true,
      description: 'The folder or manifest (relative to DATASET_IMPORT_ROOT), the zips, the library filter, or the version it was edited from.',
    }),
    taskCount: t.exposeInt('taskCount'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    createdBy: t.relation('createdBy', { nullable: true }),
    tasks: t.relatedConnection('tasks', {
      cursor: 'datasetVersionId_taskId',
      defaultSize: 100,
      maxSize: 1_000,
      totalCount: true,
      description: 'Its tasks by name.',
      args: { search: t.arg.string({ description: 'Case-insensitive text in the task name.' }) },
      query: (args) => ({
        where: args.search?.trim() ? { name: { contains: args.search.trim(), mode: 'insensitive' as const } } : {},
        orderBy: [{ name: 'asc' }, { taskId: 'asc' }],
      }),
    }),
    jobs: t.relatedConnection('jobs', {
      cursor: 'id',
      defaultSize: 50,
      maxSize: 500,
      totalCount: true,
      description: 'Jobs launched on this version, newest first.',
      query: () => ({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    }),
  }),
});

builder.prismaObject('DatasetTask', {
  description: 'A task of a dataset version, under its name in the dataset.',
  fields: (t) => ({
    name: t.exposeString('name', { description: "Its folder or manifest name; the task's own name by default." }),
    task: t.relation('task'),
  }),
});

builder.prismaObjectField('Job', 'datasetVersion', (t) =>
  t.relation('datasetVersion', { nullable: true, description: 'The dataset version it was launched on; null for a launch on picked tasks.' }),
);

// ── Errors ───────────────────────────────────────────────────────────────────────────────────────

builder.objectType(DatasetExistsError, {
  name: 'DatasetExistsError',
  interfaces: [ErrorInterface],
  description: 'A dataset with this name exists (ignoring case).',
  isTypeOf: (value) => value instanceof DatasetExistsError,
  fields: (t) => ({ name: t.exposeString('datasetName', { description: 'The existing dataset, as spelled.' }), datasetId: t.exposeID('datasetId') }),
});

builder.objectType(DatasetVersionExistsError, {
  name: 'DatasetVersionExistsError',
  interfaces: [ErrorInterface],
  description: 'This dataset already has a version with this name.',
  isTypeOf: (value) => value instanceof DatasetVersionExistsError,
  fields: (t) => ({ label: t.exposeString('label'), datasetVersionId: t.exposeID('datasetVersionId') }),
});

const ImportProblemRef = builder.objectRef<ImportProblem>('DatasetImportProblem').implement({
  description: 'Why one task folder could not be imported.',
  fields: (t) => ({
    folder: t.exposeString('folder', { description: 'The task folder, relative to DATASET_IMPORT_ROOT, or the manifest task name.' }),
    code: t.exposeString('code', { description: 'An upload check code (missing_required_file, task_toml_invalid, …) or symlink, outside_root, not_found, manifest_invalid.' }),
    message: t.exposeString('message'),
    path: t.exposeString('path', { nullable: true, description: 'The file inside the folder, when known.' }),
  }),
});

builder.objectType(DatasetImportError, {
  name: 'DatasetImportError',
  interfaces: [ErrorInterface],
  description: 'Some task folders could not be imported; nothing was stored. `problems` lists every folder and why.',
  isTypeOf: (value) => value instanceof DatasetImportError,
  fields: (t) => ({
    problems: t.expose('problems', { type: [ImportProblemRef] }),
    folders: t.exposeInt('folders', { description: 'Task folders found.' }),
  }),
});

// ── Queries ──────────────────────────────────────────────────────────────────────────────────────

builder.queryField('datasets', (t) =>
  t.prismaConnection({
    type: 'Dataset',
    cursor: 'id',
    defaultSize: 50,
    maxSize: 500,
    description: 'Datasets by name.',
    args: { search: t.arg.string({ description: 'Case-insensitive text in the name or description.' }) },
    totalCount: (_p, args, ctx) => ctx.db.dataset.count({ where: datasetWhere(args.search) }),
    resolve: (query, _root, args, ctx) =>
      ctx.db.dataset.findMany({ ...planned(query), where: datasetWhere(args.search), orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
  }),
);

function datasetWhere(search: string | null | undefined): Prisma.DatasetWhereInput {
  const text = search?.trim();
  return text
    ? { OR: [{ name: { contains: text, mode: 'insensitive' } }, { description: { contains: text, mode: 'insensitive' } }] }
    : {};
}

builder.queryField('dataset', (t) =>
  t.prismaField({
    type: 'Dataset',
    nullable: true,
    description: 'One dataset, or null when there is none with this id.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => ctx.db.dataset.findUnique({ ...planned(query), where: { id: parseId(id, 'id') } }),
  }),
);

builder.queryField('datasetVersion', (t) =>
  t.prismaField({
    type: 'DatasetVersion',
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, { id }, ctx) => ctx.db.datasetVersion.findUnique({ ...planned(query), where: { id: parseId(id, 'id') } }),
  }),
);

builder.queryField('datasetVersionByLabel', (t) =>
  t.prismaField({
    type: 'DatasetVersion',
    nullable: true,
    description: 'A version by its label, "name@version" (the name ignoring case); null when there is none.',
    args: { label: t.arg.string({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const parsed = parseLabel(args.label);
      if (!parsed) return null;
      return ctx.db.datasetVersion.findFirst({
        ...planned(query),
        where: { version: parsed.version, dataset: { name: { equals: parsed.name, mode: 'insensitive' } } },
      });
    },
  }),
);

// ── Mutations ────────────────────────────────────────────────────────────────────────────────────

const CreateDatasetInput = builder.inputType('CreateDatasetInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: "1 to 100 characters: letters, digits, '.', '_', '-', starting with a letter or digit; unique ignoring case." }),
    version: t.string({ required: true, description: "1 to 50 characters: letters, digits, '.', '_', '+', '-' (e.g. 2.0)." }),
    description: t.string(),
    taskIds: t.idList({ description: 'The tasks (source MANUAL); or give taskFilter.' }),
    taskFilter: t.field({ type: TaskFilterInput, description: 'Every task this library filter matches now (source LIBRARY).' }),
  }),
});

const CreateDatasetVersionInput = builder.inputType('CreateDatasetVersionInput', {
  description: 'A new version: a full task list (taskIds or taskFilter), or an earlier version plus and minus some tasks.',
  fields: (t) => ({
    datasetId: t.id({ required: true }),
    version: t.string({ required: true }),
    description: t.string({ description: 'What changed.' }),
    taskIds: t.idList(),
    taskFilter: t.field({ type: TaskFilterInput }),
    fromVersionId: t.id({ description: 'Start from this version of the dataset …' }),
    addTaskIds: t.idList({ description: '… add these tasks …' }),
    removeTaskIds: t.idList({ description: '… and drop these.' }),
  }),
});

const ImportDatasetInput = builder.inputType('ImportDatasetInput', {
  fields: (t) => ({
    path: t.string({
      required: true,
      description:
        'Under DATASET_IMPORT_ROOT (absolute, or relative to it): a folder of task folders (FOLDER), or a Harbor registry.json-style manifest of local task paths (MANIFEST).',
    }),
    name: t.string({ required: true, description: 'The dataset: made when new, else this becomes a new version of it.' }),
    version: t.string({ required: true }),
    description: t.string({ description: "Default: the manifest entry's description." }),
  }),
});

const namedIds = (ids: readonly (string | number)[] | null | undefined, field: string) => ids?.map((id, i) => parseId(id, `${field}.${i}`)) ?? null;

const datasetErrors = [InvalidInputError, NotFoundError, DatasetExistsError, DatasetVersionExistsError];

builder.mutationField('createDataset', (t) =>
  t.prismaField({
    type: 'DatasetVersion',
    description: 'Makes a dataset and its first version from picked tasks (taskIds) or a library filter (taskFilter).',
    errors: { types: datasetErrors },
    args: { input: t.arg({ type: CreateDatasetInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const viewer = requireViewer(ctx);
      checkNaming({ name: input.name, version: input.version, description: input.description });
      const { tasks, source, detail } = await fullList(ctx.db, input);
      const made = await createDataset(ctx.db, {
        name: input.name,
        version: input.version,
        description: input.description,
        source,
        sourceDetail: detail,
        tasks,
        createdById: viewer.userId,
      });
      await auditRequest(ctx, 'DATASET_CREATED', { type: 'dataset', id: made.datasetId }, { label: label(input.name.trim(), input.version.trim()), tasks: tasks.length, source });
      return ctx.db.datasetVersion.findUniqueOrThrow({ ...planned(query), where: { id: made.datasetVersionId } });
    },
  }),
);

async function fullList(
  db: import('../db/client.js').Db,
  input: { taskIds?: readonly (string | number)[] | null; taskFilter?: { search?: string | null; category?: string | null; difficulty?: import('../generated/prisma/enums.js').Difficulty | null; tags?: string[] | null } | null },
): Promise<{ tasks: DraftTask[]; source: 'MANUAL' | 'LIBRARY'; detail: string | null }> {
  if (input.taskIds && input.taskFilter) throw new InvalidInputError('give either taskIds or taskFilter, not both', 'input.taskIds');
  if (input.taskIds) return { tasks: await tasksById(db, namedIds(input.taskIds, 'input.taskIds')!, 'input.taskIds'), source: 'MANUAL', detail: null };
  if (input.taskFilter) {
    const filter = Object.fromEntries(Object.entries(input.taskFilter).filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0)));
    return { tasks: await tasksByFilter(db, input.taskFilter, 'input.taskFilter'), source: 'LIBRARY', detail: `library filter ${JSON.stringify(filter)}` };
  }
  throw new InvalidInputError('give taskIds, or taskFilter for every task matching a library filter', 'input.taskIds');
}

builder.mutationField('createDatasetVersion', (t) =>
  t.prismaField({
    type: 'DatasetVersion',
    description:
      'Adds a version to a dataset; earlier versions stay as they are. Refused when the task list equals the latest version\'s.',
    errors: { types: datasetErrors },
    args: { input: t.arg({ type: CreateDatasetVersionInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const viewer = requireViewer(ctx);
      const datasetId = parseId(input.datasetId, 'input.datasetId');
      checkNaming({ version: input.version, description: input.description });
      let draft: { tasks: DraftTask[]; source: 'MANUAL' | 'LIBRARY'; detail: string | null };
      if (input.fromVersionId) {
        if (input.taskIds || input.taskFilter) {
          throw new InvalidInputError('give a full list (taskIds or taskFilter) or fromVersionId with addTaskIds/removeTaskIds, not both', 'input.fromVersionId');
        }
        const edited = await editedVersionTasks(ctx.db, datasetId, {
          fromVersionId: parseId(input.fromVersionId, 'input.fromVersionId'),
          addTaskIds: namedIds(input.addTaskIds, 'input.addTaskIds'),
          removeTaskIds: namedIds(input.removeTaskIds, 'input.removeTaskIds'),
        });
        const added = input.addTaskIds?.length ?? 0;
        const removed = input.removeTaskIds?.length ?? 0;
        draft = { tasks: edited.tasks, source: 'MANUAL', detail: `from ${edited.from}, ${added} added, ${removed} removed` };
      } else {
        if (input.addTaskIds?.length || input.removeTaskIds?.length) {
          throw new InvalidInputError('addTaskIds and removeTaskIds need fromVersionId, the version they change', 'input.fromVersionId');
        }
        draft = await fullList(ctx.db, input);
      }
      const made = await addVersion(ctx.db, datasetId, {
        version: input.version,
        description: input.description,
        source: draft.source,
        sourceDetail: draft.detail,
        tasks: draft.tasks,
        createdById: viewer.userId,
      });
      await auditRequest(ctx, 'DATASET_VERSION_CREATED', { type: 'dataset', id: datasetId }, { version: input.version.trim(), tasks: draft.tasks.length });
      return ctx.db.datasetVersion.findUniqueOrThrow({ ...planned(query), where: { id: made.datasetVersionId } });
    },
  }),
);

builder.mutationField('importDataset', (t) =>
  t.prismaField({
    type: 'DatasetVersion',
    description:
      "ADMIN only. Imports a folder of task folders (a terminal-bench-2 checkout) or a registry.json manifest from the server's " +
      'DATASET_IMPORT_ROOT: every task goes through the upload checks, and either all are stored with the new version or nothing is ' +
      '(DatasetImportError lists every folder and why). Makes the dataset, or adds this version to the one with this name.',
    authScopes: { roles: ['ADMIN'] },
    errors: { types: [...datasetErrors, DatasetImportError] },
    args: { input: t.arg({ type: ImportDatasetInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const viewer = requireViewer(ctx);
      const imported = await importDataset(
        { db: ctx.db, store: ctx.taskStore, limits: ctx.uploadLimits, root: ctx.datasetImportRoot, createdById: viewer.userId },
        input,
        ctx.signal,
      );
      await auditRequest(ctx, 'DATASET_IMPORTED', { type: 'dataset', id: imported.datasetId }, {
        label: label(input.name.trim(), input.version.trim()),
        path: input.path,
        tasks: imported.tasks,
        created: imported.created,
      });
      return ctx.db.datasetVersion.findUniqueOrThrow({ ...planned(query), where: { id: imported.datasetVersionId } });
    },
  }),
);

interface UploadDatasetResult {
  upload: UploadResult;
  datasetVersionId: string | null;
  problem: string | null;
}

const UploadDatasetPayloadRef = builder.objectRef<UploadDatasetResult>('UploadDatasetPayload').implement({
  fields: (t) => ({
    upload: t.expose('upload', { type: UploadTasksPayloadRef, description: 'What happened to each zip and task, as uploadTasks reports it.' }),
    datasetVersion: t.prismaField({
      type: 'DatasetVersion',
      nullable: true,
      description: 'The new version; null when a task was rejected (see `problem`).',
      resolve: (query, parent, _args, ctx) =>
        parent.datasetVersionId ? ctx.db.datasetVersion.findUnique({ ...planned(query), where: { id: parent.datasetVersionId } }) : null,
    }),
    problem: t.exposeString('problem', { nullable: true, description: 'Why no version was made, when none was.' }),
  }),
});

builder.mutationField('uploadDataset', (t) =>
  t.field({
    type: UploadDatasetPayloadRef,
    description:
      'Uploads zips (a bundle or a batch, as uploadTasks) and makes their tasks a dataset version in one step (source UPLOAD): a new ' +
      'dataset, or a new version of the one with this name. Every task must be accepted (new or already stored); when one is rejected ' +
      'the accepted ones stay in the library and no version is made.',
    errors: { types: datasetErrors },
    args: {
      files: t.arg({ type: ['Upload'], required: true }),
      name: t.arg.string({ required: true }),
      version: t.arg.string({ required: true }),
      description: t.arg.string(),
    },
    resolve: async (_root, args, ctx) => {
      const viewer = requireViewer(ctx);
      const { name, version, description } = checkNaming(args, 'input');
      if (args.files.length === 0) throw new InvalidInputError('files must hold at least one zip', 'files');
      if (args.files.length > ctx.uploadLimits.maxFiles) {
        throw new InvalidInputError(`files holds ${args.files.length} zips; at most ${ctx.uploadLimits.maxFiles} fit in one request`, 'files');
      }
      // Refused before any byte is stored: a taken version is the likeliest mistake.
      await checkVersionFree(ctx.db, name, version);
      const upload = await uploadTasks({ db: ctx.db, store: ctx.taskStore, limits: ctx.uploadLimits, uploaderId: viewer.userId }, args.files, ctx.signal);
      await auditRequest(ctx, 'TASKS_UPLOADED', null, { files: upload.files.length, created: upload.created, duplicates: upload.duplicates, rejected: upload.rejected });
      const accepted = upload.files.flatMap((f) => f.tasks).filter((t) => t.status !== 'REJECTED');
      const failed = upload.rejected + upload.rejectedFiles;
      if (failed > 0 || accepted.length === 0) {
        return {
          upload,
          datasetVersionId: null,
          problem:
            accepted.length === 0 && failed === 0
              ? 'the upload held no task'
              : `${upload.rejected} task${upload.rejected === 1 ? '' : 's'} and ${upload.rejectedFiles} file${upload.rejectedFiles === 1 ? '' : 's'} were rejected, so no version of ${label(name, version)} was made; fix them and upload again`,
        };
      }
      const tasks: DraftTask[] = [];
      for (const task of accepted) if (!tasks.some((t) => t.taskId === task.taskId)) tasks.push({ taskId: task.taskId!, name: task.name });
      const made = await createOrAddVersion(ctx.db, {
        name,
        version,
        description,
        source: 'UPLOAD',
        sourceDetail: upload.files.map((f) => f.fileName).join(', ').slice(0, 500),
        tasks,
        createdById: viewer.userId,
      });
      await auditRequest(ctx, 'DATASET_CREATED', { type: 'dataset', id: made.datasetId }, { label: label(name, version), tasks: tasks.length, source: 'UPLOAD' });
      return { upload, datasetVersionId: made.datasetVersionId, problem: null };
    },
  }),
);
