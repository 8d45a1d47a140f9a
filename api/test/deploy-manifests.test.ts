// deploy/k8s: every overlay builds (Kustomize subset in support/kustomize.ts), every object passes
// its Kubernetes or KEDA schema (kubernetes-models, @kubernetes-models/keda), and the manifests agree
// with the code: settings the config readers know, Secrets and volumes that exist, the runner's grace
// period = its drain timeout, KEDA's stream and consumers = the protocol's, NATS users = nats:conf's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ENVIRONMENT_NEEDS } from '../../runner/src/capabilities.js';
import { readRunnerConfig, RUNNER_ENV_NAMES } from '../../runner/src/config.js';
import { poolConsumer, topology } from 'runner/protocol';
import { PROVIDER_ENV_VARS } from 'runner/secrets';
import { describe, expect, it } from 'vitest';
import { API_ENV_NAMES, readConfig } from '../src/config/env.js';
import { repoRoot } from '../src/config/paths.js';
import { defaultUsers, renderAuthorization } from '../src/nats/conf.js';
import { kustomizeBuild, podContainers, podSpec, type K8sObject } from './support/kustomize.js';

const k8sDir = path.join(repoRoot, 'deploy/k8s');
const OVERLAYS = ['docker', 'cloud'] as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

/** NATS connection variables both processes read (connect-options.ts), found in its source. */
const NATS_CONNECT_VARS = [...readFileSync(path.join(repoRoot, 'runner/src/protocol/connect-options.ts'), 'utf8').matchAll(/set\('([A-Z_]+)'\)/g)].map((m) => m[1]!);
const SANDBOX_VARS = Object.values(ENVIRONMENT_NEEDS).flatMap((n) => [...(n.credentials ?? []).flat(), ...(n.optional ?? [])]);

/** What a container of this image may be given: the variables its process reads. */
const KNOWN_ENV: Record<string, Set<string>> = {
  'thr-platform': new Set([...API_ENV_NAMES, ...PROVIDER_ENV_VARS.map((v) => `DEFAULT_${v}`), ...NATS_CONNECT_VARS]),
  'thr-runner': new Set([...RUNNER_ENV_NAMES, ...NATS_CONNECT_VARS, ...SANDBOX_VARS]),
};

