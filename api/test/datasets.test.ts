// Datasets end to end over GraphQL: made from picked tasks, a library filter, an upload, a folder
// and a manifest on the server; versions; conflicts; launches on a version; deletes it refuses.
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { createUserWithToken } from './support/auth.js';
import { tb2Task, under, zip, type FileTree } from './support/task-zips.js';
import { uploadZips } from './support/upload.js';

let api: TestApp;
let importRoot: string;
let outside: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  [importRoot, outside] = await Promise.all([mkdtemp(path.join(os.tmpdir(), 'thr-import-')), mkdtemp(path.join(os.tmpdir(), 'thr-outside-'))]);
  api = await startTestApp({ datasetImportRoot: importRoot });
  const tasks: Array<[string, Parameters<typeof tb2Task>[1]]> = [
    ['fix-git', { category: 'software-engineering' }],
    ['regex-log', { category: 'data-processing' }],
    ['hello-world', { category: 'software-engineering' }],
    ['cobol-modernization', { category: 'legacy' }],
  ];
  const { body } = await uploadZips(
    api.url,
    await Promise.all(tasks.map(async ([name, options]) => ({ name: `${name}.zip`, bytes: await zip(under(name, tb2Task(name, options))) }))),
  );
  for (const file of body.data.uploadTasks.data.files) ids[file.tasks[0].name] = file.tasks[0].task.id;
}, 60_000);
afterAll(async () => {
  await api?.close();
  await rm(importRoot, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

const VERSION = `id label version description source sourceDetail taskCount dataset { id name }
  tasks(first: 100) { totalCount edges { node { name task { id name } } } }`;
const RESULT = (field: string, selection = VERSION) => `__typename
  ... on ${field} { data { ${selection} } }
  ... on Error { code message }
  ${field === 'MutationImportDatasetSuccess' ? '... on DatasetImportError { folders problems { folder code message path } }' : ''}
  ... on DatasetExistsError { name datasetId }
  ... on DatasetVersionExistsError { label datasetVersionId }`;
const CREATE = `mutation($input: CreateDatasetInput!) { createDataset(input: $input) { ${RESULT('MutationCreateDatasetSuccess')} } }`;
const NEW_VERSION = `mutation($input: CreateDatasetVersionInput!) { createDatasetVersion(input: $input) { ${RESULT('MutationCreateDatasetVersionSuccess')} } }`;
const IMPORT = `mutation($input: ImportDatasetInput!) { importDataset(input: $input) { ${RESULT('MutationImportDatasetSuccess')} } }`;
const CREATE_JOB = `mutation($input: CreateJobInput!) { createJob(input: $input) {
  __typename ... on MutationCreateJobSuccess { data { id runsTotal datasetVersion { id label } } } ... on Error { code message } } }`;
const DELETE_TASK = `mutation($id: ID!) { deleteTask(id: $id) {
  __typename ... on Error { code message } ... on TaskInDatasetError { datasets } } }`;

async function create(input: Record<string, unknown>, as?: { token: string }) {
  const res = await graphql(api.url, CREATE, { input }, as);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data.createDataset;
}
const taskNames = (v: any) => v.tasks.edges.map((e: any) => e.node.name);

async function writeTask(dir: string, tree: FileTree) {
  for (const [rel, content] of Object.entries(tree)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content, { mode: rel.endsWith('.sh') ? 0o755 : 0o644 });
  }
}

describe('createDataset and versions', () => {
  it('makes a dataset from picked tasks and from a library filter, each a version with its label', async () => {
    const picked = await create({ name: 'terminal-bench', version: '2.0', description: 'TB2 sample', taskIds: [ids['fix-git'], ids['regex-log']] });
    expect(picked.__typename).toBe('MutationCreateDatasetSuccess');
    expect(picked.data).toMatchObject({ label: 'terminal-bench@2.0', source: 'MANUAL', taskCount: 2, description: 'TB2 sample' });
    expect(taskNames(picked.data)).toEqual(['fix-git', 'regex-log']);

    const filtered = await create({ name: 'swe', version: '1', taskFilter: { category: 'software-engineering' } });
    expect(filtered.data).toMatchObject({ label: 'swe@1', source: 'LIBRARY', taskCount: 2 });
    expect(filtered.data.sourceDetail).toContain('software-engineering');
    expect(taskNames(filtered.data)).toEqual(['fix-git', 'hello-world']);

    const found = await graphql(api.url, `{ datasetVersionByLabel(label: "Terminal-Bench@2.0") { id label } datasets(search: "term") { totalCount edges { node { name latestVersion { label } } } } }`);
    expect(found.data.datasetVersionByLabel).toEqual({ id: picked.data.id, label: 'terminal-bench@2.0' });
    expect(found.data.datasets).toEqual({ totalCount: 1, edges: [{ node: { name: 'terminal-bench', latestVersion: { label: 'terminal-bench@2.0' } } }] });
    const missing = await graphql(api.url, `{ datasetVersionByLabel(label: "terminal-bench@9") { id } dataset(id: "00000000-0000-4000-8000-000000000000") { id } }`);
    expect(missing.data).toEqual({ datasetVersionByLabel: null, dataset: null });
  });

  it('refuses a name that exists in any case, bad names and versions, and unknown tasks, saying which', async () => {
    const taken = await create({ name: 'TERMINAL-BENCH', version: '3.0', taskIds: [ids['fix-git']] });
    expect(taken).toMatchObject({ __typename: 'DatasetExistsError', code: 'DATASET_EXISTS', name: 'terminal-bench' });
    expect(taken.message).toMatch(/a dataset named terminal-bench exists already/);

    const badName = await create({ name: 'my dataset!', version: '1', taskIds: [ids['fix-git']] });
    expect(badName).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
    expect(badName.message).toMatch(/must start with a letter or digit and hold only letters, digits/);
    const longVersion = await create({ name: 'ok', version: 'v'.repeat(51), taskIds: [ids['fix-git']] });
    expect(longVersion.message).toBe('version must be at most 50 characters, got 51');
    const unknown = await create({ name: 'ok', version: '1', taskIds: ['00000000-0000-4000-8000-000000000000'] });
    expect(unknown.message).toBe('no task with id 00000000-0000-4000-8000-000000000000');
    const noTasks = await create({ name: 'ok', version: '1', taskFilter: { category: 'nothing-like-this' } });
    expect(noTasks.message).toBe('no task matches taskFilter');
  });

  it('adds versions from an earlier one plus and minus tasks, keeps the old ones, and refuses a taken version or an unchanged list', async () => {
    const first = (await graphql(api.url, `{ datasetVersionByLabel(label: "terminal-bench@2.0") { id dataset { id } } }`)).data.datasetVersionByLabel;
    const datasetId = first.dataset.id;
    const next = await graphql(api.url, NEW_VERSION, {
      input: { datasetId, version: '2.1', description: 'adds hello-world', fromVersionId: first.id, addTaskIds: [ids['hello-world']], removeTaskIds: [ids['regex-log']] },
    });
    expect(next.data.createDatasetVersion.data).toMatchObject({ label: 'terminal-bench@2.1', taskCount: 2, source: 'MANUAL' });
    expect(taskNames(next.data.createDatasetVersion.data)).toEqual(['fix-git', 'hello-world']);

    const dataset = await graphql(api.url, `query($id: ID!) { dataset(id: $id) { versions { version taskCount } latestVersion { version } } }`, { id: datasetId });
    expect(dataset.data.dataset).toEqual({
      versions: [
        { version: '2.1', taskCount: 2 },
        { version: '2.0', taskCount: 2 },
      ],
      latestVersion: { version: '2.1' },
    });
    const oldTasks = await graphql(api.url, `query($id: ID!) { datasetVersion(id: $id) { tasks(search: "REGEX") { totalCount edges { node { name } } } } }`, { id: first.id });
    expect(oldTasks.data.datasetVersion.tasks).toEqual({ totalCount: 1, edges: [{ node: { name: 'regex-log' } }] });

    const again = await graphql(api.url, NEW_VERSION, { input: { datasetId, version: '2.1', taskIds: [ids['cobol-modernization']] } });
    expect(again.data.createDatasetVersion).toMatchObject({ __typename: 'DatasetVersionExistsError', code: 'DATASET_VERSION_EXISTS', label: 'terminal-bench@2.1' });
    const same = await graphql(api.url, NEW_VERSION, { input: { datasetId, version: '2.2', taskIds: [ids['hello-world'], ids['fix-git']] } });
    expect(same.data.createDatasetVersion).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
    expect(same.data.createDatasetVersion.message).toMatch(/identical to the latest version, terminal-bench@2.1 \(2 tasks\)/);
  });
});

describe('importDataset from the server', () => {
  it('imports a folder of task folders (one task per sub-folder) and a registry.json manifest of local paths', async () => {
    const checkout = path.join(importRoot, 'terminal-bench-2');
    // fix-git has the uploaded content: the same task, not a second copy.
    await writeTask(path.join(checkout, 'fix-git'), tb2Task('fix-git', { category: 'software-engineering' }));
    await writeTask(path.join(checkout, 'overfull-hbox'), tb2Task('overfull-hbox', { difficulty: 'easy' }));
    await writeTask(path.join(checkout, '.git'), { HEAD: 'ref: refs/heads/main\n' });
    await writeFile(path.join(checkout, 'README.md'), '# terminal-bench-2\n');

    const folder = await graphql(api.url, IMPORT, { input: { path: 'terminal-bench-2', name: 'tb2-import', version: '2.0' } });
    expect(folder.errors).toBeUndefined();
    const version = folder.data.importDataset.data;
    expect(version).toMatchObject({ label: 'tb2-import@2.0', source: 'FOLDER', sourceDetail: 'terminal-bench-2', taskCount: 2 });
    const byName = Object.fromEntries(version.tasks.edges.map((e: any) => [e.node.name, e.node.task.id]));
    expect(Object.keys(byName)).toEqual(['fix-git', 'overfull-hbox']);
    expect(byName['fix-git']).toBe(ids['fix-git']);

    await writeFile(
      path.join(checkout, 'registry.json'),
      JSON.stringify([
        { name: 'other', version: '1.0', description: 'not this one', tasks: [{ name: 'fix-git', path: 'fix-git' }] },
        {
          name: 'tb-lite',
          version: '0.1',
          description: 'Two TB2 tasks',
          tasks: [
            { name: 'hbox', git_url: 'https://github.com/laude-institute/terminal-bench-2.git', git_commit_id: 'abc123', path: 'overfull-hbox' },
            { name: 'fix-git', path: path.join(checkout, 'fix-git') },
          ],
        },
      ]),
    );
    const manifest = await graphql(api.url, IMPORT, { input: { path: path.join(checkout, 'registry.json'), name: 'tb-lite', version: '0.1' } });
    expect(manifest.data.importDataset.data).toMatchObject({ label: 'tb-lite@0.1', source: 'MANIFEST', taskCount: 2, description: 'Two TB2 tasks' });
    expect(taskNames(manifest.data.importDataset.data)).toEqual(['fix-git', 'hbox']);

    // A manifest's bad entries are each named: a missing path, one leaving the root, two tasks under one name.
    await writeFile(
      path.join(checkout, 'broken.json'),
      JSON.stringify([
        {
          name: 'broken',
          version: '1',
          tasks: [
            { name: 'same', path: 'fix-git' },
            { name: 'same', path: 'overfull-hbox' },
            { name: 'gone', path: 'no-such-task' },
            { name: 'escape', path: '../../' },
          ],
        },
      ]),
    );
    const broken = await graphql(api.url, IMPORT, { input: { path: 'terminal-bench-2/broken.json', name: 'broken', version: '1' } });
    expect(broken.data.importDataset).toMatchObject({ __typename: 'DatasetImportError', code: 'DATASET_IMPORT_FAILED' });
    expect(broken.data.importDataset.problems.map((p: any) => [p.folder, p.code])).toEqual([
      ['escape', 'outside_root'],
      ['gone', 'not_found'],
      ['same', 'duplicate_task_name'],
      ['same', 'duplicate_task_name'],
    ]);

    // The same name again with a changed folder: a new version of that dataset.
    await writeTask(path.join(checkout, 'regex-log'), tb2Task('regex-log', { category: 'data-processing' }));
    const more = await graphql(api.url, IMPORT, { input: { path: 'terminal-bench-2', name: 'TB2-import', version: '2.1' } });
    expect(more.data.importDataset.data).toMatchObject({ label: 'tb2-import@2.1', taskCount: 3 });
    expect(more.data.importDataset.data.dataset.id).toBe(version.dataset.id);
    await rm(path.join(checkout, 'regex-log'), { recursive: true });
  });

  it('stores nothing when a folder is refused, and names every folder and why', async () => {
    const before = (await graphql(api.url, `{ tasks { totalCount } datasets { totalCount } }`)).data;
    const bad = path.join(importRoot, 'bad');
    await writeTask(path.join(bad, 'good-one'), tb2Task('good-one'));
    const broken = tb2Task('broken');
    delete broken['tests/test.sh'];
    await writeTask(path.join(bad, 'broken'), broken);
    await writeTask(path.join(bad, 'leaky'), tb2Task('leaky'));
    await writeFile(path.join(outside, 'secret.txt'), 'secret\n');
    await symlink(path.join(outside, 'secret.txt'), path.join(bad, 'leaky', 'tests', 'data.txt'));

    const res = await graphql(api.url, IMPORT, { input: { path: bad, name: 'bad', version: '1' } });
    const error = res.data.importDataset;
    expect(error).toMatchObject({ __typename: 'DatasetImportError', code: 'DATASET_IMPORT_FAILED', folders: 3 });
    expect(error.message).toMatch(/^2 of 3 task folders could not be imported, so nothing was stored/);
    expect(error.problems).toEqual([
      expect.objectContaining({ folder: 'bad/broken', code: 'missing_required_file', path: 'tests/test.sh' }),
      expect.objectContaining({ folder: 'bad/leaky', code: 'symlink', path: 'tests/data.txt' }),
    ]);
    expect(error.problems[1].message).toMatch(/is a link to .*secret\.txt, outside DATASET_IMPORT_ROOT/);
    expect((await graphql(api.url, `{ tasks { totalCount } datasets { totalCount } }`)).data).toEqual(before);
    // Nothing left behind in the store's scratch space either.
    expect(await readdir(path.join(api.tasksDir, '.incoming'))).toEqual([]);
  });

  it('refuses paths outside DATASET_IMPORT_ROOT, also through a link, and says which', async () => {
    const up = await graphql(api.url, IMPORT, { input: { path: '../', name: 'x', version: '1' } });
    expect(up.data.importDataset).toMatchObject({ code: 'INVALID_INPUT' });
    expect(up.data.importDataset.message).toBe(`../ is outside DATASET_IMPORT_ROOT (${importRoot}); only paths under it may be imported`);
    const absolute = await graphql(api.url, IMPORT, { input: { path: outside, name: 'x', version: '1' } });
    expect(absolute.data.importDataset.message).toMatch(/is outside DATASET_IMPORT_ROOT/);

    await writeTask(path.join(outside, 'elsewhere', 'sneaky'), tb2Task('sneaky'));
    await symlink(path.join(outside, 'elsewhere'), path.join(importRoot, 'escape'));
    const viaLink = await graphql(api.url, IMPORT, { input: { path: 'escape', name: 'x', version: '1' } });
    expect(viaLink.data.importDataset.message).toBe(
      `escape goes through a link to ${path.join(await import('node:fs/promises').then((f) => f.realpath(outside)), 'elsewhere')}, outside DATASET_IMPORT_ROOT (${importRoot}); only paths under it may be imported`,
    );
    const nowhere = await graphql(api.url, IMPORT, { input: { path: 'no-such-folder', name: 'x', version: '1' } });
    expect(nowhere.data.importDataset.message).toBe('no-such-folder does not exist under DATASET_IMPORT_ROOT');
  });
});

describe('roles', () => {
  it('lets only ADMINs import, MEMBERs create, and VIEWERs read', async () => {
    const member = await createUserWithToken(api.database.db, 'MEMBER', 'ds-member');
    const viewer = await createUserWithToken(api.database.db, 'VIEWER', 'ds-viewer');
    const memberImport = await graphql(api.url, IMPORT, { input: { path: 'terminal-bench-2', name: 'm', version: '1' } }, member);
    expect(memberImport.errors).toEqual([expect.objectContaining({ message: 'MEMBER may not run mutation importDataset; needs ADMIN', extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    const viewerCreate = await graphql(api.url, CREATE, { input: { name: 'v', version: '1', taskIds: [ids['fix-git']] } }, viewer);
    expect(viewerCreate.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const memberCreate = await create({ name: 'member-set', version: '1', taskIds: [ids['cobol-modernization']] }, member);
    expect(memberCreate.data.label).toBe('member-set@1');
    const read = await graphql(api.url, `{ datasets { totalCount } }`, undefined, viewer);
    expect(read.data.datasets.totalCount).toBeGreaterThan(0);
  });
});

describe('jobs on a dataset version', () => {
  it('launches on all its tasks or a subset, refuses tasks it does not hold, and lists its jobs', async () => {
    const version = (await graphql(api.url, `{ datasetVersionByLabel(label: "terminal-bench@2.0") { id } }`)).data.datasetVersionByLabel;
    const all = await graphql(api.url, CREATE_JOB, { input: { datasetVersionId: version.id, agent: 'oracle', runsPerTask: 2 } });
    expect(all.data.createJob.data).toMatchObject({ runsTotal: 4, datasetVersion: { id: version.id, label: 'terminal-bench@2.0' } });
    const subset = await graphql(api.url, CREATE_JOB, { input: { datasetVersionId: version.id, taskIds: [ids['regex-log']], agent: 'oracle', runsPerTask: 1 } });
    expect(subset.data.createJob.data).toMatchObject({ runsTotal: 1 });
    const filtered = await graphql(api.url, CREATE_JOB, { input: { datasetVersionId: version.id, taskFilter: { search: 'fix' }, agent: 'oracle', runsPerTask: 1 } });
    expect(filtered.data.createJob.data).toMatchObject({ runsTotal: 1 });

    const outsider = await graphql(api.url, CREATE_JOB, { input: { datasetVersionId: version.id, taskIds: [ids['cobol-modernization']], agent: 'oracle', runsPerTask: 1 } });
    expect(outsider.data.createJob).toMatchObject({ code: 'INVALID_INPUT', message: `terminal-bench@2.0 does not hold task ${ids['cobol-modernization']}` });
    const plain = await graphql(api.url, CREATE_JOB, { input: { taskIds: [ids['cobol-modernization']], agent: 'oracle', runsPerTask: 1 } });
    expect(plain.data.createJob.data.datasetVersion).toBeNull();

    const jobs = await graphql(api.url, `query($id: ID!) { datasetVersion(id: $id) { jobs { totalCount edges { node { id } } } } }`, { id: version.id });
    expect(jobs.data.datasetVersion.jobs.totalCount).toBe(3);
    expect(jobs.data.datasetVersion.jobs.edges.map((e: any) => e.node.id)).toEqual([filtered, subset, all].map((r) => r.data.createJob.data.id));
  });

  it('refuses to delete a task a dataset version holds, naming the datasets', async () => {
    // hello-world never ran, but swe@1 and terminal-bench@2.1 hold it.
    const refused = await graphql(api.url, DELETE_TASK, { id: ids['hello-world'] });
    expect(refused.data.deleteTask).toMatchObject({ __typename: 'TaskInDatasetError', code: 'TASK_IN_DATASET', datasets: ['swe@1', 'terminal-bench@2.1'] });
    expect(refused.data.deleteTask.message).toMatch(/is part of datasets swe@1, terminal-bench@2.1/);
  });
});

describe('uploadDataset', () => {
  it('uploads a bundle and makes its tasks a version in one step; with a rejected task it makes none', async () => {
    const send = async (name: string, version: string, tree: FileTree) => {
      const form = new FormData();
      form.append(
        'operations',
        JSON.stringify({
          query: `mutation($files: [Upload!]!, $name: String!, $version: String!) { uploadDataset(files: $files, name: $name, version: $version) {
            __typename ... on Error { code message }
            ... on MutationUploadDatasetSuccess { data { problem upload { created duplicates rejected } datasetVersion { label source sourceDetail taskCount } } } } }`,
          variables: { files: [null], name, version },
        }),
      );
      form.append('map', JSON.stringify({ 0: ['variables.files.0'] }));
      form.append('0', new Blob([(await zip(tree)) as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), 'bundle.zip');
      const response = await fetch(api.url, { method: 'POST', headers: { 'x-graphql-yoga-csrf': '1' }, body: form });
      return ((await response.json()) as any).data.uploadDataset;
    };
    const made = await send('bundle-set', '1', { ...under('b/fix-git', tb2Task('fix-git', { category: 'software-engineering' })), ...under('b/new-task', tb2Task('new-task')) });
    expect(made.data).toMatchObject({
      problem: null,
      upload: { created: 1, duplicates: 1, rejected: 0 },
      datasetVersion: { label: 'bundle-set@1', source: 'UPLOAD', sourceDetail: 'bundle.zip', taskCount: 2 },
    });
    const broken = tb2Task('broken-two');
    delete broken['instruction.md'];
    const refused = await send('bundle-set', '2', { ...under('b/broken-two', broken), ...under('b/other', tb2Task('other')) });
    expect(refused.data).toMatchObject({ datasetVersion: null, upload: { created: 1, rejected: 1 } });
    expect(refused.data.problem).toMatch(/1 task and 0 files were rejected, so no version of bundle-set@2 was made/);
    const taken = await send('bundle-set', '1', under('x', tb2Task('x')));
    expect(taken).toMatchObject({ __typename: 'DatasetVersionExistsError', code: 'DATASET_VERSION_EXISTS' });
  });
});
