import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { tb2Task, under, zip } from './support/task-zips.js';
import { uploadZips } from './support/upload.js';

let api: TestApp;
beforeAll(async () => {
  api = await startTestApp();
});
afterAll(() => api?.close());

/** Folders holding stored packages (everything but the upload scratch space). */
async function storedPackages(): Promise<string[]> {
  return (await readdir(api.tasksDir)).filter((n) => !n.startsWith('.')).sort();
}

async function upload(zips: { name: string; bytes: Uint8Array }[]) {
  const { status, body } = await uploadZips(api.url, zips);
  expect(status, JSON.stringify(body)).toBe(200);
  expect(body.errors).toBeUndefined();
  return body.data.uploadTasks.data;
}

describe('uploadTasks', () => {
  it('stores good tasks, rejects bad ones with every reason, and never lets one block another', async () => {
    const missing = tb2Task('broken-task');
    delete missing['tests/test.sh'];
    delete missing['instruction.md'];
    const result = await upload([
      { name: 'fix-git.zip', bytes: await zip(under('fix-git', tb2Task('fix-git', { difficulty: 'easy' }))) },
      {
        name: 'bundle.zip',
        bytes: await zip({ ...under('bundle-main/regex-log', tb2Task('regex-log')), ...under('bundle-main/broken-task', missing) }),
      },
      { name: 'notes.zip', bytes: Buffer.from('this is not a zip') },
      { name: 'old.zip', bytes: await zip(under('old-task', { 'task.yaml': 'instruction: do it\n', 'run-tests.sh': 'pytest\n' })) },
    ]);

    // old.zip is a TB1 task (task.yaml) that cannot be converted: rejected as a task, with the reason.
    expect(result).toMatchObject({ created: 2, duplicates: 0, rejected: 2, rejectedFiles: 1 });
    const [fixGit, bundle, notes, old] = result.files;
    expect(fixGit.tasks).toMatchObject([{ name: 'fix-git', rootPath: 'fix-git', status: 'CREATED', errors: [] }]);
    expect(bundle.tasks.map((t: any) => [t.name, t.status])).toEqual(
      expect.arrayContaining([
        ['regex-log', 'CREATED'],
        ['broken-task', 'REJECTED'],
      ]),
    );
    const broken = bundle.tasks.find((t: any) => t.name === 'broken-task');
    expect(broken.task).toBeNull();
    expect(broken.errors.map((e: any) => [e.code, e.path])).toEqual(
      expect.arrayContaining([
        ['missing_required_file', 'bundle-main/broken-task/instruction.md'],
        ['missing_required_file', 'bundle-main/broken-task/tests/test.sh'],
      ]),
    );
    expect(notes).toMatchObject({ tasks: [], errors: [{ code: 'zip_invalid' }] });
    expect(old.tasks).toMatchObject([{ name: 'old-task', status: 'REJECTED', errors: [{ code: 'tb1_not_convertible', path: 'old-task/Dockerfile' }] }]);
    expect(old.tasks[0].errors[0].message).toMatch(/^Terminal-Bench 1 task cannot be converted automatically: Dockerfile is missing/);

    // Stored byte for byte under TASKS_DIR/<hash>/<name>/, and nothing of the rejected task.
    const hash = fixGit.tasks[0].task.contentHash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const dir = path.join(api.tasksDir, hash, 'fix-git');
    expect(await readFile(path.join(dir, 'task.toml'), 'utf8')).toBe(tb2Task('fix-git', { difficulty: 'easy' })['task.toml']);
    expect((await stat(path.join(dir, 'tests/test.sh'))).mode & 0o777).toBe(0o755);
    expect((await stat(path.join(dir, 'instruction.md'))).mode & 0o777).toBe(0o644);
    expect(await storedPackages()).toHaveLength(2);
    expect(await readdir(path.join(api.tasksDir, '.incoming'))).toEqual([]);
    expect(await api.database.db.task.count({ where: { name: 'broken-task' } })).toBe(0);
  });

  it('recognises the same task zipped another way as a DUPLICATE of the stored one', async () => {
    const files = tb2Task('dup-check');
    const first = await upload([{ name: 'a.zip', bytes: await zip(under('dup-check', files)) }]);
    // Files at the zip root, other entry order, named from the zip: same name, same bytes.
    const reordered = Object.fromEntries(Object.entries(files).reverse());
    const second = await upload([{ name: 'dup-check.zip', bytes: await zip(reordered) }]);

    expect(first.files[0].tasks[0].status).toBe('CREATED');
    expect(second.files[0].tasks[0]).toMatchObject({ name: 'dup-check', rootPath: '', status: 'DUPLICATE' });
    expect(second.files[0].tasks[0].task.id).toBe(first.files[0].tasks[0].task.id);
    expect(await api.database.db.task.count({ where: { name: 'dup-check' } })).toBe(1);
  });

  it('gives one CREATED and one DUPLICATE for two concurrent uploads of the same task', async () => {
    const bytes = await zip(under('race-task', tb2Task('race-task')));
    const before = await storedPackages();
    const results = await Promise.all([upload([{ name: 'r1.zip', bytes }]), upload([{ name: 'r2.zip', bytes }])]);

    const statuses = results.map((r) => r.files[0].tasks[0].status).sort();
    expect(statuses).toEqual(['CREATED', 'DUPLICATE']);
    expect(new Set(results.map((r) => r.files[0].tasks[0].task.id)).size).toBe(1);
    expect(await api.database.db.task.count({ where: { name: 'race-task' } })).toBe(1);
    expect((await storedPackages()).length).toBe(before.length + 1);
  });

  it('takes 200 zips in one request', async () => {
    const zips = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => ({ name: `t${i}.zip`, bytes: await zip(under(`batch-${i}`, tb2Task(`batch-${i}`))) })),
    );
    const result = await upload(zips);
    expect(result.created).toBe(200);
    expect(result.files.every((f: any) => f.tasks.length === 1 && f.tasks[0].status === 'CREATED')).toBe(true);
  });

  it('refuses an empty list and says so with a code', async () => {
    const { body } = await uploadZips(api.url, []);
    expect(body.data.uploadTasks).toEqual({
      __typename: 'InvalidInputError',
      code: 'INVALID_INPUT',
      message: 'files must hold at least one zip',
    });
  });
});

