// The trial routes and GraphQL fields against a real API (Postgres, NATS) and a trial directory
// laid out as Harbor does under JOBS_DIR.
import { randomBytes } from 'node:crypto';
import { cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seal } from 'runner/secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, startTestApp, type TestApp } from '../../test/support/app.js';
import { bearer, tokenFor } from '../../test/support/auth.js';
import { unzip } from '../../test/support/unzip.js';
import { RUN_SECRET_SELECT, trialScrubbers } from './secrets.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

const secretsKey = randomBytes(32);
let api: TestApp;
let base: string;
let taskId: string;
let jobId: string;

async function seedRun(harborTrialDir: string | null, data: { status?: 'PASSED' | 'FAILED'; reward?: number; repeat?: number; task?: string } = {}) {
  const run = await api.database.db.run.create({
    data: {
      jobId,
      taskId: data.task ?? taskId,
      repeat: data.repeat ?? 1,
      status: data.status ?? 'PASSED',
      reward: data.reward ?? 1,
      harborTrialDir,
    },
  });
  return run.id;
}

async function createTask(name: string) {
  const task = await api.database.db.task.create({
    data: { contentHash: randomBytes(32).toString('hex'), name, instruction: 'Fix it.', sizeBytes: 10n, fileCount: 1 },
  });
  return task.id;
}

