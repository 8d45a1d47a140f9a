// Exports parsed back (csv-parse, JSON.parse) and compared with the database and with jobStats.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_PAGE_SIZE, RUN_COLUMNS, TASK_COLUMNS } from '../src/exports/service.js';
import { jobStats } from '../src/stats/service.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';

let api: TestApp;
let jobId: string;
const origin = () => new URL(api.url).origin;

const TRICKY = 'AssertionError: expected "a, b" got\n"c"\r\nand a lone " quote, then ,,';
const STATUSES = ['PASSED', 'FAILED', 'ERRORED', 'CANCELLED', 'QUEUED'] as const;

beforeAll(async () => {
  api = await startTestApp();
  const { db } = api.database;
  const tasks = await Promise.all(
    ['zeta, "the last"', 'alpha', 'mid\nline'].map((name, i) =>
      db.task.create({ data: { contentHash: String(i).repeat(64), name, instruction: 'x', sizeBytes: 1n, fileCount: 1 } }),
    ),
  );
  const job = await db.job.create({ data: { name: 'export', agent: 'oracle', model: '', runsPerTask: 450 } });
  jobId = job.id;
  const at = new Date('2026-11-25T10:00:00.000Z');
  // 3 tasks × 450 repeats, more than one page of runs, every outcome, and a retried repeat.
  await db.run.createMany({
    data: tasks.flatMap((task, t) =>
      Array.from({ length: 450 }, (_, i) => {
        const status = STATUSES[(i + t) % STATUSES.length]!;
        const finished = status !== 'QUEUED';
        return {
          jobId,
          taskId: task.id,
          repeat: i + 1,
          status,
          reward: status === 'PASSED' ? 1 : status === 'FAILED' ? 0 : null,
          rewards: status === 'PASSED' ? { reward: 1 } : status === 'FAILED' ? { reward: 0 } : undefined,
          exceptionType: status === 'ERRORED' ? 'AssertionError' : null,
          exceptionMessage: status === 'ERRORED' ? TRICKY : null,
          failureKind: status === 'ERRORED' ? (i % 2 ? ('INFRASTRUCTURE' as const) : ('AGENT' as const)) : null,
          inputTokens: finished ? 1000 + i : null,
          outputTokens: finished ? 20 : null,
          costUsd: finished ? '0.012345' : null,
          agentExecutionMs: finished ? 500 + i : null,
          runnerId: finished ? 'runner-a' : null,
          deliveryCount: finished ? 1 : 0,
          startedAt: finished ? at : null,
          finishedAt: finished ? new Date(at.getTime() + 1500 + i) : null,
          // Harbor's record beyond the outcome (issue 16 item 3), on some of them.
          agentVersion: finished ? '2.0.0' : null,
          modelUsage: status === 'PASSED' ? [{ model: 'anthropic/claude-sonnet-4', inputTokens: 1000, cacheTokens: 0, outputTokens: 20, costUsd: 0.01 }] : undefined,
          agentMetadata: status === 'PASSED' ? { values: { n_episodes: 3 }, apiRequestTimes: { count: 3, medianMs: 900, p95Ms: 1200, maxMs: 1200 }, omittedKeys: [] } : undefined,
          exceptionTraceback: status === 'ERRORED' ? `Traceback (most recent call last):\n  File "trial.py", line 1\nAssertionError: ${TRICKY}` : null,
          exceptionOccurredAt: status === 'ERRORED' ? at : null,
          verifierEnvironmentMode: status === 'PASSED' ? 'shared' : null,
          stepResults:
            status === 'FAILED'
              ? [{ name: 'build', reward: 0, rewards: { reward: 0 }, exceptionType: null, exceptionMessage: null, agentExecutionMs: 5, verifierMs: 2, inputTokens: 10, outputTokens: 2, costUsd: null }]
              : undefined,
        };
      }),
    ),
  });
  const retried = await db.run.findFirstOrThrow({ where: { jobId, taskId: tasks[1]!.id, repeat: 1 } });
  // Its first attempt FAILED, a fair try: the retry is an extra attempt (jobs/attempts.ts).
  expect(retried.status).toBe('FAILED');
  await db.run.create({
    data: { jobId, taskId: retried.taskId, repeat: 1, attempt: 2, retryOfId: retried.id, status: 'PASSED', reward: 1, attemptRole: 'EXTRA' },
  });
});
afterAll(() => api?.close());

