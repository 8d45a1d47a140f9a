import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import type { Db } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import { addAttempts } from '../jobs/attempts.js';
import { errorBreakdown, jobStats, NO_EXCEPTION, overview, recentModels } from './service.js';

let database: TestDatabase & { db: Db };
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
});
afterAll(() => database?.drop());

const task = (name: string) =>
  db.task.create({ data: { contentHash: randomBytes(32).toString('hex'), name, instruction: 'x', sizeBytes: 1n, fileCount: 1 } });

const job = (data: Partial<Prisma.JobUncheckedCreateInput> = {}) =>
  db.job.create({ data: { name: 'j', agent: 'terminus-2', model: 'm', runsPerTask: 3, status: 'COMPLETED', ...data } });

// Far in the past, so these runs never count as finished today in the overview.
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

type RunSeed = Omit<Prisma.RunUncheckedCreateInput, 'jobId' | 'taskId'> & { durationS?: number };
const run = (jobId: string, taskId: string, { durationS, ...data }: RunSeed) =>
  db.run.create({
    data: {
      jobId,
      taskId,
      ...(durationS === undefined ? {} : { startedAt: at(0), finishedAt: at(durationS) }),
      ...data,
    },
  });

describe('jobStats on seeded runs', () => {
  let jobId: string;
  let alphaId: string;
  let betaId: string;

  beforeAll(async () => {
    // beta is created first: rows must come back by task name, not by insertion.
    const beta = await task('beta');
    const alpha = await task('alpha');
    alphaId = alpha.id;
    betaId = beta.id;
    ({ id: jobId } = await job());

    // alpha, repeat 1: an infrastructure error, retried (attempts.ts) and passed. The retry replaces it:
    // the agent never had a fair try, so only the retry may count.
    await run(jobId, alpha.id, {
      repeat: 1, attempt: 1, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'DockerComposeError',
      costUsd: 50, inputTokens: 100_000, durationS: 100, environmentSetupMs: 99_000,
    });
    expect(await db.$transaction((tx) => addAttempts(tx, jobId, 'INFRA'))).toBe(1);
    await db.run.updateMany({
      where: { jobId, taskId: alpha.id, repeat: 1, attempt: 2, attemptRole: 'COUNTED' },
      data: {
        status: 'PASSED', reward: 1, rewards: { reward: 1, style: 1 }, costUsd: 1, inputTokens: 100, outputTokens: 10, cacheTokens: 5,
        startedAt: at(0), finishedAt: at(10), environmentSetupMs: 1000, agentSetupMs: 2000, agentExecutionMs: 5000, verifierMs: 2000,
      },
    });
    // Passed after an agent timeout: the exception is kept, the pass stands.
    await run(jobId, alpha.id, {
      repeat: 2, status: 'PASSED', reward: 1, rewards: { reward: 1, style: 0.5 }, exceptionType: 'AgentTimeoutError',
      exceptionMessage: 'Agent execution timed out after 900.0 seconds', costUsd: 2, inputTokens: 200, outputTokens: 20, durationS: 20,
      environmentSetupMs: 3000, agentSetupMs: 2000, agentExecutionMs: 12000, verifierMs: 3000,
    });
    await run(jobId, alpha.id, {
      repeat: 3, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'EnvironmentStartTimeoutError',
      exceptionMessage: 'docker pull timed out', durationS: 30, environmentSetupMs: 30000,
    });
    await run(jobId, beta.id, {
      repeat: 1, status: 'FAILED', reward: 0, rewards: { reward: 0 }, costUsd: 3, inputTokens: 300, outputTokens: 30, durationS: 40,
      environmentSetupMs: 1000, agentSetupMs: 1000, agentExecutionMs: 30000, verifierMs: 8000,
    });
    await run(jobId, beta.id, {
      repeat: 2, status: 'ERRORED', failureKind: 'AGENT', exceptionType: 'ContextLengthExceededError', exceptionMessage: 'too long',
      costUsd: 4, inputTokens: 400, outputTokens: 40, durationS: 50, environmentSetupMs: 1000, agentSetupMs: 1000, agentExecutionMs: 48000,
    });
    await run(jobId, beta.id, { repeat: 3, status: 'CANCELLED', exceptionType: 'CancelledError', costUsd: 0.5, durationS: 5 });
  });

  it('counts the counted attempts and leaves infrastructure errors out of the pass rate by default', async () => {
    const { job: s } = await jobStats(db, jobId);
    expect(s).toMatchObject({
      runs: 6, passed: 2, failed: 1, errored: 2, erroredAgent: 1, erroredInfrastructure: 1, cancelled: 1, unfinished: 0,
      scored: 4, includesInfrastructure: false, passRate: 0.5,
      // Scored: alpha 1 (retry), alpha 2, beta 1, beta 2 (errored, counts 0).
      meanReward: 0.5,
      // style: (1 + 0.5 + missing 0 + errored 0) / 4.
      meanRewardByKey: { reward: 0.5, style: 0.375 },
      // Scored durations 10, 20, 40, 50 s: p50 halfway between 20 and 40; p95 at rank 2.85 = 40 + 0.85 × 10.
      durationP50Ms: 30_000,
      durationP95Ms: 48_500,
      // Tokens and cost cover every counted attempt (the cancelled one too), never the replaced one.
      inputTokens: 1000, outputTokens: 100, cacheTokens: 5, costUsd: 10.5, costPerPass: 5.25,
      // alpha n=2 c=2 → 1, 1; beta n=2 c=0 → 0, 0.
      passAtK: [{ k: 1, value: 0.5 }, { k: 2, value: 0.5 }],
      // No extra attempts: best of 1 is the pass rate itself.
      extraAttempts: 0, bestOf: 1, bestOfPassed: 2, bestOfPassRate: 0.5,
    });
    // Wilson 2 of 4: centre (0.5 + 0.4802) / 1.9604 = 0.5, half-width 1.96 √0.122525 / 1.9604.
    expect(s.passRateLow).toBeCloseTo(0.150034, 5);
    expect(s.passRateHigh).toBeCloseTo(0.849966, 5);
    expect(s.phaseDurations).toEqual([
      { phase: 'environment_setup', p50Ms: 1000, p95Ms: expect.closeTo(2700, 6) }, // 1000 1000 1000 3000
      { phase: 'agent_setup', p50Ms: 1500, p95Ms: 2000 }, // 1000 1000 2000 2000
      { phase: 'agent_execution', p50Ms: 21_000, p95Ms: expect.closeTo(45_300, 6) }, // 5000 12000 30000 48000
      { phase: 'verifier', p50Ms: 3000, p95Ms: 7500 }, // 2000 3000 8000 (beta 2 has none)
    ]);
  });

  it('counts infrastructure errors as failures when asked', async () => {
    const { job: s, tasks } = await jobStats(db, jobId, { includeInfrastructure: true });
    expect(s).toMatchObject({ scored: 5, includesInfrastructure: true, passRate: 0.4, meanReward: 0.4 });
    // style: (1 + 0.5 + 0 + 0 + 0) / 5.
    expect(s.meanRewardByKey).toEqual({ reward: 0.4, style: 0.3 });
    expect(s.passRateLow).toBeCloseTo(0.117618, 5);
    expect(s.passRateHigh).toBeCloseTo(0.76928, 5);
    // Durations 10 20 30 40 50 s: p95 at rank 3.8.
    expect([s.durationP50Ms, s.durationP95Ms]).toEqual([30_000, 48_000]);
    // alpha n=3 c=2: pass@1 = 2/3, pass@2 = 1; beta 0, 0; the mean stops at k = 2.
    expect(s.passAtK).toEqual([{ k: 1, value: expect.closeTo(1 / 3, 12) }, { k: 2, value: 0.5 }]);
    expect(tasks[0]!.passAtK).toEqual([{ k: 1, value: expect.closeTo(2 / 3, 12) }, { k: 2, value: 1 }, { k: 3, value: 1 }]);
  });

  it('gives one row per task, by task name, with its own pass@k curve', async () => {
    const { tasks } = await jobStats(db, jobId);
    expect(tasks.map((t) => t.taskId)).toEqual([alphaId, betaId]);
    const [alpha, beta] = tasks;
    expect(alpha).toMatchObject({
      runs: 3, passed: 2, errored: 1, erroredInfrastructure: 1, scored: 2, passRate: 1, passRateHigh: 1,
      meanReward: 1, meanRewardByKey: { reward: 1, style: 0.75 }, costUsd: 3, inputTokens: 300, costPerPass: 1.5,
      passAtK: [{ k: 1, value: 1 }, { k: 2, value: 1 }],
    });
    // Wilson 2 of 2: 1 − z²/n ÷ (1 + z²/n) = 1 − 1.9208 / 2.9208.
    expect(alpha!.passRateLow).toBeCloseTo(0.342372, 5);
    expect(beta).toMatchObject({
      runs: 3, failed: 1, errored: 1, erroredAgent: 1, cancelled: 1, scored: 2, passRate: 0, passRateLow: 0,
      meanReward: 0, costUsd: 7.5, costPerPass: null, passAtK: [{ k: 1, value: 0 }, { k: 2, value: 0 }],
    });
    // beta's rewards have one key only.
    expect(beta!.meanRewardByKey).toBeNull();
  });

  it('breaks errors down by type and blame over the counted attempts, cancellations left out', async () => {
    expect(await errorBreakdown(db, jobId)).toEqual([
      { exceptionType: 'AgentTimeoutError', failureKind: null, count: 1, sampleMessage: 'Agent execution timed out after 900.0 seconds', sampleRunId: expect.any(String) },
      { exceptionType: 'ContextLengthExceededError', failureKind: 'AGENT', count: 1, sampleMessage: 'too long', sampleRunId: expect.any(String) },
      { exceptionType: 'EnvironmentStartTimeoutError', failureKind: 'INFRASTRUCTURE', count: 1, sampleMessage: 'docker pull timed out', sampleRunId: expect.any(String) },
    ]);
  });

  it('when every run errored on the infrastructure: nothing scored, no pass rate, no pass@k', async () => {
    const t = await task('flaky-sandbox');
    const { id } = await job();
    await run(id, t.id, { repeat: 1, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'ApiRateLimitError', exceptionMessage: 'older', durationS: 1 });
    const latest = await run(id, t.id, { repeat: 2, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'ApiRateLimitError', exceptionMessage: 'newer', durationS: 2 });
    await run(id, t.id, { repeat: 3, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionMessage: 'no reward, no exception', durationS: 3 });

    const { job: s, tasks } = await jobStats(db, id);
    expect(s).toMatchObject({
      runs: 3, errored: 3, erroredInfrastructure: 3, scored: 0, passRate: null, passRateLow: null, passRateHigh: null,
      meanReward: null, meanRewardByKey: null, durationP50Ms: null, durationP95Ms: null, phaseDurations: [], costPerPass: null, passAtK: [],
    });
    expect(tasks[0]).toMatchObject({ scored: 0, passRate: null, passAtK: [] });
    expect((await jobStats(db, id, { includeInfrastructure: true })).job).toMatchObject({
      scored: 3, passRate: 0, passRateLow: 0, meanReward: 0, passAtK: [{ k: 1, value: 0 }, { k: 2, value: 0 }, { k: 3, value: 0 }],
    });
    expect(await errorBreakdown(db, id)).toEqual([
      { exceptionType: 'ApiRateLimitError', failureKind: 'INFRASTRUCTURE', count: 2, sampleMessage: 'newer', sampleRunId: latest.id },
      { exceptionType: NO_EXCEPTION, failureKind: 'INFRASTRUCTURE', count: 1, sampleMessage: 'no reward, no exception', sampleRunId: expect.any(String) },
    ]);
  });

  it('a single attempt per task, still running or done', async () => {
    const t = await task('once');
    const { id } = await job({ runsPerTask: 1 });
    await run(id, t.id, { repeat: 1, status: 'PASSED', reward: 1, rewards: { reward: 1 } });
    expect((await jobStats(db, id)).job).toMatchObject({ runs: 1, scored: 1, passRate: 1, passAtK: [{ k: 1, value: 1 }], durationP50Ms: null });
    await db.run.updateMany({ where: { jobId: id }, data: { status: 'RUNNING', reward: null, rewards: undefined } });
    expect((await jobStats(db, id)).job).toMatchObject({ runs: 1, unfinished: 1, scored: 0, passRate: null, passAtK: [] });
  });

  it('a job without runs has zero counts and no tasks', async () => {
    const { id } = await job();
    const stats = await jobStats(db, id);
    expect(stats.tasks).toEqual([]);
    expect(stats.job).toMatchObject({ runs: 0, scored: 0, passRate: null, inputTokens: 0, costUsd: 0, phaseDurations: [], passAtK: [] });
  });
});

