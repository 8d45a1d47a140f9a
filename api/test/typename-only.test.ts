// Clients (urql's cache, notebooks checking an outcome) often select nothing but __typename. Prisma
// refuses the empty select Pothos plans for that; every Prisma-backed field must still answer.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { jobHarness } from './support/jobs.js';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ services: true });
});
afterAll(async () => {
  await api?.close();
});

it('answers mutations and queries that select only __typename', async () => {
  const h = await jobHarness(api);
  const taskId = await h.simulatedTask('typename-only', {});
  const created = await graphql(api.url, `mutation ($t: ID!) { createJob(input: { agent: "oracle", taskIds: [$t] }) { __typename } }`, { t: taskId });
  expect(created).toEqual({ data: { createJob: { __typename: 'MutationCreateJobSuccess' } } });

  const { data } = await graphql(api.url, `{ jobs { edges { node { id } } } }`);
  const jobId = data.jobs.edges[0].node.id;
  const read = await graphql(
    api.url,
    `query ($id: ID!, $t: ID!) { job(id: $id) { __typename } jobs { edges { node { __typename } } } task(id: $t) { __typename } tasks { edges { node { __typename } } } }`,
    { id: jobId, t: taskId },
  );
  expect(read.errors).toBeUndefined();
  expect(read.data.job).toEqual({ __typename: 'Job' });
  expect(read.data.task).toEqual({ __typename: 'Task' });

  const cancelled = await graphql(api.url, `mutation ($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: jobId });
  expect(cancelled).toEqual({ data: { cancelJob: { __typename: 'MutationCancelJobSuccess' } } });
  const retried = await graphql(api.url, `mutation ($id: ID!) { retryRuns(jobId: $id, which: UNSUCCESSFUL) { __typename } }`, { id: jobId });
  expect(retried).toEqual({ data: { retryRuns: { __typename: 'MutationRetryRunsSuccess' } } });
  await h.close();
});