const get = (path: string) => fetch(`${origin()}${path}`);

/** What a CSV cell holds for a database value. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** The rows an export should hold: the counted attempts, or every attempt. */
async function expectedRuns(allAttempts = false) {
  const runs = await api.database.db.run.findMany({
    where: { jobId, ...(allAttempts ? {} : { attemptRole: 'COUNTED' as const }) },
    include: { task: { select: { name: true } } },
  });
  const latest = new Map<string, number>();
  for (const r of await api.database.db.run.findMany({ where: { jobId } })) latest.set(`${r.taskId}/${r.repeat}`, Math.max(latest.get(`${r.taskId}/${r.repeat}`) ?? 0, r.attempt));
  return runs
    .map((r) => ({
      id: r.id,
      jobId: r.jobId,
      taskId: r.taskId,
      taskName: r.task.name,
      repeat: r.repeat,
      attempt: r.attempt,
      latestAttempt: latest.get(`${r.taskId}/${r.repeat}`) === r.attempt,
      retryOfId: r.retryOfId,
      status: r.status,
      reward: r.reward,
      rewards: r.rewards,
      exceptionType: r.exceptionType,
      exceptionMessage: r.exceptionMessage,
      failureKind: r.failureKind,
      inputTokens: r.inputTokens,
      cacheTokens: r.cacheTokens,
      outputTokens: r.outputTokens,
      costUsd: r.costUsd === null ? null : Number(r.costUsd),
      environmentSetupMs: r.environmentSetupMs,
      agentSetupMs: r.agentSetupMs,
      agentExecutionMs: r.agentExecutionMs,
      verifierMs: r.verifierMs,
      durationMs: r.startedAt && r.finishedAt ? r.finishedAt.getTime() - r.startedAt.getTime() : null,
      runnerId: r.runnerId,
      deliveryCount: r.deliveryCount,
      createdAt: r.createdAt,
      dispatchedAt: r.dispatchedAt,
      claimedAt: r.claimedAt,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      attemptRole: r.attemptRole,
      regradeOfId: r.regradeOfId,
      regradeTaskId: r.regradeTaskId,
      rewardFlag: r.rewardFlag,
      rewardFlagDetail: r.rewardFlagDetail,
      agentVersion: r.agentVersion,
      modelUsage: r.modelUsage,
      agentMetadata: r.agentMetadata,
      exceptionTraceback: r.exceptionTraceback,
      exceptionOccurredAt: r.exceptionOccurredAt,
      verifierEnvironmentMode: r.verifierEnvironmentMode,
      stepResults: r.stepResults,
    }))
    .sort((a, b) => (a.taskName < b.taskName ? -1 : a.taskName > b.taskName ? 1 : a.taskId.localeCompare(b.taskId) || a.repeat - b.repeat || a.attempt - b.attempt));
}