describe('overview and models, on a database of their own', () => {
  let own: TestDatabase & { db: Db };
  beforeAll(async () => {
    own = await createTestDatabase();
  });
  afterAll(() => own?.drop());

  it('counts live runs, today since midnight UTC, active jobs and published queued runs', async () => {
    const d = own.db;
    const t = await d.task.create({ data: { contentHash: randomBytes(32).toString('hex'), name: 't', instruction: 'x', sizeBytes: 1n, fileCount: 1 } });
    const mk = (status: Prisma.JobCreateInput['status']) => d.job.create({ data: { name: 'j', agent: 'a', model: '', runsPerTask: 9, status } });
    const active = await mk('RUNNING');
    await mk('QUEUED');
    await mk('CANCELLING');
    await mk('COMPLETED');
    await mk('CANCELLED');
    const now = new Date();
    const beforeMidnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - 1);
    let repeat = 0;
    const r = (data: Partial<Prisma.RunUncheckedCreateInput>) => d.run.create({ data: { jobId: active.id, taskId: t.id, repeat: ++repeat, ...data } });
    await r({ status: 'QUEUED' });
    await r({ status: 'QUEUED', dispatchedAt: now });
    await r({ status: 'QUEUED', dispatchedAt: now });
    await r({ status: 'CLAIMED', dispatchedAt: now });
    await r({ status: 'RUNNING', dispatchedAt: now });
    await r({ status: 'PASSED', finishedAt: now });
    await r({ status: 'FAILED', finishedAt: now });
    await r({ status: 'PASSED', finishedAt: beforeMidnight });

    expect(await overview(d)).toEqual({ runsQueued: 3, runsRunning: 2, runsFinishedToday: 2, runsPassedToday: 1, jobsActive: 3, queueDepth: 2 });
  });

  it('suggests models most recently used first, each once, searched literally', async () => {
    const d = own.db;
    const used = async (model: string, minutesAgo: number) =>
      d.job.create({ data: { name: 'j', agent: 'a', model, runsPerTask: 1, status: 'COMPLETED', createdAt: new Date(Date.now() - minutesAgo * 60_000) } });
    await d.job.deleteMany();
    await used('openrouter/anthropic/claude-sonnet-4', 50);
    await used('openai/gpt-5', 40);
    await used('openrouter/anthropic/claude-sonnet-4', 30);
    await used('', 20); // oracle: no model
    await used('lab/model_100%', 10);

    expect(await recentModels(d)).toEqual(['lab/model_100%', 'openrouter/anthropic/claude-sonnet-4', 'openai/gpt-5']);
    expect(await recentModels(d, { first: 2 })).toEqual(['lab/model_100%', 'openrouter/anthropic/claude-sonnet-4']);
    expect(await recentModels(d, { search: 'ANTHROPIC' })).toEqual(['openrouter/anthropic/claude-sonnet-4']);
    // `_` and `%` are plain characters, not wildcards.
    expect(await recentModels(d, { search: '_100%' })).toEqual(['lab/model_100%']);
    expect(await recentModels(d, { search: 'o_e' })).toEqual([]);
    expect(await recentModels(d, { first: 0 })).toEqual([]);
  });
});