/** GET with the path sent as written: fetch would resolve `..` before sending. */
function rawGet(pathname: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: pathname, method: 'GET', headers: bearer(tokenFor(base)) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

let runId: string;
const trialRel = 'run-a/fix-git__aB3dE9x';

beforeAll(async () => {
  api = await startTestApp({ secretsKey });
  base = api.url.replace(/\/graphql$/, '');
  taskId = await createTask('fix-git');
  jobId = (await api.database.db.job.create({ data: { name: 'trials', agent: 'terminus-2', model: 'openrouter/x/y', runsPerTask: 2 } })).id;
  const dir = path.join(api.jobsDir, trialRel);
  await mkdir(path.join(dir, 'agent', 'episode-0'), { recursive: true });
  await mkdir(path.join(dir, 'agent', 'episode-10'), { recursive: true });
  await mkdir(path.join(dir, 'verifier'), { recursive: true });
  await cp(path.join(fixtures, 'terminus-2'), path.join(dir, 'agent'), { recursive: true });
  await writeFile(path.join(dir, 'agent', 'recording.cast'), '{"version": 2, "width": 80, "height": 24, "timestamp": 1788357665}\n[0.5, "o", "$ "]\n');
  await writeFile(path.join(dir, 'agent', 'episode-0', 'prompt.txt'), 'You are…');
  await writeFile(path.join(dir, 'agent', 'episode-0', 'response.txt'), '{"analysis": "…"}');
  await writeFile(path.join(dir, 'agent', 'episode-10', 'response.txt'), '{}');
  await writeFile(path.join(dir, 'agent', 'terminus_2.txt'), 'log');
  await writeFile(path.join(dir, 'agent', 'page.html'), '<script>alert(1)</script>');
  await writeFile(path.join(dir, 'verifier', 'test-stdout.txt'), 'PASSED tests/test_outputs.py::test_ok\n');
  await writeFile(path.join(api.jobsDir, 'secret.txt'), 'TOP-SECRET');
  await symlink(path.join(api.jobsDir, 'secret.txt'), path.join(dir, 'agent', 'escape.txt'));
  runId = await seedRun(trialRel);
});

afterAll(async () => {
  await api?.close();
});

describe('single trial files', () => {
  it('streams a file of the trial, never as HTML', async () => {
    const ok = await fetch(`${base}/runs/${runId}/files/verifier/test-stdout.txt`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    // Host paths are replaced in every file (the length may change), so the body is sent chunked.
    expect(ok.headers.get('content-length')).toBeNull();
    expect(await ok.text()).toBe('PASSED tests/test_outputs.py::test_ok\n');
    const html = await fetch(`${base}/runs/${runId}/files/agent/page.html?download`);
    expect(html.headers.get('content-type')).toBe('application/octet-stream');
    expect(html.headers.get('content-disposition')).toBe('attachment; filename="page.html"');
    expect(html.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves the recording', async () => {
    const cast = await fetch(`${base}/runs/${runId}/recording.cast`);
    expect(cast.status).toBe(200);
    expect(cast.headers.get('content-type')).toMatch(/^application\/x-asciicast/);
    expect((await cast.text()).split('\n')[0]).toContain('"version": 2');
  });

  it('refuses traversal with 400', async () => {
    for (const bad of [
      `/runs/${runId}/files/../../secret.txt`,
      `/runs/${runId}/files/agent/%2e%2e/%2e%2e/%2e%2e/secret.txt`,
      `/runs/${runId}/files/agent%2F..%2F..%2F..%2Fsecret.txt`,
      `/runs/${runId}/files//etc/passwd`,
      `/runs/${runId}/files/agent/..%5C..%5Csecret.txt`,
      `/runs/${runId}/files/agent/escape.txt`,
      `/runs/${runId}/files/%E0%A4%A`,
    ]) {
      const res = await rawGet(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body).not.toContain('TOP-SECRET');
    }
  });

  it('answers 404 for a missing file, a directory, an unknown run and a run without a trial', async () => {
    expect((await rawGet(`/runs/${runId}/files/agent/nope.txt`)).status).toBe(404);
    expect((await rawGet(`/runs/${runId}/files/agent`)).status).toBe(404);
    expect((await rawGet(`/runs/00000000-0000-4000-8000-000000000000/recording.cast`)).status).toBe(404);
    const queued = await seedRun(null, { repeat: 9 });
    expect((await rawGet(`/runs/${queued}/recording.cast`)).status).toBe(404);
  });
});

describe('host paths', () => {
  it("are shown as $TASKS_DIR and $JOBS_DIR in served files, Harbor's config.json among them", async () => {
    const config = { trial_name: 'fix-git__aB3dE9x', task: { path: `${api.tasksDir}/${'a'.repeat(64)}/fix-git` }, trials_dir: path.join(api.jobsDir, 'run-a') };
    await writeFile(path.join(api.jobsDir, trialRel, 'config.json'), JSON.stringify(config, null, 2));
    for (const url of [`${base}/runs/${runId}/files/config.json`]) {
      const served = await (await fetch(url)).text();
      expect(served).toContain(`"path": "$TASKS_DIR/${'a'.repeat(64)}/fix-git"`);
      expect(served).toContain('"trials_dir": "$JOBS_DIR/run-a"');
      expect(served).not.toContain(api.tasksDir);
      expect(served).not.toContain(api.jobsDir);
    }
    const zipped = await unzip(Buffer.from(await (await fetch(`${base}/runs/${runId}/files.zip`)).arrayBuffer()));
    const inZip = [...zipped].find(([name]) => name.endsWith('config.json'))![1].toString();
    expect(inZip).not.toContain(api.jobsDir);
    expect(inZip).toContain('$JOBS_DIR/run-a');
  });

  it('are shown as placeholders in errors too', async () => {
    await symlink('loop.txt', path.join(api.jobsDir, trialRel, 'loop.txt'));
    const looped = await fetch(`${base}/runs/${runId}/files/loop.txt`);
    expect(looped.status).toBe(500);
    const message = await looped.text();
    expect(message).toMatch(/^reading the files failed: ELOOP.*\$JOBS_DIR\/run-a\/fix-git__aB3dE9x\/loop\.txt/);
    expect(message).not.toContain(api.jobsDir);
  });
});

describe('GraphQL', () => {
  it('reads the trajectory, the files, the agent logs and the recording link of a run', async () => {
    const { data, errors } = await graphql(
      api.url,
      `query ($id: ID!) { run(id: $id) {
        trajectory { schemaVersion agentName modelName note steps { index source message toolCalls { functionName arguments } observations { content } promptTokens costUsd }
          finalMetrics { totalCostUsd totalSteps } }
        recordingUrl files { path sizeBytes url } agentLogs { path episode url } } }`,
      { id: runId },
    );
    expect(errors).toBeUndefined();
    const run = data.run;
    expect(run.trajectory).toMatchObject({ schemaVersion: 'ATIF-v1.6', agentName: 'terminus-2', note: null, finalMetrics: { totalSteps: 6 } });
    expect(run.trajectory.steps).toHaveLength(6);
    expect(run.trajectory.steps[2].toolCalls[0]).toEqual({ functionName: 'bash_command', arguments: { keystrokes: 'cd /app && git status\n', duration: 1 } });
    expect(run.recordingUrl).toBe(`/runs/${runId}/recording.cast`);
    expect(run.files.map((f: { path: string }) => f.path)).toContain('agent/trajectory.cont-1.json');
    expect(run.files.find((f: { path: string }) => f.path === 'verifier/test-stdout.txt')).toEqual({
      path: 'verifier/test-stdout.txt',
      sizeBytes: 38,
      url: `/runs/${runId}/files/verifier/test-stdout.txt`,
    });
    expect(run.agentLogs.map((l: { path: string; episode: number | null }) => [l.path, l.episode])).toEqual([
      ['agent/terminus_2.txt', null],
      ['agent/episode-0/prompt.txt', 0],
      ['agent/episode-0/response.txt', 0],
      ['agent/episode-10/response.txt', 10],
    ]);
  });

  it('compares two attempts of the same task and refuses runs of different tasks', async () => {
    const other = path.join(api.jobsDir, 'run-b/fix-git__Zx8Yw7v/agent');
    await mkdir(other, { recursive: true });
    await writeFile(
      path.join(other, 'trajectory.json'),
      JSON.stringify({
        schema_version: 'ATIF-v1.6',
        steps: [
          { step_id: 1, source: 'user', message: 'Fix the git repository.' },
          { step_id: 2, source: 'agent', message: 'Look.', tool_calls: [{ function_name: 'bash_command', arguments: { keystrokes: 'cd /app && git status\n' } }] },
          { step_id: 3, source: 'agent', message: 'Delete it.', tool_calls: [{ function_name: 'bash_command', arguments: { keystrokes: 'rm -rf .git\n' } }] },
        ],
      }),
    );
    const b = await seedRun('run-b/fix-git__Zx8Yw7v', { status: 'FAILED', reward: 0, repeat: 2 });
    const query = `query ($a: ID!, $b: ID!) { compareRuns(a: $a, b: $b) { __typename
      ... on QueryCompareRunsSuccess { data { a { id status reward } b { id status reward }
        steps { index diverges a { index } b { index } } firstDivergence { stepIndex kind reason } trajectoryNoteA trajectoryNoteB } }
      ... on Error { code message } } }`;
    const { data, errors } = await graphql(api.url, query, { a: runId, b });
    expect(errors).toBeUndefined();
    const c = data.compareRuns.data;
    expect(c.a).toEqual({ id: runId, status: 'PASSED', reward: 1 });
    expect(c.b).toEqual({ id: b, status: 'FAILED', reward: 0 });
    expect(c.steps.map((s: { diverges: boolean }) => s.diverges)).toEqual([false, true, true]);
    expect(c.firstDivergence).toMatchObject({ stepIndex: 1, kind: 'COMMANDS' });
    expect(c.firstDivergence.reason).toContain('"rm -rf .git"');

    const otherTask = await createTask('other-task');
    const c2 = await seedRun(null, { task: otherTask });
    const refused = (await graphql(api.url, query, { a: runId, b: c2 })).data.compareRuns;
    expect(refused).toEqual({
      __typename: 'InvalidInputError',
      code: 'INVALID_INPUT',
      message: 'Run a is of task "fix-git" and run b of task "other-task": only attempts of the same task can be compared.',
    });
    const missing = (await graphql(api.url, query, { a: runId, b: '00000000-0000-4000-8000-000000000000' })).data.compareRuns;
    expect(missing.__typename).toBe('NotFoundError');
  });
});

describe("the run's provider key", () => {
  const key = `sk-or-v1-${randomBytes(16).toString('hex')}`;
  const keyed = 'run-k/fix-git__Kk1Kk1K';
  // Large enough that the key falls across the stream's 64 KiB reads, with binary bytes around it.
  const agentLog = Buffer.concat(
    Array.from({ length: 3000 }, (_, i) => Buffer.concat([Buffer.from(`line ${i} é OPENROUTER_API_KEY=${key} `), Buffer.from([0xff, 0x00, 0x0a])])),
  );
  const expected = Buffer.from(agentLog.toString('latin1').split(Buffer.from(key).toString('latin1')).join('[REDACTED]'), 'latin1');
  let keyedRun: string;

  beforeAll(async () => {
    const secret = await api.database.db.providerSecret.create({
      data: { provider: 'openrouter', envVar: 'OPENROUTER_API_KEY', ciphertext: seal(secretsKey, key, 'OPENROUTER_API_KEY'), hint: key.slice(-4) },
    });
    const job = await api.database.db.job.create({
      data: { name: 'keyed', agent: 'claude-code', model: 'anthropic/claude-sonnet-4', runsPerTask: 1, providerSecretId: secret.id },
    });
    const dir = path.join(api.jobsDir, keyed);
    await mkdir(path.join(dir, 'agent'), { recursive: true });
    await writeFile(path.join(dir, 'agent', 'claude-code.txt'), agentLog);
    await writeFile(
      path.join(dir, 'agent', 'trajectory.json'),
      JSON.stringify({ schema_version: 'ATIF-v1.6', steps: [{ step_id: 1, source: 'agent', message: `env shows OPENROUTER_API_KEY=${key}` }] }),
    );
    keyedRun = (await api.database.db.run.create({ data: { jobId: job.id, taskId, repeat: 1, status: 'RUNNING', harborTrialDir: keyed } })).id;
  });

  it('is redacted from a single file, byte for byte otherwise, sent without a length', async () => {
    const res = await fetch(`${base}/runs/${keyedRun}/files/agent/claude-code.txt`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBeNull();
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.includes(Buffer.from(key))).toBe(false);
    expect(body.equals(expected)).toBe(true);
  });

  it('is redacted from every file of the zip', async () => {
    const res = await fetch(`${base}/runs/${keyedRun}/files.zip`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="fix-git__Kk1Kk1K.zip"');
    const files = await unzip(Buffer.from(await res.arrayBuffer()));
    expect([...files.keys()].sort()).toEqual(['fix-git__Kk1Kk1K/agent/claude-code.txt', 'fix-git__Kk1Kk1K/agent/trajectory.json']);
    expect(files.get('fix-git__Kk1Kk1K/agent/claude-code.txt')!.equals(expected)).toBe(true);
    for (const [name, content] of files) expect(content.includes(Buffer.from(key)), name).toBe(false);
  });

  it('is redacted from the trajectory the API reads', async () => {
    const { data, errors } = await graphql(api.url, 'query ($id: ID!) { run(id: $id) { trajectory { note steps { message } } } }', { id: keyedRun });
    expect(errors).toBeUndefined();
    expect(data.run.trajectory).toEqual({ note: null, steps: [{ message: 'env shows OPENROUTER_API_KEY=[REDACTED]' }] });
  });

  it("covers the server's default keys too, and leaves out a key sealed with another SECRETS_KEY", async () => {
    const run = await api.database.db.run.findUniqueOrThrow({ where: { id: keyedRun }, select: RUN_SECRET_SELECT });
    const scrub = (deps: Parameters<typeof trialScrubbers>[0]) => trialScrubbers(deps)(run).scrub(`a ${key} b sk-default-0123456789`);
    expect(scrub({ secretsKey, defaultProviderKeys: ['sk-default-0123456789'] })).toBe('a [REDACTED] b [REDACTED]');
    expect(scrub({ secretsKey: randomBytes(32), defaultProviderKeys: ['sk-default-0123456789'] })).toBe(`a ${key} b [REDACTED]`);
    expect(scrub({ secretsKey: null, defaultProviderKeys: [] })).toBe(`a ${key} b sk-default-0123456789`);
  });

  it('answers 404 for the zip of an unknown run and of a run without a trial', async () => {
    expect((await rawGet('/runs/00000000-0000-4000-8000-000000000000/files.zip')).status).toBe(404);
    const queued = await seedRun(null, { repeat: 8 });
    expect((await rawGet(`/runs/${queued}/files.zip`)).body).toMatch(/has no trial directory/);
  });
});
