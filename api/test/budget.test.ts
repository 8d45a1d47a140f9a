// A job's budget with runner processes and the Harbor simulator: the recorded cost stops the job.
import { describe, expect, it } from 'vitest';
import { waitFor } from 'runner/test-support';
import { graphql, type TestApp } from './support/app.js';
import { type JobHarness } from './support/jobs.js';
import { usePlatformWithRunners } from './support/platform.js';

let api: TestApp;
let h: JobHarness;

usePlatformWithRunners((p) => ({ api, h } = p));

const JOB = `query($id: ID!) { job(id: $id) { status budgetUsd costUsd stopReason stopMessage runsTotal runsPassed runsCancelled runsQueued
  runsClaimed runsRunning runs(first: 100) { edges { node { status attempt exceptionMessage costUsd } } } } }`;
const RETRY = `mutation($id: ID!, $which: RetrySelection!) { retryRuns(jobId: $id, which: $which) {
  __typename ... on Error { code message } ... on BudgetReachedError { costUsd budgetUsd } ... on MutationRetryRunsSuccess { data { runsTotal } } } }`;
const SET_BUDGET = `mutation($id: ID!, $budget: Float) { setJobBudget(id: $id, budgetUsd: $budget) {
  __typename ... on Error { code message } ... on MutationSetJobBudgetSuccess { data { budgetUsd stopReason } } } }`;

const job = async (id: string) => (await graphql(api.url, JOB, { id })).data.job;
const waitForJob = (id: string, done: (j: any) => boolean, timeoutMs = 60_000) =>
  waitFor(async () => {
    const j = await job(id);
    return done(j) && j;
  }, { timeoutMs, what: `job ${id} to get there`, intervalMs: 200 });

describe('budget', () => {
  it('refuses a budget that is not a positive number of dollars', async () => {
    const task = await h.simulatedTask('budget-bad', { HARBOR_SIM_SCENARIO: 'pass' });
    const created = await graphql(api.url, `mutation($input: CreateJobInput!) { createJob(input: $input) { __typename ... on InvalidInputError { field message } } }`, {
      input: { taskIds: [task], agent: 'oracle', runsPerTask: 1, budgetUsd: 0 },
    });
    expect(created.data.createJob).toEqual({
      __typename: 'InvalidInputError',
      field: 'input.budgetUsd',
      message: 'budgetUsd must be a positive number of US dollars up to 99999999, got 0',
    });
  });

  it('stops starting runs once the recorded cost reaches the budget; a raised budget lets retries run', async () => {
    const task = await h.simulatedTask('budget-sim', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_COST_USD: '0.01' });
    const runner = h.startRunner('runner-budget', 1);
    await runner.waitFor(/ready/);
    const id = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 10, budgetUsd: 0.03 });

    let j = await waitForJob(id, (x) => x.status === 'CANCELLED');
    const runs = j.runs.edges.map((e: any) => e.node);
    const passed = runs.filter((r: any) => r.status === 'PASSED');
    // Three runs reach the budget; the one the runner took meanwhile may finish too (runs already claimed are not stopped).
    expect(passed.length).toBeGreaterThanOrEqual(3);
    expect(passed.length).toBeLessThan(10);
    expect(j.runsCancelled).toBe(10 - passed.length);
    expect(runs.filter((r: any) => r.status === 'CANCELLED').every((r: any) => /budget .*reached/.test(r.exceptionMessage))).toBe(true);
    expect(j).toMatchObject({ budgetUsd: 0.03, stopReason: 'BUDGET_REACHED', runsQueued: 0, runsClaimed: 0, runsRunning: 0 });
    expect(j.costUsd).toBeCloseTo(passed.length * 0.01, 6);
    expect(j.stopMessage).toMatch(/^stopped: recorded cost \$0\.0[3-9] reached the budget of \$0\.03$/);

    // Past its budget, retries are refused until the budget is raised.
    const refused = await graphql(api.url, RETRY, { id, which: 'CANCELLED' });
    expect(refused.data.retryRuns).toMatchObject({ __typename: 'BudgetReachedError', code: 'BUDGET_REACHED', budgetUsd: 0.03 });
    expect(refused.data.retryRuns.message).toMatch(/raise the budget with setJobBudget/);
    const bad = await graphql(api.url, SET_BUDGET, { id, budget: -1 });
    expect(bad.data.setJobBudget).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });

    const raised = await graphql(api.url, SET_BUDGET, { id, budget: j.costUsd + 0.02 });
    expect(raised.data.setJobBudget.data.budgetUsd).toBeCloseTo(j.costUsd + 0.02, 6);
    const retried = await graphql(api.url, RETRY, { id, which: 'CANCELLED' });
    expect(retried.data.retryRuns.__typename).toBe('MutationRetryRunsSuccess');

    const before = passed.length;
    j = await waitForJob(id, (x) => x.status === 'CANCELLED' || x.status === 'COMPLETED');
    const after = j.runs.edges.filter((e: any) => e.node.status === 'PASSED').length;
    expect(after).toBeGreaterThanOrEqual(before + 2);
    expect(j.stopReason).toBe(after < 10 ? 'BUDGET_REACHED' : null);
  }, 120_000);

  it('stops a running job at once when its budget is lowered under the recorded cost', async () => {
    const task = await h.simulatedTask('budget-lower', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_COST_USD: '0.01' });
    const id = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 10 });
    await waitForJob(id, (x) => x.runsPassed >= 1);
    const lowered = await graphql(api.url, SET_BUDGET, { id, budget: 0.005 });
    expect(lowered.data.setJobBudget.data.stopReason).toBe('BUDGET_REACHED');
    const j = await waitForJob(id, (x) => x.status === 'CANCELLED');
    expect(j.runsPassed).toBeLessThan(10);
    expect(j.runsPassed + j.runsCancelled).toBe(10);
  }, 60_000);
});
