// The task page's reads beyond the task: Task.fileText (the file viewer), GET /tasks/<id>/task.zip
// and Task.runs (a task's attempts across every job, filtered by agent and model).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { MAX_FILE_TEXT_BYTES } from '../src/tasks/files.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { anonymousFetch } from './support/auth.js';
import { tb2Task, under, zip } from './support/task-zips.js';
import { unzip } from './support/unzip.js';
import { uploadZips } from './support/upload.js';

let api: TestApp;
let taskId: string;
let otherTaskId: string;
const files = tb2Task('viewer-task');
// A long file that ends in a multi-byte character straddling the cap: the cut must not mangle it.
const long = `${'x'.repeat(MAX_FILE_TEXT_BYTES - 1)}é and more after the cap\n`;
files['tests/fixtures/long.txt'] = long;
files['tests/fixtures/blob.bin'] = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0, 0xff]);
files['tests/fixtures/latin1.txt'] = Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x0a]); // "café" in Latin-1: not UTF-8
files['environment/config.yaml'] = 'key: value\n';

beforeAll(async () => {
  api = await startTestApp();
  const { status, body } = await uploadZips(api.url, [
    { name: 'viewer-task.zip', bytes: await zip(under('viewer-task', files)) },
    { name: 'other-task.zip', bytes: await zip(under('other-task', tb2Task('other-task'))) },
  ]);
  expect(status, JSON.stringify(body)).toBe(200);
  const [viewer, other] = body.data.uploadTasks.data.files;
  taskId = viewer.tasks[0].task.id;
  otherTaskId = other.tasks[0].task.id;
});
afterAll(() => api?.close());

const FILE_TEXT = `query($id: ID!, $path: String!) { task(id: $id) { fileText(path: $path) {
  __typename
  ... on Error { code message }
  ... on InvalidInputError { field }
  ... on TaskFileTextSuccess { data { path text truncated language size binary } }
} } }`;

async function fileText(path: string, id = taskId) {
  const { data, errors } = await graphql(api.url, FILE_TEXT, { id, path });
  expect(errors).toBeUndefined();
  return data.task.fileText;
}

describe('Task.fileText', () => {
  it('reads each text file of the task with the language it is highlighted in', async () => {
    const expected: [string, string][] = [
      ['task.toml', 'toml'],
      ['instruction.md', 'markdown'],
      ['environment/Dockerfile', 'dockerfile'],
      ['environment/config.yaml', 'yaml'],
      ['tests/test.sh', 'bash'],
      ['tests/test_outputs.py', 'python'],
      ['solution/solve.sh', 'bash'],
    ];
    for (const [path, language] of expected) {
      const answer = await fileText(path);
      expect(answer.__typename, path).toBe('TaskFileTextSuccess');
      const text = files[path] as string;
      expect(answer.data).toEqual({ path, text, truncated: false, language, size: Buffer.byteLength(text), binary: false });
    }
  });

  it('cuts a long file at 512 KiB, on a character boundary, and says so', async () => {
    const answer = await fileText('tests/fixtures/long.txt');
    expect(answer.data).toMatchObject({ truncated: true, binary: false, language: 'plaintext', size: Buffer.byteLength(long) });
    // The é straddles the cap: held back whole rather than turned into a replacement character.
    expect(answer.data.text).toBe('x'.repeat(MAX_FILE_TEXT_BYTES - 1));
  });

  it('does not show binary files: NUL bytes, or bytes that are not UTF-8', async () => {
    for (const path of ['tests/fixtures/blob.bin', 'tests/fixtures/latin1.txt']) {
      const answer = await fileText(path);
      expect(answer.data, path).toMatchObject({ path, text: null, binary: true, truncated: false });
    }
    expect((await fileText('tests/fixtures/blob.bin')).data.size).toBe(10);
  });

  it('refuses paths that leave the task, and answers NOT_FOUND for a file it does not have', async () => {
    for (const path of ['../other-task/task.toml', 'tests/../task.toml', '/etc/passwd', './task.toml', 'tests//test.sh', 'a\\..\\b', '', 'x\0y']) {
      const answer = await fileText(path);
      expect(answer, JSON.stringify(path)).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT', field: 'path' });
    }
    // A file of another task, or one the package never had: not this task's.
    const missing = await fileText('environment/passwd');
    expect(missing).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    expect(missing.message).toBe('task viewer-task has no file environment/passwd');
    expect((await fileText('tests/fixtures/long.txt', otherTaskId)).__typename).toBe('NotFoundError');
  });
});