describe('exports', () => {
  it('streams one run per repeat (its counted attempt) as CSV with a header row and RFC 4180 quoting, in task, repeat, attempt order', async () => {
    const response = await get(`/jobs/${jobId}/runs.csv`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="job-${jobId}-runs.csv"`);
    const text = await response.text();
    // Quoting is the library's: a field with a quote, comma or line break is quoted, quotes doubled.
    expect(text).toContain('"AssertionError: expected ""a, b"" got\n""c""\r\nand a lone "" quote, then ,,"');
    const [header, ...records] = parse(text, { relaxColumnCount: false }) as string[][];
    expect(header).toEqual([...RUN_COLUMNS]);
    const expected = await expectedRuns();
    expect(records.length).toBe(expected.length);
    expect(expected.length).toBeGreaterThan(EXPORT_PAGE_SIZE);
    expect(records).toEqual(expected.map((row) => RUN_COLUMNS.map((c) => cell(row[c]))));
    expect(records.filter((r) => r[12] === TRICKY).length).toBe(270);
    expect(records.length).toBe(3 * 450);
  });

  it('streams every attempt with ?attempts=all, each saying whether it counts', async () => {
    const rows = (await (await get(`/jobs/${jobId}/runs.json?attempts=all`)).json()) as Record<string, unknown>[];
    expect(rows).toEqual(JSON.parse(JSON.stringify(await expectedRuns(true))));
    expect(rows.length).toBe(3 * 450 + 1);
    expect(rows.filter((r) => r.attempt === 2)).toEqual([expect.objectContaining({ status: 'PASSED', attemptRole: 'EXTRA', latestAttempt: true })]);
    expect(rows.filter((r) => r.latestAttempt === false)).toEqual([expect.objectContaining({ status: 'FAILED', attemptRole: 'COUNTED', attempt: 1 })]);
    const csv = parse(await (await get(`/jobs/${jobId}/runs.csv?attempts=counted`)).text()) as string[][];
    expect(csv.length).toBe(1 + 3 * 450);
  });

  it('streams the same runs as a JSON array', async () => {
    const response = await get(`/jobs/${jobId}/runs.json`);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="job-${jobId}-runs.json"`);
    const rows = (await response.json()) as Record<string, unknown>[];
    const expected = await expectedRuns();
    expect(rows).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(Object.keys(rows[0]!)).toEqual([...RUN_COLUMNS]);
  });

  it('exports the per-task summary of the statistics, with or without infrastructure errors', async () => {
    for (const includeInfrastructure of [false, true]) {
      const stats = await jobStats(api.database.db, jobId, { includeInfrastructure });
      const names = new Map((await api.database.db.task.findMany()).map((t) => [t.id, t.name]));
      const expected = stats.tasks.map((s) => Object.fromEntries(TASK_COLUMNS.map((c) => [c, c === 'taskName' ? names.get(s.taskId) : s[c]])));
      const query = includeInfrastructure ? '?includeInfrastructure=true' : '';

      const json = await (await get(`/jobs/${jobId}/tasks.json${query}`)).json();
      expect(json).toEqual(JSON.parse(JSON.stringify(expected)));
      expect(json.map((t: any) => t.taskName)).toEqual(['alpha', 'mid\nline', 'zeta, "the last"']);

      const csv = await get(`/jobs/${jobId}/tasks.csv${query}`);
      expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="job-${jobId}-tasks.csv"`);
      const [header, ...records] = parse(await csv.text()) as string[][];
      expect(header).toEqual([...TASK_COLUMNS]);
      expect(records).toEqual(expected.map((row) => TASK_COLUMNS.map((c) => cell(row[c]))));
    }
  });

  it('gives a header row and an empty array for a job without runs', async () => {
    const empty = await api.database.db.job.create({ data: { name: 'empty', agent: 'oracle', model: '', runsPerTask: 1 } });
    expect(await (await get(`/jobs/${empty.id}/runs.csv`)).text()).toBe(`${RUN_COLUMNS.join(',')}\n`);
    expect(await (await get(`/jobs/${empty.id}/runs.json`)).json()).toEqual([]);
    expect(await (await get(`/jobs/${empty.id}/tasks.json`)).json()).toEqual([]);
  });

  it('says in words what is wrong with a request', async () => {
    const unknown = await get('/jobs/00000000-0000-4000-8000-000000000000/runs.csv');
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe('no job with id 00000000-0000-4000-8000-000000000000\n');
    const malformed = await get('/jobs/not-a-job/tasks.json');
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).toBe('the job id in the path must be a UUID, got "not-a-job"\n');
    const badSwitch = await get(`/jobs/${jobId}/tasks.csv?includeInfrastructure=yes`);
    expect(badSwitch.status).toBe(400);
    expect(await badSwitch.text()).toMatch(/includeInfrastructure must be true or false/);
    const badAttempts = await get(`/jobs/${jobId}/runs.csv?attempts=latest`);
    expect(badAttempts.status).toBe(400);
    expect(await badAttempts.text()).toBe('attempts must be counted (one run per task and repeat) or all, got "latest"\n');
  });

  it('names the downloads on the job', async () => {
    const { data } = await graphql(api.url, `query($id: ID!) { job(id: $id) { exportUrls { runsCsv runsJson tasksCsv tasksJson } } }`, { id: jobId });
    expect(data.job.exportUrls).toEqual({
      runsCsv: `/jobs/${jobId}/runs.csv`,
      runsJson: `/jobs/${jobId}/runs.json`,
      tasksCsv: `/jobs/${jobId}/tasks.csv`,
      tasksJson: `/jobs/${jobId}/tasks.json`,
    });
  });

  it('stops reading pages when the client goes away', async () => {
    const controller = new AbortController();
    const response = await fetch(`${origin()}/jobs/${jobId}/runs.csv`, { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.read().catch(() => null);
    // The server is still healthy and answers the next export in full.
    const again = await (await get(`/jobs/${jobId}/runs.json`)).json();
    expect(again.length).toBe((await expectedRuns()).length);
  });
});