describe('task library', () => {
  let ids: Record<string, string>;
  beforeAll(async () => {
    const specs = [
      { name: 'lib-alpha', options: { difficulty: 'easy', category: 'security', tags: ['crypto', 'cli'] } },
      { name: 'lib-beta', options: { difficulty: 'hard', category: 'security', tags: ['crypto'] } },
      { name: 'lib-gamma', options: { difficulty: 'hard', category: 'data-science', tags: ['cli'] } },
    ];
    const result = await upload(
      await Promise.all(specs.map(async (s) => ({ name: `${s.name}.zip`, bytes: await zip(under(s.name, tb2Task(s.name, s.options))) }))),
    );
    ids = Object.fromEntries(result.files.map((f: any) => [f.tasks[0].name, f.tasks[0].task.id]));
  });

  const names = async (args: string) => {
    const { data, errors } = await graphql(api.url, `{ tasks(${args}) { totalCount edges { node { name } } } }`);
    expect(errors).toBeUndefined();
    return { total: data.tasks.totalCount, names: data.tasks.edges.map((e: any) => e.node.name) };
  };

  it('filters by search, category, difficulty and tags, with a total count', async () => {
    expect(await names('search: "LIB-", orderBy: NAME_ASC')).toEqual({ total: 3, names: ['lib-alpha', 'lib-beta', 'lib-gamma'] });
    expect(await names('search: "lib-", category: "security", orderBy: NAME_DESC')).toEqual({ total: 2, names: ['lib-beta', 'lib-alpha'] });
    expect(await names('search: "lib-", difficulty: HARD, orderBy: NAME_ASC')).toEqual({ total: 2, names: ['lib-beta', 'lib-gamma'] });
    expect(await names('search: "lib-", tags: ["crypto", "cli"]')).toEqual({ total: 1, names: ['lib-alpha'] });
  });

  it('pages with cursors', async () => {
    const page = async (after?: string) => {
      const { data } = await graphql(
        api.url,
        `query($after: String) { tasks(search: "lib-", orderBy: NAME_ASC, first: 2, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }`,
        { after },
      );
      return data.tasks;
    };
    const first = await page();
    expect(first.edges.map((e: any) => e.node.name)).toEqual(['lib-alpha', 'lib-beta']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await page(first.pageInfo.endCursor);
    expect(second.edges.map((e: any) => e.node.name)).toEqual(['lib-gamma']);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect(second.totalCount).toBe(3);
  });

  it('shows one task with metadata, instruction, files, timeouts, resources and origin', async () => {
    const { data } = await graphql(
      api.url,
      `query($id: ID!) { task(id: $id) { name difficulty category tags instruction agentTimeoutSec verifierTimeoutSec
        buildTimeoutSec cpus memoryMb storageMb dockerImage fileCount sizeBytes uploadFileName uploadRootPath createdAt runCount
        config files { path sizeBytes executable } } }`,
      { id: ids['lib-alpha'] },
    );
    const files = tb2Task('lib-alpha', { difficulty: 'easy', category: 'security', tags: ['crypto', 'cli'] });
    expect(data.task).toMatchObject({
      name: 'lib-alpha',
      difficulty: 'EASY',
      category: 'security',
      tags: ['crypto', 'cli'],
      instruction: files['instruction.md'],
      agentTimeoutSec: 1800,
      verifierTimeoutSec: 900,
      buildTimeoutSec: 600,
      cpus: 2,
      memoryMb: 4096,
      storageMb: 10240,
      dockerImage: 'example/lib-alpha:20251031',
      fileCount: 6,
      uploadFileName: 'lib-alpha.zip',
      uploadRootPath: 'lib-alpha',
      runCount: 0,
    });
    expect(data.task.config.metadata.author_name).toBe('Test Author');
    expect(data.task.files).toContainEqual({ path: 'tests/test.sh', sizeBytes: Buffer.byteLength(files['tests/test.sh'] as string), executable: true });
    expect(data.task.sizeBytes).toBe(Object.values(files).reduce((n, c) => n + Buffer.byteLength(c as string), 0));
  });

  it('answers null for an unknown id and a coded error for a malformed one', async () => {
    expect((await graphql(api.url, '{ task(id: "00000000-0000-4000-8000-000000000000") { name } }')).data).toEqual({ task: null });
    const bad = await graphql(api.url, '{ task(id: "nope") { name } }');
    expect(bad.errors?.[0]).toMatchObject({ message: 'id must be a UUID, got "nope"', extensions: { code: 'INVALID_INPUT' } });
  });
});

describe('deleteTask', () => {
  const DELETE = `mutation($id: ID!) { deleteTask(id: $id) {
    __typename
    ... on MutationDeleteTaskSuccess { data { id name } }
    ... on Error { code message }
    ... on TaskInUseError { runCount }
  } }`;

  it('is refused while runs refer to the task, and removes row and files once they are gone', async () => {
    const result = await upload([{ name: 'del.zip', bytes: await zip(under('del-me', tb2Task('del-me'))) }]);
    const { id, contentHash } = result.files[0].tasks[0].task;
    const db = api.database.db;
    const job = await db.job.create({ data: { name: 'j', agent: 'oracle', model: 'none', runsPerTask: 1 } });
    await db.run.create({ data: { jobId: job.id, taskId: id, repeat: 1 } });

    const refused = await graphql(api.url, DELETE, { id });
    expect(refused.data.deleteTask).toMatchObject({ __typename: 'TaskInUseError', code: 'TASK_IN_USE', runCount: 1 });
    expect(refused.data.deleteTask.message).toMatch(/^task .* is used by 1 run;/);
    expect(await storedPackages()).toContain(contentHash);

    await db.job.delete({ where: { id: job.id } });
    const deleted = await graphql(api.url, DELETE, { id });
    expect(deleted.data.deleteTask).toEqual({ __typename: 'MutationDeleteTaskSuccess', data: { id, name: 'del-me' } });
    expect(await storedPackages()).not.toContain(contentHash);
    expect(await db.task.count({ where: { id } })).toBe(0);

    const again = await graphql(api.url, DELETE, { id });
    expect(again.data.deleteTask).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });
});
