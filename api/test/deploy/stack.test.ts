// `npm run test:deploy`: the deployment for real, in containers. Images built from this checkout (the
// Harbor simulator in the runner), deploy/compose.yaml up with a 3-node NATS cluster, PostgreSQL, the
// platform twice and two runners; a 20 × 3 job survives one NATS node and one runner being killed
// mid-job; the API's metrics agree with the job; then the Kubernetes runner Deployment of
// deploy/k8s runs under `podman kube play` against the same stack and takes runs.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from 'runner/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/config/paths.js';
import { buildImages, composeMissing, upStack, type ComposeStack } from '../support/compose-stack.js';
import { kustomizeBuild, podSpec } from '../support/kustomize.js';
import { parseExposition, sampleSum } from '../support/prometheus.js';
import { renderDashboard } from '../support/dashboard-render.js';
import { prometheusMissing, startPrometheus, type PrometheusServer } from '../support/prometheus-server.js';
import { tb2Task, under, zip } from '../support/task-zips.js';
import { useToken } from '../support/auth.js';
import { uploadZips } from '../support/upload.js';

const log = (line: string) => console.log(`[test:deploy] ${line}`);
const TASKS = 20;
const RUNS_PER_TASK = 3;
const RUNS = TASKS * RUNS_PER_TASK;

const JOB = `query($id: ID!) { job(id: $id) { status runsTotal runsQueued runsClaimed runsRunning runsPassed runsFailed runsErrored runsCancelled
  runs(first: 500) { edges { node { id status runnerId deliveryCount } } } } }`;

let stack: ComposeStack | undefined;
let kubeFile: string | undefined;
/** Prometheus scraping the stack's containers, for the dashboard rendered from this run (when installed). */
let prometheus: PrometheusServer | undefined;

async function uploadTasks(s: ComposeStack, prefix: string, count: number, sim: Record<string, string>): Promise<string[]> {
  const files: Record<string, string | Uint8Array> = {};
  for (let i = 0; i < count; i += 1) {
    const name = `${prefix}-${String(i).padStart(2, '0')}`;
    Object.assign(files, under(name, { ...tb2Task(name), '.harbor-sim': Object.entries(sim).map(([k, v]) => `${k}=${v}\n`).join('') }));
  }
  useToken(`${s.urls[0]}/graphql`, s.adminToken);
  const { body } = await uploadZips(`${s.urls[0]}/graphql`, [{ name: `${prefix}.zip`, bytes: await zip(files) }]);
  const ids = body.data?.uploadTasks?.data?.files?.[0]?.tasks?.map((t: any) => t.task.id);
  if (!ids || ids.length !== count) throw new Error(`upload of ${prefix}.zip: ${JSON.stringify(body).slice(0, 500)}`);
  return ids;
}

async function createJob(s: ComposeStack, taskIds: string[], runsPerTask: number): Promise<string> {
  const data = await s.graphql(
    `mutation($input: CreateJobInput!) { createJob(input: $input) { __typename ... on MutationCreateJobSuccess { data { id } } ... on Error { message } } }`,
    { input: { taskIds, agent: 'oracle', runsPerTask } },
  );
  if (data.createJob.__typename !== 'MutationCreateJobSuccess') throw new Error(JSON.stringify(data.createJob));
  return data.createJob.data.id;
}

const job = async (s: ComposeStack, id: string) => (await s.graphql(JOB, { id })).job;

/** What a fault cost a job, read through the API: runs never finished, counters that disagree with the runs, runs stuck. */
function faults(j: any, expected: number) {
  const runs = j.runs.edges.map((e: any) => e.node);
  const by = (status: string) => runs.filter((r: any) => r.status === status).length;
  const final = ['PASSED', 'FAILED', 'ERRORED', 'CANCELLED'].reduce((n, s) => n + by(s), 0);
  const counters: [string, number, number][] = [
    ['runsTotal', j.runsTotal, runs.length],
    ['runsPassed', j.runsPassed, by('PASSED')],
    ['runsFailed', j.runsFailed, by('FAILED')],
    ['runsErrored', j.runsErrored, by('ERRORED')],
    ['runsQueued', j.runsQueued, by('QUEUED')],
    ['runsRunning', j.runsRunning, by('RUNNING')],
  ];
  return {
    lost: expected - final,
    countedTwice: counters.filter(([, recorded, counted]) => recorded !== counted).map(([name]) => name),
    stuck: by('QUEUED') + by('CLAIMED') + by('RUNNING'),
    distinctRuns: new Set(runs.map((r: any) => r.id)).size,
  };
}

const scrape = async (url: string) => parseExposition(await (await fetch(url)).text());

