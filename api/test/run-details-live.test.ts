// Harbor's record beyond the outcome end to end: a runner process drives the Harbor simulator, reads
// result.json, sends it in its finished event; the recorder stores it; GraphQL and the export serve it.
import { expect, it } from 'vitest';
import { graphql, type TestApp } from './support/app.js';
import { type JobHarness } from './support/jobs.js';
import { usePlatformWithRunners } from './support/platform.js';

let api: TestApp;
let h: JobHarness;

usePlatformWithRunners((p) => ({ api, h } = p));

const RUNS = `query($id: ID!) { job(id: $id) { exportUrls { runsJson } runs(first: 10) { edges { node {
  status exceptionType agentVersion verifierEnvironmentMode exceptionTraceback exceptionOccurredAt startedAt finishedAt
  modelUsage { model inputTokens cacheTokens outputTokens costUsd }
  agentMetadata { values apiRequestTimes { count } omittedKeys }
  stepResults { name }
} } } } }`;

it("stores and serves an agent timeout's traceback, the verifier mode, the agent's metadata and its usage per model", async () => {
  const task = await h.simulatedTask('details-timeout', { HARBOR_SIM_SCENARIO: 'agent-timeout', HARBOR_SIM_STEPS: '4', HARBOR_SIM_MODEL_USAGE: '1' });
  const runner = h.startRunner('runner-details', 1);
  await runner.waitFor(/ready/);
  const model = 'openrouter/anthropic/claude-sonnet-4';
  const jobId = await h.createJob({ taskIds: [task], agent: 'terminus-2', model });
  await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 60_000);

  const { data } = await graphql(api.url, RUNS, { id: jobId });
  const [run] = data.job.runs.edges.map((e: any) => e.node);
  expect(run).toMatchObject({
    status: 'FAILED',
    exceptionType: 'AgentTimeoutError',
    agentVersion: '2.0.0',
    verifierEnvironmentMode: 'shared',
    modelUsage: [{ model, inputTokens: 1000, cacheTokens: 0, outputTokens: 200, costUsd: 0.01 }],
    agentMetadata: { values: { n_episodes: 4, summarization_count: 0 }, apiRequestTimes: { count: 4 }, omittedKeys: [] },
    stepResults: [],
  });
  expect(run.exceptionTraceback).toMatch(/^Traceback \(most recent call last\):[^]*AgentTimeoutError: Agent execution timed out after [\d.]+ seconds$/);
  expect(Date.parse(run.exceptionOccurredAt)).toBeGreaterThanOrEqual(Date.parse(run.startedAt) - 1_000);
  expect(Date.parse(run.exceptionOccurredAt)).toBeLessThanOrEqual(Date.parse(run.finishedAt));

  const [row] = (await (await fetch(new URL(data.job.exportUrls.runsJson, api.url))).json()) as Record<string, unknown>[];
  expect(row).toMatchObject({ agentVersion: '2.0.0', verifierEnvironmentMode: 'shared', modelUsage: run.modelUsage, exceptionTraceback: run.exceptionTraceback });
}, 90_000);
