// Routing by pool end to end (issue 16 items 7–9): two real runner processes, one serving docker
// only, one serving docker and daytona. A daytona job's runs are all taken by the runner that
// serves daytona; the docker-only runner never takes one, though it has free slots all along.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { jobHarness, type JobHarness } from './support/jobs.js';

let api: TestApp;
let h: JobHarness;

beforeAll(async () => {
  api = await startTestApp({ services: true });
  h = await jobHarness(api);
});
afterAll(async () => {
  await h?.close();
  await api?.close();
});

it('gives a daytona run only to a runner that serves daytona, and docker runs to either', async () => {
  const task = await h.simulatedTask('sim-routing', { HARBOR_SIM_SCENARIO: 'pass' });
  h.startRunner('runner-docker-only', 3);
  h.startRunner('runner-cloud', 1, { RUNNER_ENVIRONMENT_TYPES: 'docker,daytona', RUNNER_ENVIRONMENT_VARS: 'DAYTONA_API_KEY', DAYTONA_API_KEY: 'dtn_routing_test' });

  const daytona = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 4, harbor: { environmentType: 'daytona' } });
  const docker = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 4 });
  const done = (j: { status: string }) => j.status === 'COMPLETED';
  const [daytonaJob, dockerJob] = await Promise.all([h.waitForJob(daytona, done, 120_000), h.waitForJob(docker, done, 120_000)]);

  const runners = (job: typeof daytonaJob) => job.runs.edges.map((e: { node: { runnerId: string; status: string } }) => e.node.runnerId);
  expect(runners(daytonaJob)).toEqual(Array(4).fill('runner-cloud'));
  expect(daytonaJob.runsPassed).toBe(4);
  expect(new Set(runners(dockerJob))).toContain('runner-docker-only');
  expect(dockerJob.runsPassed).toBe(4);
}, 180_000);
