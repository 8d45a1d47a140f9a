import type { RunEvent, RunResult, TestResults } from 'runner/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import type { Db } from '../db/client.js';
import { addAttempts } from '../jobs/attempts.js';
import { createJob } from '../jobs/launch.js';
import { applyEvent } from '../jobs/recorder.js';
import { failingTests, replaceTests } from './service.js';

let database: TestDatabase & { db: Db };
let db: Db;
let taskId: string;
let seq = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database?.drop());

beforeEach(async () => {
  const task = await db.task.create({
    data: { contentHash: Math.random().toString(16).slice(2).padEnd(64, '0'), name: 'tests', instruction: 'x', sizeBytes: 1n, fileCount: 1 },
  });
  taskId = task.id;
});

async function newJob(runsPerTask: number): Promise<{ jobId: string; runIds: string[] }> {
  const { id: jobId } = await createJob({ db, secretsKey: null }, { taskIds: [taskId], agent: 'oracle', runsPerTask });
  const runIds = (await db.run.findMany({ where: { jobId }, orderBy: { repeat: 'asc' } })).map((r) => r.id);
  return { jobId, runIds };
}

const tests = (cases: Array<[string, TestResults['cases'][number]['status'], string?]>, extra: Partial<TestResults> = {}): TestResults => ({
  source: 'ctrf',
  passed: cases.filter((c) => c[1] === 'PASSED').length,
  failed: cases.filter((c) => c[1] === 'FAILED').length,
  skipped: cases.filter((c) => c[1] === 'SKIPPED').length,
  total: cases.length,
  cases: cases.map(([name, status, message]) => ({ name, status, durationMs: 5, ...(message ? { message } : {}) })),
  ...extra,
});

function finished(jobId: string, runId: string, t: TestResults | undefined, status: RunResult['status'] = 'FAILED'): RunEvent {
  const result: RunResult = {
    status,
    reward: status === 'PASSED' ? 1 : 0,
    rewards: null,
    exceptionType: null,
    exceptionMessage: null,
    failureKind: null,
    inputTokens: null,
    cacheTokens: null,
    outputTokens: null,
    costUsd: null,
    environmentSetupMs: null,
    agentSetupMs: null,
    agentExecutionMs: null,
    verifierMs: null,
    trialDir: null,
    ...(t ? { tests: t } : {}),
  };
  return { v: 1, type: 'finished', runId, jobId, runnerId: 'r1', dispatch: 1, deliveryCount: 1, at: new Date().toISOString(), result };
}

const rows = (runId: string) => db.runTest.findMany({ where: { runId }, orderBy: { position: 'asc' } });

describe('recording tests with the outcome', () => {
  it('stores the cases in order and the counts, once, however often the event comes', async () => {
    const { jobId, runIds } = await newJob(1);
    const event = finished(jobId, runIds[0]!, tests([['t::a', 'PASSED'], ['t::b', 'FAILED', 'AssertionError: no\u0000pe'], ['t::c', 'SKIPPED']]));
    const s = ++seq;
    expect((await applyEvent(db, event, s)).applied).not.toBeNull();
    expect((await applyEvent(db, event, s)).applied).toBeNull();
    expect((await applyEvent(db, event, ++seq)).applied).toBeNull();
    expect(await rows(runIds[0]!)).toEqual([
      { runId: runIds[0], position: 0, name: 't::a', status: 'PASSED', durationMs: 5, message: null },
      { runId: runIds[0], position: 1, name: 't::b', status: 'FAILED', durationMs: 5, message: 'AssertionError: no\uFFFDpe' },
      { runId: runIds[0], position: 2, name: 't::c', status: 'SKIPPED', durationMs: 5, message: null },
    ]);
    expect(await db.run.findUniqueOrThrow({ where: { id: runIds[0]! } })).toMatchObject({
      testsPassed: 1,
      testsFailed: 1,
      testsTotal: 3,
      testsSource: 'CTRF',
      testsNote: null,
    });
    // Writing the same results again inside a transaction leaves the same rows.
    await db.$transaction((tx) => replaceTests(tx, runIds[0]!, event.type === 'finished' ? event.result.tests : undefined));
    expect(await rows(runIds[0]!)).toHaveLength(3);
  });

  it('records a note without tests, and nothing for a runner that sends no tests', async () => {
    const { jobId, runIds } = await newJob(2);
    const unreadable: TestResults = { source: null, passed: 0, failed: 0, skipped: 0, total: 0, cases: [], note: 'verifier/ctrf.json could not be read: it is empty' };
    await applyEvent(db, finished(jobId, runIds[0]!, unreadable), ++seq);
    await applyEvent(db, finished(jobId, runIds[1]!, undefined, 'PASSED'), ++seq);
    expect(await db.run.findUniqueOrThrow({ where: { id: runIds[0]! } })).toMatchObject({
      testsTotal: null,
      testsSource: null,
      testsNote: 'verifier/ctrf.json could not be read: it is empty',
    });
    expect(await db.run.findUniqueOrThrow({ where: { id: runIds[1]! } })).toMatchObject({ status: 'PASSED', testsTotal: null, testsNote: null });
    expect(await db.runTest.count({ where: { runId: { in: runIds } } })).toBe(0);
  });
});

describe('failingTests', () => {
  it('ranks tests by failures among the counted finished attempts, per job and across jobs', async () => {
    const { jobId, runIds } = await newJob(3);
    await applyEvent(db, finished(jobId, runIds[0]!, tests([['a', 'FAILED', 'a first'], ['b', 'PASSED']])), ++seq);
    await applyEvent(db, finished(jobId, runIds[1]!, tests([['a', 'FAILED', 'a second'], ['b', 'FAILED', 'b once'], ['c', 'SKIPPED']])), ++seq);
    await applyEvent(db, finished(jobId, runIds[2]!, tests([['a', 'PASSED'], ['b', 'PASSED']]), 'PASSED'), ++seq);

    const ranked = await failingTests(db, { jobId }, 20);
    expect(ranked).toEqual([
      { taskId, name: 'a', failures: 2, runs: 3, lastMessage: 'a second', sampleRunId: runIds[1] },
      { taskId, name: 'b', failures: 1, runs: 3, lastMessage: 'b once', sampleRunId: runIds[1] },
    ]);
    expect(await failingTests(db, { jobId }, 1)).toHaveLength(1);

    // Retries of the failed repeats are extra attempts (jobs/attempts.ts): one that passed hides no failure.
    expect(await db.$transaction((tx) => addAttempts(tx, jobId, 'FAILED'))).toBe(2);
    const retry = await db.run.findFirstOrThrow({ where: { jobId, repeat: 2, attempt: 2 } });
    expect(retry.attemptRole).toBe('EXTRA');
    await applyEvent(db, finished(jobId, retry.id, tests([['a', 'PASSED'], ['b', 'PASSED']]), 'PASSED'), ++seq);
    expect(await failingTests(db, { jobId }, 20)).toEqual(ranked);

    // Across jobs: another job's failure of b counts for the task.
    const other = await newJob(1);
    await applyEvent(db, finished(other.jobId, other.runIds[0]!, tests([['b', 'FAILED', 'b elsewhere']])), ++seq);
    expect((await failingTests(db, { taskId }, 20)).map((f) => [f.name, f.failures, f.runs, f.lastMessage])).toEqual([
      ['a', 2, 3, 'a second'],
      ['b', 2, 4, 'b elsewhere'],
    ]);
  });
});
