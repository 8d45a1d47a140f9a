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
import { kustomizeBuild, podSpec, type K8sObject } from '../support/kustomize.js';
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
const kubeFiles: string[] = [];
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

/** The NATS settings of a role on the stack (compose's node names, the user's password). */
const STACK_NATS = (s: ComposeStack, role: 'api' | 'runner') => ({
  NATS_URL: 'nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222',
  NATS_USER: role,
  NATS_PASSWORD: role === 'api' ? s.env.NATS_API_PASSWORD! : s.env.NATS_RUNNER_PASSWORD!,
});

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

/**
 * A Deployment of deploy/k8s made playable by `podman kube play` against the compose stack: one
 * replica, the image built here, Secret references replaced by their values (optional ones dropped
 * when not given), the claims on NFS by the stack's host folders at the same paths.
 */
function playable(deployment: K8sObject, image: string, values: Record<string, string>, paths: Record<string, string>): K8sObject {
  const spec = podSpec(deployment)!;
  (deployment.spec as { replicas: number }).replicas = 1;
  // podman 4.3 removes a finished ("once") init container in a race with its exit: an init container
  // that runs over a second fails the play ("cannot remove container … as it is running", seen here
  // with a plain `sleep 2`; podman#18477). "always" keeps it, with its log to read; 4.3 reads the
  // annotation from the Deployment's own metadata, not the pod template's.
  deployment.metadata.annotations = { ...deployment.metadata.annotations, 'io.podman.annotations.init.container.type': 'always' };
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    container.image = image;
    container.env = (container.env ?? []).flatMap((e: any) =>
      e.name in values ? [{ name: e.name, value: values[e.name] }] : e.valueFrom?.secretKeyRef?.optional ? [] : [e],
    );
    container.volumeMounts = (container.volumeMounts ?? []).map((m: any) => ({ ...m, mountPath: paths[m.mountPath] ?? m.mountPath }));
  }
  const claims: Record<string, string> = { 'thr-tasks': '/data/tasks', 'thr-jobs': '/data/jobs' };
  spec.volumes = (spec.volumes ?? []).map((v: any) =>
    v.persistentVolumeClaim ? { name: v.name, hostPath: { path: paths[claims[v.persistentVolumeClaim.claimName]!], type: 'Directory' } } : v,
  );
  return deployment;
}

