import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { graphql, startTestApp, type TestApp } from '../../test/support/app.js';

let api: TestApp;
let jobId: string;

beforeAll(async () => {
  api = await startTestApp();
  const { db } = api.database;
  const task = (name: string) =>
    db.task.create({ data: { contentHash: randomBytes(32).toString('hex'), name, instruction: 'x', sizeBytes: 1n, fileCount: 1 } });
  const [b, a] = [await task('b-task'), await task('a-task')];
  const job = await db.job.create({ data: { name: 'j', agent: 'terminus-2', model: 'openai/gpt-5', runsPerTask: 2, status: 'RUNNING' } });
  jobId = job.id;
  await db.run.createMany({
    data: [
      { jobId, taskId: a.id, repeat: 1, status: 'PASSED', reward: 1, rewards: { reward: 1 }, costUsd: 2 },
      { jobId, taskId: a.id, repeat: 2, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'ApiRateLimitError', exceptionMessage: '429' },
      { jobId, taskId: b.id, repeat: 1, status: 'FAILED', reward: 0, rewards: { reward: 0 }, costUsd: 1 },
      { jobId, taskId: b.id, repeat: 2, status: 'QUEUED', dispatchedAt: new Date() },
    ],
  });
});
afterAll(() => api?.close());

const STATS = `scored includesInfrastructure passRate passRateLow passRateHigh costPerPass tokensPerPass inputTokens outputTokens passAtK { k value }`;

it('serves job stats, per-task stats with their tasks, and the error breakdown', async () => {
  const result = await graphql(
    api.url,
    `query ($id: ID!) { job(id: $id) {
       stats { runs unfinished ${STATS} meanRewardByKey phaseDurations { phase p50Ms p95Ms } }
       withInfra: stats(includeInfrastructure: true) { ${STATS} }
       taskStats { task { name runCount } runs ${STATS} }
       errorBreakdown { exceptionType failureKind count sampleMessage sampleRunId }
     } }`,
    { id: jobId },
  );
  expect(result.errors).toBeUndefined();
  const job = result.data.job;
  expect(job.stats).toMatchObject({ runs: 4, unfinished: 1, scored: 2, includesInfrastructure: false, passRate: 0.5, costPerPass: 3 });
  expect(job.stats.passAtK).toEqual([{ k: 1, value: 0.5 }]);
  expect(job.stats.tokensPerPass).toBe(job.stats.inputTokens + job.stats.outputTokens);
  expect(job.withInfra).toMatchObject({ scored: 3, includesInfrastructure: true, passRate: expect.closeTo(1 / 3, 12) });
  expect(job.taskStats.map((t: any) => [t.task.name, t.task.runCount, t.runs, t.passRate])).toEqual([
    ['a-task', 2, 2, 1],
    ['b-task', 2, 2, 0],
  ]);
  expect(job.taskStats.find((t: any) => t.task.name === 'b-task').tokensPerPass).toBeNull();
  expect(job.errorBreakdown).toEqual([
    { exceptionType: 'ApiRateLimitError', failureKind: 'INFRASTRUCTURE', count: 1, sampleMessage: '429', sampleRunId: expect.any(String) },
  ]);
});

it('serves the overview counters and model suggestions, and says what is wrong with a bad `first`', async () => {
  const result = await graphql(api.url, `{ overview { runsQueued runsRunning runsFinishedToday runsPassedToday jobsActive queueDepth } models(search: "GPT") }`);
  expect(result.data).toEqual({
    overview: { runsQueued: 1, runsRunning: 0, runsFinishedToday: 0, runsPassedToday: 0, jobsActive: 1, queueDepth: 1 },
    models: ['openai/gpt-5'],
  });
  const bad = await graphql(api.url, `{ models(first: -1) }`);
  expect(bad.errors?.[0]).toMatchObject({ message: 'first must be 0 or more, got -1', extensions: { code: 'BAD_USER_INPUT' } });
});
