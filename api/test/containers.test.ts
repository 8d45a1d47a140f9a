// A trial's containers after Harbor was killed, against a real engine (podman serving the Docker
// API): Harbor's teardown never ran, so the runner takes the trial's compose project down itself —
// when it had to SIGKILL Harbor after the cancel grace, and when Harbor died without a trial result.
// The simulator runs no containers, so the test starts one labelled as Harbor's compose project of
// the trial would be, once the trial directory tells its name.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findTrialDir } from 'runner/protocol';
import { waitFor } from 'runner/test-support';
import { ensureSleeperImage, podmanMissing, projectLeftovers, removeProject, startLabelledProject, startPodmanService, type PodmanService } from 'runner/test-support/podman';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { jobHarness, readLedger, type JobHarness } from './support/jobs.js';

if (podmanMissing) console.warn(`skipping the container clean-up tests: ${podmanMissing}`);

const CANCEL = `mutation($id: ID!) { cancelJob(id: $id) { __typename ... on Error { code message } } }`;

describe.skipIf(podmanMissing)("a trial's containers after Harbor was killed (podman)", () => {
  let api: TestApp;
  let h: JobHarness;
  let engine: PodmanService;
  let scratch: string;
  const projects: string[] = [];
  /** Ledger entries of trials already handed to a test. */
  const seen = new Set<string>();

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'thr-containers-'));
    await ensureSleeperImage();
    engine = await startPodmanService(scratch);
    api = await startTestApp({ services: true });
    h = await jobHarness(api);
  }, 120_000);
  afterEach(() => h.killRunners());
  afterAll(async () => {
    await h?.close();
    for (const project of projects) removeProject(project);
    await engine?.close();
    await api?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  /**
   * Runs a hanging trial on a runner with a short cancel grace, starts the trial's compose project
   * once the trial exists, and hands over the simulator's process and the project.
   */
  async function hangingTrialWithContainers(name: string) {
    // Harbor's teardown (the cancel delay) outlasts the runner's grace by far: the runner must SIGKILL it.
    const task = await h.simulatedTask(name, { HARBOR_SIM_SCENARIO: 'hang', HARBOR_SIM_CANCEL_DELAY_MS: '60000' });
    const runner = h.startRunner(`runner-${name}`, 1, { RUNNER_CANCEL_GRACE_MS: '1000', DOCKER_HOST: engine.dockerHost });
    await runner.waitFor(/ready/);
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 1 });
    const start = await waitFor(async () => (await readLedger(h.ledger)).find((e) => e.kind === 'start' && !seen.has(e.jobName)), {
      what: `the trial of ${name} to start`,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    seen.add(start.jobName);
    const trial = (await findTrialDir(path.join(h.jobsDir, start.jobName)))!;
    // As the simulator names it (harbor-contract.md §3): `<trial_name>__env`, lower-cased.
    const project = `${trial.toLowerCase()}__env`;
    projects.push(project);
    startLabelledProject(project);
    expect(projectLeftovers(project).containers).toHaveLength(1);
    return { jobId, runner, trial, project, pid: start.pid };
  }

  it('takes the compose project down when Harbor outlives the cancel grace and is SIGKILLed', async () => {
    const t = await hangingTrialWithContainers('sim-kill-grace');
    const { data } = await graphql(api.url, CANCEL, { id: t.jobId });
    expect(data.cancelJob.__typename).toBe('MutationCancelJobSuccess');
    const job = await h.waitForJob(t.jobId, (j) => j.status === 'CANCELLED', 60_000);
    expect(job.runs.edges[0].node).toMatchObject({ status: 'CANCELLED', exceptionType: 'CancelledError' });
    expect(projectLeftovers(t.project)).toEqual({ containers: [], networks: [], volumes: [] });
    expect(t.runner.output()).toMatch(
      new RegExp(`took down compose project ${t.project} of trial ${t.trial} \\(Harbor was killed 1 s after it was asked to stop\\): removed 1 container\\(s\\), 1 network\\(s\\), 1 volume\\(s\\)`),
    );
  }, 120_000);

  it('takes the compose project down when Harbor dies without a trial result', async () => {
    const t = await hangingTrialWithContainers('sim-died');
    process.kill(t.pid, 'SIGKILL');
    const job = await h.waitForJob(t.jobId, (j) => j.status === 'COMPLETED', 60_000);
    expect(job.runs.edges[0].node).toMatchObject({ status: 'ERRORED', exceptionType: 'HarborFailed', failureKind: 'INFRASTRUCTURE' });
    expect(projectLeftovers(t.project)).toEqual({ containers: [], networks: [], volumes: [] });
    expect(t.runner.output()).toMatch(new RegExp(`took down compose project ${t.project} of trial ${t.trial} \\(Harbor exited without a trial result\\): removed 1 container\\(s\\)`));
  }, 120_000);
});
