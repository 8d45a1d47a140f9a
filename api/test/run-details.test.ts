// Harbor's record of a run beyond its outcome (issue 16 item 3): a finished event as the runner
// sends it is stored by the recorder and served on Run; an older runner's event, without the
// fields, leaves them empty.
import type { RunResult } from 'runner/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEvent } from '../src/jobs/recorder.js';
import { createJob } from '../src/jobs/launch.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';

let api: TestApp;
let runIds: string[];
let jobId: string;

beforeAll(async () => {
  api = await startTestApp();
  const { db } = api.database;
  const task = await db.task.create({ data: { contentHash: 'd'.repeat(64), name: 'details', instruction: 'x', sizeBytes: 1n, fileCount: 1 } });
  ({ id: jobId } = await createJob({ db, secretsKey: null }, { taskIds: [task.id], agent: 'terminus-2', model: 'openrouter/anthropic/claude-sonnet-4', runsPerTask: 2 }));
  runIds = (await db.run.findMany({ where: { jobId }, orderBy: { repeat: 'asc' } })).map((r) => r.id);
});
afterAll(() => api?.close());

const base: RunResult = {
  status: 'FAILED', reward: 0.5, rewards: { reward: 0.5 }, exceptionType: 'AgentTimeoutError',
  exceptionMessage: 'step "ship": Agent execution timed out after 360.0 seconds', failureKind: 'AGENT',
  inputTokens: 100000, cacheTokens: 40000, outputTokens: 5000, costUsd: 0.4,
  environmentSetupMs: 19800, agentSetupMs: 5000, agentExecutionMs: null, verifierMs: null, trialDir: 'run-x/build-then-ship__Qw3eRt7',
};

const finished = (runId: string, result: RunResult) =>
  ({ v: 1 as const, type: 'finished' as const, runId, jobId, runnerId: 'r1', dispatch: 1, deliveryCount: 1, at: new Date().toISOString(), result });

const RUN = `query($id: ID!) { run(id: $id) {
  agentVersion verifierEnvironmentMode exceptionTraceback exceptionOccurredAt
  modelUsage { model inputTokens cacheTokens outputTokens costUsd }
  agentMetadata { values apiRequestTimes { count medianMs p95Ms maxMs } omittedKeys }
  stepResults { name reward rewards exceptionType exceptionMessage agentExecutionMs verifierMs inputTokens outputTokens costUsd }
} }`;

describe('Run details', () => {
  it('stores what the runner sent and serves it', async () => {
    const traceback = 'Traceback (most recent call last):\n  File "multi_step.py", line 171\nharbor.trial.trial.AgentTimeoutError: Agent execution timed out after 360.0 seconds\n';
    const steps: RunResult['steps'] = [
      { name: 'build', reward: 1, rewards: { reward: 1 }, exceptionType: null, exceptionMessage: null, agentExecutionMs: 300000, verifierMs: 40000, inputTokens: 40000, outputTokens: 2000, costUsd: 0.15 },
      { name: 'ship', reward: 0, rewards: { reward: 0 }, exceptionType: 'AgentTimeoutError', exceptionMessage: 'Agent execution timed out after 360.0 seconds', agentExecutionMs: 360000, verifierMs: 33000, inputTokens: 60000, outputTokens: 3000, costUsd: 0.25 },
    ];
    const result: RunResult = {
      ...base,
      agentVersion: '2.0.0',
      modelUsage: [{ model: 'openrouter/anthropic/claude-sonnet-4', inputTokens: 100000, cacheTokens: 40000, outputTokens: 5000, costUsd: 0.4 }],
      agentMetadata: { values: { n_episodes: 23, summarization_count: 0 }, apiRequestTimes: { count: 23, medianMs: 2100.5, p95Ms: 8800, maxMs: 9100 }, omittedKeys: ['all_messages'] },
      exceptionTraceback: traceback,
      exceptionOccurredAt: '2026-09-03T09:12:06.000Z',
      verifierEnvironmentMode: null,
      steps,
    };
    expect((await applyEvent(api.database.db, finished(runIds[0]!, result), 1)).applied?.status).toBe('FAILED');
    const { data, errors } = await graphql(api.url, RUN, { id: runIds[0] });
    expect(errors).toBeUndefined();
    expect(data.run).toEqual({
      agentVersion: '2.0.0',
      verifierEnvironmentMode: null,
      exceptionTraceback: traceback,
      exceptionOccurredAt: '2026-09-03T09:12:06.000Z',
      modelUsage: result.modelUsage,
      agentMetadata: result.agentMetadata,
      stepResults: steps,
    });
  });

  it("leaves them empty for an older runner's event", async () => {
    expect((await applyEvent(api.database.db, finished(runIds[1]!, base), 2)).applied?.status).toBe('FAILED');
    const { data } = await graphql(api.url, RUN, { id: runIds[1] });
    expect(data.run).toEqual({
      agentVersion: null, verifierEnvironmentMode: null, exceptionTraceback: null, exceptionOccurredAt: null,
      modelUsage: [], agentMetadata: null, stepResults: [],
    });
  });

  it('reads a stored column of another shape as absent, never as an error', async () => {
    await api.database.db.run.update({ where: { id: runIds[1]! }, data: { modelUsage: { not: 'a list' }, stepResults: [{ name: 1 }], agentMetadata: 'x' } });
    const { data, errors } = await graphql(api.url, RUN, { id: runIds[1] });
    expect(errors).toBeUndefined();
    expect(data.run).toMatchObject({ modelUsage: [], agentMetadata: null, stepResults: [] });
  });
});