const imageName = (image: string) => image.replace(/:[^/:]*$/, '');
const find = (objects: K8sObject[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

/** Every disagreement between the built manifests and the code, one line each; [] when they agree. */
export function checkManifests(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const Model = MODELS[`${o.apiVersion}/${o.kind}`];
    if (!Model) {
      problems.push(`${o.kind}/${o.metadata.name}: no schema for ${o.apiVersion} ${o.kind}`);
      continue;
    }
    try {
      new Model(o).validate();
    } catch (error) {
      problems.push(`${o.kind}/${o.metadata.name}: ${(error as Error).message}`);
    }
  }
  const secrets = new Map(objects.filter((o) => o.kind === 'Secret').map((o) => [o.metadata.name, Object.keys({ ...(o.stringData as object), ...(o.data as object) })]));
  for (const o of objects) {
    const spec = podSpec(o);
    if (!spec) continue;
    const where = `${o.kind}/${o.metadata.name}`;
    const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
    for (const claim of (o as unknown as { spec: { volumeClaimTemplates?: { metadata: { name: string } }[] } }).spec.volumeClaimTemplates ?? []) volumes.add(claim.metadata.name);
    for (const v of spec.volumes ?? []) {
      const claim = (v as { persistentVolumeClaim?: { claimName: string } }).persistentVolumeClaim?.claimName;
      if (claim && !find(objects, 'PersistentVolumeClaim', claim)) problems.push(`${where}: volume ${v.name} claims ${claim}, which is not defined`);
      const secretName = (v as { secret?: { secretName: string } }).secret?.secretName;
      if (secretName && !secrets.has(secretName)) problems.push(`${where}: volume ${v.name} reads Secret ${secretName}, which is not defined`);
      const cm = (v as { configMap?: { name: string } }).configMap?.name;
      if (cm && !find(objects, 'ConfigMap', cm)) problems.push(`${where}: volume ${v.name} reads ConfigMap ${cm}, which is not defined`);
    }
    for (const c of podContainers(o)) {
      for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) problems.push(`${where} ${c.name}: mounts ${m.name}, which is no volume of the pod`);
      const known = KNOWN_ENV[imageName(c.image)];
      const names: string[] = [];
      for (const e of c.env ?? []) {
        names.push(e.name);
        const ref = e.valueFrom?.secretKeyRef;
        if (ref && !secrets.has(ref.name)) problems.push(`${where} ${c.name}: ${e.name} reads Secret ${ref.name}, which is not defined`);
        else if (ref && !secrets.get(ref.name)!.includes(ref.key)) problems.push(`${where} ${c.name}: ${e.name} reads key ${ref.key} that Secret ${ref.name} does not hold`);
      }
      for (const from of c.envFrom ?? []) {
        const name = from.secretRef?.name;
        if (name && !secrets.has(name)) problems.push(`${where} ${c.name}: envFrom reads Secret ${name}, which is not defined`);
        else if (name) names.push(...secrets.get(name)!);
      }
      if (known) for (const name of names) if (!known.has(name)) problems.push(`${where} ${c.name}: ${name} is not a setting ${imageName(c.image)} reads`);
      // The literal values must parse too (a NATS_URL list the runner refuses, a port out of range…).
      const literal = Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
      try {
        if (imageName(c.image) === 'thr-platform') readConfig(literal);
        if (imageName(c.image) === 'thr-runner') readRunnerConfig(literal);
      } catch (error) {
        problems.push(`${where} ${c.name}: ${(error as Error).message}`);
      }
    }
  }
  // Paths shared through the RWX claims must be the same in every pod that mounts them.
  const mountPaths = new Map<string, Set<string>>();
  for (const o of objects) {
    const spec = podSpec(o);
    for (const v of spec?.volumes ?? []) {
      const claim = (v as { persistentVolumeClaim?: { claimName: string } }).persistentVolumeClaim?.claimName;
      if (!claim) continue;
      for (const c of spec!.containers) for (const m of c.volumeMounts ?? []) if (m.name === v.name) mountPaths.set(claim, new Set([...(mountPaths.get(claim) ?? []), m.mountPath]));
    }
  }
  for (const [claim, paths] of mountPaths) if (paths.size > 1) problems.push(`claim ${claim} is mounted at different paths: ${[...paths].join(', ')}`);

  const runner = find(objects, 'Deployment', 'thr-runner');
  if (runner) {
    const spec = podSpec(runner)!;
    const env = Object.fromEntries((spec.containers[0]!.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    let drainMs = 0;
    try {
      drainMs = readRunnerConfig({ NATS_URL: 'nats://x:4222', ...env }).drainTimeoutMs;
    } catch {
      // Reported with the container's settings above.
    }
    if (drainMs && (spec.terminationGracePeriodSeconds ?? 30) * 1000 !== drainMs) {
      problems.push(`thr-runner: terminationGracePeriodSeconds is ${spec.terminationGracePeriodSeconds ?? 30}, the drain timeout is ${drainMs / 1000} s`);
    }
    const types = (env.RUNNER_ENVIRONMENT_TYPES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const consumers = new Set(types.map((t) => poolConsumer(t)));
    const scaled = objects.filter((o) => o.kind === 'ScaledObject');
    if (scaled.length !== 1) problems.push(`expected one ScaledObject for thr-runner, found ${scaled.length}`);
    for (const so of scaled) {
      const s = so.spec as { scaleTargetRef: { name: string }; minReplicaCount?: number; maxReplicaCount?: number; triggers: { type: string; metadata: Record<string, string> }[] };
      if (s.scaleTargetRef.name !== 'thr-runner') problems.push(`ScaledObject ${so.metadata.name} scales ${s.scaleTargetRef.name}`);
      if (s.minReplicaCount === undefined || s.maxReplicaCount === undefined) problems.push(`ScaledObject ${so.metadata.name} needs minReplicaCount and maxReplicaCount`);
      const triggered = new Set<string>();
      for (const t of s.triggers) {
        if (t.type !== 'nats-jetstream') problems.push(`ScaledObject ${so.metadata.name}: trigger ${t.type} is not nats-jetstream`);
        if (t.metadata.stream !== topology('').streams.runs.name) problems.push(`ScaledObject ${so.metadata.name}: stream ${t.metadata.stream} is not ${topology('').streams.runs.name}`);
        if (!consumers.has(t.metadata.consumer!)) problems.push(`ScaledObject ${so.metadata.name}: consumer ${t.metadata.consumer} is no pool the runners serve (${[...consumers].join(', ')})`);
        triggered.add(t.metadata.consumer!);
        for (const key of ['natsServerMonitoringEndpoint', 'account']) if (!t.metadata[key]) problems.push(`ScaledObject ${so.metadata.name}: trigger without ${key}`);
      }
      for (const c of consumers) if (!triggered.has(c)) problems.push(`ScaledObject ${so.metadata.name}: no trigger for pool consumer ${c}`);
    }
  }
  return problems;
}

describe.each(OVERLAYS)('overlay %s', (overlay) => {
  const objects = kustomizeBuild(path.join(k8sDir, 'overlays', overlay));

  it('builds, and every object passes its schema and agrees with the code', () => {
    expect(objects.length).toBeGreaterThan(10);
    expect(checkManifests(objects)).toEqual([]);
    for (const o of objects) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('thr');
  });

  it('holds what a cluster needs: 2 platform replicas, 3 NATS nodes, a PDB, RWX claims, no metrics port on the Ingress', () => {
    const platform = find(objects, 'Deployment', 'thr-platform') as unknown as { spec: { replicas: number } };
    expect(platform.spec.replicas).toBe(2);
    // The platform image's entrypoint (deploy/images/platform-entrypoint.sh) applies migrations and exits.
    expect(podSpec(find(objects, 'Deployment', 'thr-platform')!)!.initContainers![0]!.command).toEqual(['thr-platform', 'migrate']);
    expect(readFileSync(path.join(repoRoot, 'deploy/images/platform-entrypoint.sh'), 'utf8')).toMatch(/^\s+migrate\) exec node api\/dist\/db\/migrate-cli\.js ;;$/m);
    const nats = find(objects, 'StatefulSet', 'thr-nats') as unknown as { spec: { replicas: number; serviceName: string } };
    expect(nats.spec.replicas).toBe(3);
    expect((find(objects, 'Service', nats.spec.serviceName)!.spec as { clusterIP: string }).clusterIP).toBe('None');
    expect(find(objects, 'PodDisruptionBudget', 'thr-runner')).toBeDefined();
    for (const claim of ['thr-tasks', 'thr-jobs']) expect((find(objects, 'PersistentVolumeClaim', claim)!.spec as { accessModes: string[] }).accessModes).toEqual(['ReadWriteMany']);
    const ingress = find(objects, 'Ingress', 'thr-platform')!.spec as { tls: unknown[]; rules: { http: { paths: { backend: { service: { name: string; port: { name: string } } } }[] } }[] };
    expect(ingress.tls).toHaveLength(1);
    const backends = ingress.rules.flatMap((r) => r.http.paths.map((p) => p.backend.service));
    expect(backends).toEqual([{ name: 'thr-platform', port: { name: 'http' } }]);
    expect((find(objects, 'Service', 'thr-platform')!.spec as { ports: { name: string }[] }).ports.map((p) => p.name)).toEqual(['http']);
    for (const c of podContainers(find(objects, 'Deployment', 'thr-platform')!)) expect(c.image).toMatch(/^thr-platform:/);
    for (const c of podContainers(find(objects, 'Deployment', 'thr-runner')!)) expect(c.image).toMatch(/^thr-runner:/);
  });

  it('commits no real-looking secret: every value is a REPLACE placeholder or a user name', () => {
    for (const s of objects.filter((o) => o.kind === 'Secret')) {
      for (const [key, value] of Object.entries(s.stringData as Record<string, string>)) {
        if (key === 'NATS_USER') continue;
        if (key === 'users.conf') {
          expect(value).not.toMatch(/\$2[aby]\$\d\d\$(?!REPLACE)/);
          continue;
        }
        expect(value, `${s.metadata.name}.${key}`).toContain('REPLACE');
      }
    }
  });
});

it('the docker overlay mounts the Docker socket and the cloud overlay does not; the cloud one serves the four cloud types', () => {
  const runnerOf = (overlay: string) => podSpec(find(kustomizeBuild(path.join(k8sDir, 'overlays', overlay)), 'Deployment', 'thr-runner')!)!;
  const envOf = (spec: ReturnType<typeof runnerOf>) => Object.fromEntries(spec.containers[0]!.env!.map((e) => [e.name, e.value]));
  const docker = runnerOf('docker');
  expect(docker.volumes).toContainEqual({ name: 'docker-sock', hostPath: { path: '/var/run/docker.sock', type: 'Socket' } });
  expect(envOf(docker).RUNNER_ENVIRONMENT_TYPES).toBe('docker');
  const cloud = runnerOf('cloud');
  expect(JSON.stringify(cloud)).not.toContain('docker.sock');
  expect(envOf(cloud).RUNNER_ENVIRONMENT_TYPES).toBe('daytona,modal,e2b,runloop');
  const cloudConfig = readRunnerConfig({ NATS_URL: 'nats://x:4222', RUNNER_ENVIRONMENT_TYPES: envOf(cloud).RUNNER_ENVIRONMENT_TYPES });
  for (const type of cloudConfig.environmentTypes!) expect(Object.keys(ENVIRONMENT_NEEDS)).toContain(type);
});

it("the NATS users Secret is nats.conf's generated block, and the cluster config with it is one nats-server accepts", () => {
  const objects = kustomizeBuild(path.join(k8sDir, 'base'));
  const users = (find(objects, 'Secret', 'thr-nats-users')!.stringData as Record<string, string>)['users.conf']!;
  expect(users).toContain(renderAuthorization(topology(''), defaultUsers()));
  const conf = (find(objects, 'ConfigMap', 'thr-nats-config')!.data as Record<string, string>)['nats.conf']!;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'thr-k8s-nats-'));
  try {
    writeFileSync(path.join(dir, 'nats.conf'), conf.replace('/data/jetstream', path.join(dir, 'js')).replace('/var/run/nats/', `${dir}/`));
    rmSync(path.join(dir, 'auth'), { recursive: true, force: true });
    spawnSync('mkdir', [path.join(dir, 'auth')]);
    writeFileSync(path.join(dir, 'auth/users.conf'), users);
    const result = spawnSync('nats-server', ['-c', path.join(dir, 'nats.conf'), '-t'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin`, POD_NAME: 'thr-nats-0' },
    });
    expect(`${result.stdout}${result.stderr}`).toContain('is valid');
    expect(result.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The checks above must be able to fail: each broken copy below names its fault.
describe('the checker catches a broken copy', () => {
  const good = () => kustomizeBuild(path.join(k8sDir, 'overlays', 'docker'));
  const runnerSpec = (objects: K8sObject[]) => podSpec(find(objects, 'Deployment', 'thr-runner')!)!;

  it.each([
    ['an env var no config reader knows', (o: K8sObject[]) => runnerSpec(o).containers[0]!.env!.push({ name: 'RUNNER_CONCURENCY', value: '4' }), 'RUNNER_CONCURENCY is not a setting thr-runner reads'],
    ['a secretKeyRef to an undefined Secret', (o: K8sObject[]) => runnerSpec(o).containers[0]!.env!.push({ name: 'SECRETS_KEY', valueFrom: { secretKeyRef: { name: 'thr-secret-key', key: 'SECRETS_KEY' } } }), 'reads Secret thr-secret-key, which is not defined'],
    ['a mount of no volume', (o: K8sObject[]) => runnerSpec(o).containers[0]!.volumeMounts!.push({ name: 'cache', mountPath: '/cache' }), 'mounts cache, which is no volume of the pod'],
    ['a grace period shorter than the drain', (o: K8sObject[]) => (runnerSpec(o).terminationGracePeriodSeconds = 30), 'terminationGracePeriodSeconds is 30, the drain timeout is 900 s'],
    ['a KEDA consumer that does not exist', (o: K8sObject[]) => ((find(o, 'ScaledObject', 'thr-runner')!.spec as { triggers: { metadata: Record<string, string> }[] }).triggers[0]!.metadata.consumer = 'runners'), 'consumer runners is no pool'],
    ['a KEDA stream that does not exist', (o: K8sObject[]) => ((find(o, 'ScaledObject', 'thr-runner')!.spec as { triggers: { metadata: Record<string, string> }[] }).triggers[0]!.metadata.stream = 'ORDERS'), 'stream ORDERS is not RUNS'],
    ['a schema violation', (o: K8sObject[]) => ((find(o, 'Deployment', 'thr-platform')!.spec as { replicas: unknown }).replicas = 'two'), 'Deployment/thr-platform:'],
    ['a value the runner refuses', (o: K8sObject[]) => runnerSpec(o).containers[0]!.env!.push({ name: 'RUNNER_CONCURRENCY', value: 'four' }), 'RUNNER_CONCURRENCY must be a number of slots'],
    ['a tasks claim mounted elsewhere in the runner', (o: K8sObject[]) => (runnerSpec(o).containers[0]!.volumeMounts!.find((m) => m.name === 'tasks')!.mountPath = '/tasks'), 'claim thr-tasks is mounted at different paths'],
  ])('%s', (_what, breakIt, expected) => {
    const objects = good();
    breakIt(objects);
    expect(checkManifests(objects).join('\n')).toContain(expected);
  });
});