/** `podman kube play` of one object on the stack's network; returns the pod's id. */
async function play(s: ComposeStack, object: K8sObject, name: string): Promise<string> {
  const file = path.join(s.dataDir, '..', `${name}.json`);
  await writeFile(file, JSON.stringify(object)); // JSON is YAML
  kubeFiles.push(file);
  const played = spawnSync('podman', ['kube', 'play', '--network', s.network, file], { encoding: 'utf8' });
  if (played.status !== 0) throw new Error(`podman kube play ${name}: ${played.stderr}`);
  log(`podman kube play ${name}: ${played.stdout.trim().split('\n').join(' ')}`);
  return /Pod:\s*(\S+)/.exec(played.stdout)![1]!;
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
    for (const file of kubeFiles) spawnSync('podman', ['kube', 'down', file], { encoding: 'utf8' });
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

    // The NATS node leading RUNS (the worst node to lose), and one of the two runners, mid-job.
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

    // The killed node comes back (as Kubernetes or compose would restart it) and catches up: every
    // stream has its two followers current again.
    const restart = spawnSync('podman', ['start', natsVictim], { encoding: 'utf8' });
    expect(restart.status, restart.stderr).toBe(0);
    const healed = await waitFor(async () => {
      const h = await s.graphql('{ health { jetStream { streams { name currentFollowers laggingFollowers } } } }').catch(() => null);
      const streams = h?.health?.jetStream?.streams ?? [];
      return streams.length >= 3 && streams.every((x: any) => x.currentFollowers === 2 && x.laggingFollowers === 0) && streams;
    }, { what: `${natsVictim} to rejoin and every stream to have both followers current`, timeoutMs: 120_000, intervalMs: 1_000 });
    log(`${natsVictim} restarted and caught up: ${healed.map((x: any) => x.name).join(', ')} with 2 current followers each`);

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

  it('runs the Kubernetes platform Deployment under podman kube play: its init container migrates and the platform serves the stack', async () => {
    const s = stack!;
    const objects = kustomizeBuild(path.join(repoRoot, 'deploy/k8s/overlays/docker'));
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'thr-platform')!;
    const databaseUrl = `postgresql://thr:${s.env.POSTGRES_PASSWORD}@postgres:5432/thr`;
    const paths = { '/data/tasks': path.join(s.dataDir, 'tasks'), '/data/jobs': path.join(s.dataDir, 'jobs') };
    const podId = await play(
      s,
      playable(deployment, s.env.THR_PLATFORM_IMAGE!, { ...STACK_NATS(s, 'api'), DATABASE_URL: databaseUrl, SECRETS_KEY: s.env.SECRETS_KEY!, TASKS_DIR: paths['/data/tasks'], JOBS_DIR: paths['/data/jobs'] }, paths),
      'platform-deployment',
    );
    const infra = spawnSync('podman', ['pod', 'inspect', podId, '--format', '{{.InfraContainerID}}'], { encoding: 'utf8' }).stdout.trim();
    const url = `http://${s.address(infra)}:4000`;
    useToken(`${url}/graphql`, s.adminToken);
    const data = await waitFor(async () => s.graphql('{ health { ok } jobs(first: 5) { edges { node { status runsPassed } } } }', {}, url).catch(() => null), {
      what: 'the kube-played platform to serve',
      timeoutMs: 180_000,
      intervalMs: 500,
    });
    expect(data.health.ok).toBe(true);
    expect(data.jobs.edges.map((e: any) => e.node)).toContainEqual({ status: 'COMPLETED', runsPassed: RUNS });
    // The init container ran the image's `thr-platform migrate` to the end (the database was already
    // migrated by the compose platforms). podman 4.3 does not hold the pod's containers until it has
    // exited, as Kubernetes does: that ordering is Kubernetes' to keep, not tested here.
    const containers = () => spawnSync('podman', ['ps', '-a', '--filter', `pod=${podId}`, '--format', '{{.Names}} {{.Status}}'], { encoding: 'utf8' }).stdout.trim().split('\n');
    const migrate = await waitFor(() => containers().find((line) => /-migrate Exited \(0\)/.test(line)), { what: 'the migrate init container to exit 0', timeoutMs: 60_000, intervalMs: 250 });
    log(`kube-played platform pod: ${containers().join('; ')}`);
    expect(s.logs(migrate.split(' ')[0]!)).toMatch(/up to date|migration\(s\) applied/);
  });

  it('runs the Kubernetes runner Deployment (deploy/k8s, docker overlay) under podman kube play, and it takes runs', async () => {
    const s = stack!;
    const deployment = kustomizeBuild(path.join(repoRoot, 'deploy/k8s/overlays/docker')).find((o) => o.kind === 'Deployment' && o.metadata.name === 'thr-runner')!;
    // What a cluster would supply, supplied by hand: Secret values, the pod name, the stack's NATS
    // names, its folders at the same paths as on the platform (docs/deploy.md) and its Docker socket.
    const paths = { '/data/tasks': path.join(s.dataDir, 'tasks'), '/data/jobs': path.join(s.dataDir, 'jobs') };
    const runner = playable(deployment, s.env.THR_RUNNER_IMAGE!, { ...STACK_NATS(s, 'runner'), RUNNER_ID: 'kube-runner', SECRETS_KEY: s.env.SECRETS_KEY!, TASKS_DIR: paths['/data/tasks'], JOBS_DIR: paths['/data/jobs'] }, paths);
    const spec = podSpec(runner)!;
    spec.volumes = spec.volumes!.map((v: any) => (v.hostPath?.type === 'Socket' ? { name: v.name, hostPath: { path: s.env.DOCKER_SOCKET, type: 'Socket' } } : v));
    await play(s, runner, 'runner-deployment');

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
