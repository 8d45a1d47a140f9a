// Routing by pool end to end (issue 16 items 7–9): two real runner processes, one serving docker
// only, one serving docker and daytona. A daytona job's runs are all taken by the runner that
// serves daytona; the docker-only runner never takes one, though it has free slots all along. The
// runner's Daytona key reaches Harbor for daytona trials only, and never a log in clear.
import { expect, it } from 'vitest';
import { readRunLog } from '../src/logs/service.js';
import { type TestApp } from './support/app.js';
import { type JobHarness } from './support/jobs.js';
import { usePlatformWithRunners } from './support/platform.js';

let api: TestApp;
let h: JobHarness;

usePlatformWithRunners((p) => ({ api, h } = p));

it('gives a daytona run only to a runner that serves daytona, and docker runs to either', async () => {
  // Harbor prints the variable's value (as a provider's auth error would).
  const task = await h.simulatedTask('sim-routing', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_ECHO_SECRET: 'DAYTONA_API_KEY', HARBOR_SIM_LEAK_SECRET: '1' });
  const key = 'dtn_routing_test_0123456789abcdef';
  h.startRunner('runner-docker-only', 3);
  h.startRunner('runner-cloud', 1, { RUNNER_ENVIRONMENT_TYPES: 'docker,daytona', RUNNER_ENVIRONMENT_VARS: 'DAYTONA_API_KEY', DAYTONA_API_KEY: key });

  const daytona = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 4, harbor: { environmentType: 'daytona' } });
  const docker = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 4 });
  const done = (j: { status: string }) => j.status === 'COMPLETED';
  const [daytonaJob, dockerJob] = await Promise.all([h.waitForJob(daytona, done, 120_000), h.waitForJob(docker, done, 120_000)]);

  const runners = (job: typeof daytonaJob) => job.runs.edges.map((e: { node: { runnerId: string; status: string } }) => e.node.runnerId);
  expect(runners(daytonaJob)).toEqual(Array(4).fill('runner-cloud'));
  expect(daytonaJob.runsPassed).toBe(4);
  expect(new Set(runners(dockerJob))).toContain('runner-docker-only');
  expect(dockerJob.runsPassed).toBe(4);

  const log = async (job: typeof daytonaJob) => {
    let text = '';
    const deps = { db: api.database.db, nats: api.nats.nc, topology: api.nats.topology };
    for (const e of job.runs.edges) for await (const chunk of readRunLog(deps, e.node.id)) text += JSON.stringify(chunk);
    return text;
  };
  const [daytonaLog, dockerLog] = [await log(daytonaJob), await log(dockerJob)];
  // Harbor had the key for daytona trials (it printed it, scrubbed), not for docker ones.
  expect(daytonaLog).toContain('Incorrect API key provided: [REDACTED]');
  expect(daytonaLog).not.toContain(key);
  expect(dockerLog).not.toContain('[REDACTED]');
  expect(dockerLog).not.toContain(key);
}, 180_000);