describe.skipIf(composeMissing)(`the compose stack${composeMissing ? ` (skipped: ${composeMissing})` : ''}`, () => {
  beforeAll(async () => {
    const images = buildImages('test-deploy', log);
    stack = await upStack({ images, runnerReplicas: 2, runnerConcurrency: 4 });
    log(`stack ${stack.project} up: ${['postgres', 'nats-1', 'nats-2', 'nats-3', 'platform-1', 'platform-2', 'runner'].flatMap((s) => stack!.containers(s)).join(', ')}`);
    if (!prometheusMissing) {
      const targets = (service: string, port: number) => stack!.containers(service).map((c) => `http://${stack!.address(c)}:${port}/metrics`);
      prometheus = await startPrometheus({
        jobs: [
          { job: 'thr-api', targets: [...targets('platform-1', 9464), ...targets('platform-2', 9464)] },
          { job: 'thr-runner', targets: targets('runner', 9465) },
        ],
      });
    }
  });
  afterAll(async () => {
    await prometheus?.stop();
    if (kubeFile) spawnSync('podman', ['kube', 'down', kubeFile], { encoding: 'utf8' });
    await stack?.down();
  });

  it(`runs a ${TASKS} × ${RUNS_PER_TASK} job while a NATS node and a runner are killed: nothing lost, counted twice or stuck, and the metrics agree`, async () => {
    const s = stack!;
    const started = Date.now();
    const tasks = await uploadTasks(s, 'deploy', TASKS, { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '500' });
    const jobId = await createJob(s, tasks, RUNS_PER_TASK);
    await waitFor(async () => {
      const j = await job(s, jobId);
      return j.runsPassed >= 8 && j.runsRunning >= 2;
    }, { what: 'the job to be well under way', timeoutMs: 120_000, intervalMs: 200 });

    // The NATS node leading RUNS, and the runner with trials in hand: the worst of each.
    const health = await s.graphql('{ health { jetStream { streams { name leader } } } }').catch(() => null);
    const leader: string | undefined = health?.health?.jetStream?.streams?.find((x: any) => x.name === 'RUNS')?.leader;
    const natsVictim = s.containers(leader ?? 'nats-2')[0] ?? s.containers('nats-2')[0]!;
    const [survivor, runnerVictim] = s.containers('runner');
    s.kill(natsVictim);
    s.kill(runnerVictim!);
    log(`killed ${natsVictim} (RUNS leader: ${leader ?? 'unknown'}) and ${runnerVictim} mid-job`);

    const done = await waitFor(async () => {
      const j = await job(s, jobId);
      return j.status === 'COMPLETED' && j;
    }, { what: 'the job to complete after the kills', timeoutMs: 300_000, intervalMs: 500 });
    const counted = faults(done, RUNS);
    log(`job ${jobId}: ${JSON.stringify(counted)}; ${done.runs.edges.filter((e: any) => e.node.deliveryCount > 1).length} run(s) delivered again`);
    expect(counted).toEqual({ lost: 0, countedTwice: [], stuck: 0, distinctRuns: RUNS });
    expect(done).toMatchObject({ runsTotal: RUNS, runsPassed: RUNS, runsFailed: 0, runsErrored: 0 });

    // Both platform replicas' /metrics say what the job says (once each has read the database since).
    for (const port of [s.env.THR_METRICS_PORT, s.env.THR_METRICS_PORT_2]) {
      const samples = await waitFor(async () => {
        const scraped = await scrape(`http://127.0.0.1:${port}/metrics`);
        return sampleSum(scraped, 'thr_api_runs', { status: 'PASSED' }) === RUNS && scraped;
      }, { what: `thr_api_runs{status="PASSED"} on :${port} to reach ${RUNS}`, timeoutMs: 60_000, intervalMs: 1_000 });
      for (const status of ['QUEUED', 'CLAIMED', 'RUNNING', 'ERRORED']) expect(sampleSum(samples, 'thr_api_runs', { status }) ?? 0).toBe(0);
      expect(sampleSum(samples, 'thr_api_jobs', { status: 'COMPLETED' })).toBe(1);
    }
    // The runner never killed counted exactly the runs recorded as its own.
    const survivorId = /\[runner\] (\S+) ready:/.exec(s.logs(survivor!))?.[1];
    expect(survivorId, `${survivor} said it was ready`).toBeTruthy();
    const own = done.runs.edges.filter((e: any) => e.node.runnerId === survivorId).length;
    const runnerSamples = await scrape(`http://${s.address(survivor!)}:9465/metrics`);
    expect(sampleSum(runnerSamples, 'thr_runner_trials_finished_total', { status: 'PASSED' })).toBe(own);
    log(`metrics agree: thr_api_runs{status="PASSED"} = ${RUNS} on both replicas; ${survivor} finished ${own}, as the runs say`);

    // The Grafana dashboard drawn from what Prometheus scraped off the containers during the job.
    if (prometheus) {
      const out = process.env.DASHBOARD_PNG ?? path.join(os.tmpdir(), 'thr-deploy-dashboard.png');
      await waitFor(async () => (await prometheus!.query('max(thr_api_runs{status="PASSED"})'))[0]?.value[1] === String(RUNS), {
        what: 'Prometheus to have scraped the finished job',
        timeoutMs: 60_000,
        intervalMs: 500,
      });
      const panels = await renderDashboard({
        prometheusUrl: prometheus.url,
        dashboardFile: path.join(repoRoot, 'deploy/grafana/dashboard.json'),
        from: new Date(started),
        to: new Date(),
        stepSeconds: 2,
        scrapeIntervalSeconds: 1,
        outFile: out,
      });
      expect(panels.filter((p) => p.errors.length > 0).map((p) => `${p.title}: ${p.errors.join('; ')}`)).toEqual([]);
      log(`dashboard rendered to ${out}: ${panels.filter((p) => p.points > 0).length} of ${panels.length} panels with data`);
    }
  });

  it('runs the Kubernetes runner Deployment (deploy/k8s, docker overlay) under podman kube play, and it takes runs', async () => {
    const s = stack!;
    const deployment = kustomizeBuild(path.join(repoRoot, 'deploy/k8s/overlays/docker')).find((o) => o.kind === 'Deployment' && o.metadata.name === 'thr-runner')!;
    const spec = podSpec(deployment)!;
    const container = spec.containers[0]!;
    // What a cluster would supply, supplied by hand: the image, Secret values, the pod name, the
    // stack's NATS names and folders (the same paths as on the platform, as docs/deploy.md asks).
    const values: Record<string, string> = {
      RUNNER_ID: 'kube-runner',
      NATS_URL: 'nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222',
      NATS_USER: 'runner',
      NATS_PASSWORD: s.env.NATS_RUNNER_PASSWORD!,
      SECRETS_KEY: s.env.SECRETS_KEY!,
      TASKS_DIR: path.join(s.dataDir, 'tasks'),
      JOBS_DIR: path.join(s.dataDir, 'jobs'),
    };
    (deployment.spec as any).replicas = 1;
    container.image = s.env.THR_RUNNER_IMAGE!;
    container.env = (container.env ?? []).map((e: any) => (e.name in values ? { name: e.name, value: values[e.name] } : e));
    const paths: Record<string, string> = { '/data/tasks': values.TASKS_DIR!, '/data/jobs': values.JOBS_DIR! };
    container.volumeMounts = (container.volumeMounts ?? []).map((m: any) => ({ ...m, mountPath: paths[m.mountPath] ?? m.mountPath }));
    spec.volumes = (spec.volumes ?? []).map((v: any) =>
      v.persistentVolumeClaim
        ? { name: v.name, hostPath: { path: v.name === 'tasks' ? values.TASKS_DIR : values.JOBS_DIR, type: 'Directory' } }
        : v.hostPath?.type === 'Socket'
          ? { name: v.name, hostPath: { path: s.env.DOCKER_SOCKET, type: 'Socket' } }
          : v,
    );
    kubeFile = path.join(s.dataDir, '..', 'runner-deployment.json');
    await writeFile(kubeFile, JSON.stringify(deployment)); // JSON is YAML
    const played = spawnSync('podman', ['kube', 'play', '--network', s.network, kubeFile], { encoding: 'utf8' });
    expect(played.status, played.stderr).toBe(0);
    log(`podman kube play: ${played.stdout.trim().split('\n').join(' ')}`);

    await waitFor(async () => (await s.graphql('{ runners { id state } }')).runners.some((r: any) => r.id === 'kube-runner' && r.state === 'LIVE'), {
      what: 'the kube-played runner to heartbeat LIVE',
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    // Only it may take the next job: the compose runners stop (they are idle; SIGTERM drains at once).
    for (const c of s.containers('runner')) spawnSync('podman', ['stop', '-t', '60', c]);
    const tasks = await uploadTasks(s, 'kube', 2, { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '200' });
    const jobId = await createJob(s, tasks, 2);
    const done = await waitFor(async () => {
      const j = await job(s, jobId);
      return j.status === 'COMPLETED' && j;
    }, { what: 'the job on the kube-played runner to complete', timeoutMs: 180_000, intervalMs: 500 });
    expect(done.runs.edges.map((e: any) => [e.node.status, e.node.runnerId])).toEqual(Array.from({ length: 4 }, () => ['PASSED', 'kube-runner']));
    expect(faults(done, 4)).toEqual({ lost: 0, countedTwice: [], stuck: 0, distinctRuns: 4 });
  });
});