describe('GET /tasks/<id>/task.zip', () => {
  it("streams a zip of exactly the stored files, under the task's folder, executables kept", async () => {
    const { data } = await graphql(api.url, `query($id: ID!) { task(id: $id) { zipUrl files { path } } }`, { id: taskId });
    expect(data.task.zipUrl).toBe(`/tasks/${taskId}/task.zip`);
    const response = await fetch(new URL(data.task.zipUrl, api.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="viewer-task.zip"');
    const entries = await unzip(Buffer.from(await response.arrayBuffer()));
    expect([...entries.keys()].sort()).toEqual(Object.keys(files).map((p) => `viewer-task/${p}`).sort());
    expect(data.task.files.map((f: { path: string }) => `viewer-task/${f.path}`).sort()).toEqual([...entries.keys()].sort());
    for (const [path, content] of Object.entries(files)) {
      expect(entries.get(`viewer-task/${path}`)!.equals(Buffer.from(content)), path).toBe(true);
    }
    const modes = await zipModes(Buffer.from(await (await fetch(new URL(data.task.zipUrl, api.url))).arrayBuffer()));
    expect(modes.get('viewer-task/tests/test.sh')).toBe(0o755);
    expect(modes.get('viewer-task/solution/solve.sh')).toBe(0o755);
    expect(modes.get('viewer-task/task.toml')).toBe(0o644);
  });

  it('needs a sign-in like every download, and says what is wrong with other ids', async () => {
    const url = new URL(`/tasks/${taskId}/task.zip`, api.url);
    const anonymous = await anonymousFetch(url);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).not.toContain('PK');
    const wrong = await anonymousFetch(url, { headers: { authorization: 'Bearer thr_made-up-000000000000000000000000' } });
    expect(wrong.status).toBe(401);
    const unknown = await fetch(new URL('/tasks/00000000-0000-4000-8000-000000000000/task.zip', api.url));
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe('no task with id 00000000-0000-4000-8000-000000000000\n');
    for (const bad of ['not-a-uuid', `${taskId}%00`, `${taskId}x`]) {
      const answer = await fetch(new URL(`/tasks/${bad}/task.zip`, api.url));
      expect(answer.status, bad).toBeGreaterThanOrEqual(400);
      expect(answer.status, bad).toBeLessThan(500);
    }
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });
});

describe('Task.runs', () => {
  it("lists the task's runs in every job, newest first, filtered by agent, model and status", async () => {
    const db = api.database.db;
    const job = (name: string, agent: string, model: string) => db.job.create({ data: { name, agent, model, runsPerTask: 2 } });
    const sonnet = await job('sonnet pass', 'terminus-2', 'anthropic/claude-sonnet-4-5');
    const gpt = await job('gpt pass', 'terminus-2', 'openai/gpt-5');
    const codex = await job('codex pass', 'codex', 'openai/gpt-5');
    let at = Date.parse('2026-12-01T10:00:00Z');
    const run = (jobId: string, status: 'PASSED' | 'FAILED' | 'ERRORED', repeat: number, task = taskId) =>
      db.run.create({
        data: { jobId, taskId: task, repeat, status, reward: status === 'PASSED' ? 1 : 0, createdAt: new Date((at += 60_000)) },
      });
    const s1 = await run(sonnet.id, 'PASSED', 1);
    const s2 = await run(sonnet.id, 'FAILED', 2);
    const g1 = await run(gpt.id, 'FAILED', 1);
    const g2 = await run(gpt.id, 'ERRORED', 2);
    const c1 = await run(codex.id, 'PASSED', 1);
    await run(codex.id, 'PASSED', 1, otherTaskId);

    const RUNS = `query($id: ID!, $agent: String, $model: String, $status: [RunStatus!], $first: Int, $after: String) {
      task(id: $id) { runs(agent: $agent, model: $model, status: $status, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { id status reward job { name agent model } } }
      } } }`;
    const runs = async (args: Record<string, unknown>) => {
      const { data, errors } = await graphql(api.url, RUNS, { id: taskId, ...args });
      expect(errors).toBeUndefined();
      return data.task.runs;
    };
    const ids = (page: any) => page.edges.map((e: any) => e.node.id);

    const all = await runs({});
    expect(all.totalCount).toBe(5);
    expect(ids(all)).toEqual([c1.id, g2.id, g1.id, s2.id, s1.id]);
    expect(all.edges[0].node.job).toEqual({ name: 'codex pass', agent: 'codex', model: 'openai/gpt-5' });

    const byModel = await runs({ model: 'openai/gpt-5' });
    expect(byModel.totalCount).toBe(3);
    expect(ids(byModel)).toEqual([c1.id, g2.id, g1.id]);
    const byBoth = await runs({ agent: 'terminus-2', model: 'openai/gpt-5' });
    expect(ids(byBoth)).toEqual([g2.id, g1.id]);
    expect(byBoth.totalCount).toBe(2);
    const byAgent = await runs({ agent: 'terminus-2', status: ['FAILED'] });
    expect(ids(byAgent)).toEqual([g1.id, s2.id]);
    expect(byAgent.totalCount).toBe(2);
    expect((await runs({ agent: 'nobody' })).totalCount).toBe(0);

    // Paged: two at a time, no run skipped or repeated.
    const first = await runs({ first: 2 });
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(first.totalCount).toBe(5);
    const second = await runs({ first: 2, after: first.pageInfo.endCursor });
    const third = await runs({ first: 2, after: second.pageInfo.endCursor });
    expect([...ids(first), ...ids(second), ...ids(third)]).toEqual(ids(all));
    expect(third.pageInfo.hasNextPage).toBe(false);

    // The filters' choices: each agent × model that ran the task, with its runs.
    const groups = await graphql(api.url, `query($id: ID!) { task(id: $id) { runGroups { agent model runs } } }`, { id: taskId });
    expect(groups.data.task.runGroups).toEqual([
      { agent: 'codex', model: 'openai/gpt-5', runs: 1 },
      { agent: 'terminus-2', model: 'anthropic/claude-sonnet-4-5', runs: 2 },
      { agent: 'terminus-2', model: 'openai/gpt-5', runs: 2 },
    ]);

    // Any two of them compare, across jobs.
    const { data } = await graphql(
      api.url,
      `query($a: ID!, $b: ID!) { compareRuns(a: $a, b: $b) { __typename ... on QueryCompareRunsSuccess { data { a { id } b { id } } } } }`,
      { a: s1.id, b: g1.id },
    );
    expect(data.compareRuns).toEqual({ __typename: 'QueryCompareRunsSuccess', data: { a: { id: s1.id }, b: { id: g1.id } } });
  });
});

/** Unix permission bits of each entry (the high half of the external attributes). */
function zipModes(bytes: Buffer): Promise<Map<string, number>> {
  return new Promise((resolve, reject) =>
    yauzl.fromBuffer(bytes, { lazyEntries: true }, (error, zip) => {
      if (error) return reject(error);
      const modes = new Map<string, number>();
      zip.on('entry', (entry: yauzl.Entry) => {
        modes.set(entry.fileName, (entry.externalFileAttributes >>> 16) & 0o777);
        zip.readEntry();
      });
      zip.on('end', () => resolve(modes));
      zip.on('error', reject);
      zip.readEntry();
    }),
  );
}
