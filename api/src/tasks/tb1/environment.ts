// A TB1 task's container (tb2-task-format.md §4 "docker-compose.yaml" and the Dockerfile row): the
// compose file either collapses into Dockerfile lines or becomes a Harbor compose file whose main
// service is `main`; the old harness base images are replaced by the public ones TB2 uses.
import { parse, stringify } from 'yaml';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What the TB1 harness wrote when a task had no compose file of its own. */
const DEFAULT_VOLUMES = new Set([
  '${T_BENCH_TASK_LOGS_PATH}:${T_BENCH_CONTAINER_LOGS_PATH}',
  '${T_BENCH_TASK_AGENT_LOGS_PATH}:${T_BENCH_CONTAINER_AGENT_LOGS_PATH}',
]);
const DEFAULT_ENV = 'TEST_DIR=${T_BENCH_TEST_DIR}';
/** Variables the harness set for every task; anything else T_BENCH_* was task-specific harness state. */
const HARNESS_VARIABLES = new Set([
  'T_BENCH_TASK_DOCKER_CLIENT_IMAGE_NAME',
  'T_BENCH_TASK_DOCKER_CLIENT_CONTAINER_NAME',
  'T_BENCH_TEST_DIR',
  'T_BENCH_TASK_LOGS_PATH',
  'T_BENCH_CONTAINER_LOGS_PATH',
  'T_BENCH_TASK_AGENT_LOGS_PATH',
  'T_BENCH_CONTAINER_AGENT_LOGS_PATH',
  'T_BENCH_TASK_DOCKER_NAME_PREFIX',
]);
/** Main-service keys that can become Dockerfile lines (or are replaced by Harbor's own). */
const COLLAPSIBLE_KEYS = new Set(['build', 'image', 'container_name', 'command', 'volumes', 'environment', 'working_dir', 'expose', 'entrypoint', 'platform']);
/** Keys of the main service Harbor's compose template sets itself. */
const HARBOR_REPLACES = new Set(['build', 'image', 'container_name', 'command', 'environment', 'volumes', 'deploy']);
const HARBOR_MAIN = {
  build: { context: '${CONTEXT_DIR}' },
  image: '${MAIN_IMAGE_NAME}',
  command: ['sh', '-c', 'sleep infinity'],
  environment: ['TEST_DIR=${TEST_DIR}'],
  deploy: { resources: { limits: { cpus: '${CPUS}', memory: '${MEMORY}' } } },
};

export interface ComposePlan {
  /** The main service's build context inside the TB1 task ('.' = the task folder). */
  context: string;
  /** Its Dockerfile, relative to the context. */
  dockerfile: string;
  /** Lines appended to the Dockerfile; `platform` goes on the FROM lines. */
  additions: string[];
  platform: string | null;
  /** environment/docker-compose.yaml when the file cannot collapse into the Dockerfile. */
  compose: string | null;
  reasons: string[];
  warnings: string[];
}

function usedVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{?(T_BENCH_[A-Z0-9_]+)/g)].map((m) => m[1]!))].sort();
}

function envLines(environment: unknown): string[] {
  const entries: Array<[string, string | null]> = Array.isArray(environment)
    ? environment.map(String).map((e) => (e.includes('=') ? [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] : [e, null]))
    : isObj(environment)
      ? Object.entries(environment).map(([k, v]) => [k, v === null || v === undefined ? null : String(v)])
      : [];
  return entries
    .filter(([k, v]) => `${k}=${v}` !== DEFAULT_ENV)
    .map(([k, v]) => (v === null ? `ENV ${k}` : `ENV ${k}=${JSON.stringify(v)}`));
}

function buildOf(service: Obj): { context: string; dockerfile: string } {
  const build = service.build;
  if (typeof build === 'string') return { context: build, dockerfile: 'Dockerfile' };
  if (isObj(build)) {
    return {
      context: typeof build.context === 'string' ? build.context : '.',
      dockerfile: typeof build.dockerfile === 'string' ? build.dockerfile : 'Dockerfile',
    };
  }
  return { context: '.', dockerfile: 'Dockerfile' };
}

const normalise = (p: string) => p.replace(/^\.\/+/, '').replace(/\/+$/, '') || '.';

/** `text` null = no compose file: the harness default (one `client` built from the task folder). */
export function planCompose(text: string | null): ComposePlan {
  const plan: ComposePlan = { context: '.', dockerfile: 'Dockerfile', additions: ['ENV TEST_DIR=/tests'], platform: null, compose: null, reasons: [], warnings: [] };
  if (text === null) {
    plan.warnings.push('no docker-compose.yaml: the TB1 harness default (one service built from the task folder) was assumed');
    return plan;
  }
  let doc: unknown;
  try {
    doc = parse(text, { merge: true, maxAliasCount: 100, prettyErrors: false });
  } catch (error) {
    plan.reasons.push(`docker-compose.yaml is not valid YAML (${(error as Error).message.split('\n')[0]})`);
    return plan;
  }
  if (!isObj(doc) || !isObj(doc.services) || Object.keys(doc.services).length === 0) {
    plan.reasons.push('docker-compose.yaml defines no services');
    return plan;
  }
  const services = doc.services;
  const mainName = 'client' in services ? 'client' : Object.keys(services)[0]!;
  const main = services[mainName];
  if (!isObj(main)) {
    plan.reasons.push(`docker-compose.yaml service "${mainName}" is not a mapping`);
    return plan;
  }
  const unknownVariables = usedVariables(text).filter((v) => !HARNESS_VARIABLES.has(v));
  if (unknownVariables.length > 0) {
    plan.reasons.push(`docker-compose.yaml uses harness variables Harbor does not set: ${unknownVariables.join(', ')}`);
  }
  for (const [name, service] of Object.entries(services)) {
    if (!isObj(service)) continue;
    if (service.privileged === true || service.privileged === 'true') plan.reasons.push(`docker-compose.yaml service "${name}" is privileged`);
    if (Array.isArray(service.devices) && service.devices.length > 0) plan.reasons.push(`docker-compose.yaml service "${name}" maps host devices`);
  }
  if (main.build === undefined) {
    plan.reasons.push(`docker-compose.yaml main service "${mainName}" has no build: Harbor builds the task's own image; set [environment].docker_image by hand`);
  }
  const { context, dockerfile } = buildOf(main);
  plan.context = normalise(context);
  plan.dockerfile = dockerfile;
  if (plan.context.startsWith('..') || plan.context.startsWith('/')) plan.reasons.push(`the main service builds from ${context}, outside the task`);

  plan.additions.push(...envLines(main.environment));
  if (typeof main.working_dir === 'string') {
    if (main.working_dir.includes('${')) plan.warnings.push(`working_dir ${main.working_dir} uses a variable and was dropped`);
    else plan.additions.push(`WORKDIR ${main.working_dir}`);
  }
  for (const port of Array.isArray(main.expose) ? main.expose : main.expose === undefined ? [] : [main.expose]) plan.additions.push(`EXPOSE ${String(port)}`);
  if (main.entrypoint !== undefined) {
    const list = Array.isArray(main.entrypoint) ? main.entrypoint.map(String) : [String(main.entrypoint)];
    plan.additions.push(`ENTRYPOINT ${JSON.stringify(list)}`);
  }
  if (typeof main.platform === 'string') plan.platform = main.platform;

  const volumes = Array.isArray(main.volumes) ? main.volumes : [];
  const collapsible =
    Object.keys(services).length === 1 &&
    Object.keys(doc).every((k) => k === 'services' || k === 'version') &&
    Object.keys(main).every((k) => COLLAPSIBLE_KEYS.has(k)) &&
    volumes.every((v) => typeof v === 'string' && DEFAULT_VOLUMES.has(v));
  if (collapsible) {
    const command = main.command;
    const sleeps = Array.isArray(command) && command.join(' ') === 'sh -c sleep infinity';
    if (command !== undefined && !sleeps) plan.warnings.push(`the main service's command ${JSON.stringify(command)} was dropped: Harbor keeps the container running itself`);
    return plan;
  }

  // A compose environment: Harbor's main service plus the task's other keys and services.
  const converted: Obj = { services: {} };
  for (const [key, value] of Object.entries(doc)) if (key !== 'services' && key !== 'version') converted[key] = value;
  const harborMain: Obj = structuredClone(HARBOR_MAIN);
  for (const [key, value] of Object.entries(main)) if (!HARBOR_REPLACES.has(key)) harborMain[key] = value;
  (converted.services as Obj).main = harborMain;
  for (const [name, service] of Object.entries(services)) if (name !== mainName) (converted.services as Obj)[name] = service;
  const written = stringify(converted).replaceAll('${T_BENCH_TASK_DOCKER_NAME_PREFIX}', 'hb');
  const leftover = usedVariables(written).filter((v) => HARNESS_VARIABLES.has(v));
  if (leftover.length > 0) plan.reasons.push(`docker-compose.yaml still needs harness variables outside the main service: ${leftover.join(', ')}`);
  const customVolumes = volumes.filter((v) => !(typeof v === 'string' && DEFAULT_VOLUMES.has(v)));
  if (customVolumes.length > 0) plan.warnings.push(`volumes of the main service dropped (Harbor mounts its own): ${customVolumes.map(String).join(', ')}`);
  plan.compose = written;
  if (Object.keys(services).length > 1) {
    plan.warnings.push(`multi-container task (${Object.keys(services).join(', ')}): "${mainName}" became "main"; check the other services by hand`);
  }
  return plan;
}

/** Base images the TB1 harness published, and the public images TB2 replaced them with. */
const BASE_IMAGES: Array<[RegExp, string]> = [
  [/^ghcr\.io\/laude-institute\/t-bench\/python-3-13(:\S+)?$/, 'python:3.13-slim-bookworm'],
  [/^ghcr\.io\/laude-institute\/t-bench\/ubuntu-24-04(:\S+)?$/, 'ubuntu:24.04'],
];

/**
 * The Dockerfile for Harbor: old base images replaced (then WORKDIR /app, which they set), the
 * compose platform on every FROM, the compose-derived lines appended.
 */
export function rewriteDockerfile(
  text: string,
  plan: ComposePlan,
  note: { changed: (message: string) => void; warn: (message: string) => void },
): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (const line of lines) {
    const match = /^(\s*FROM\s+)((?:--\S+\s+)*)(\S+)(.*)$/i.exec(line);
    if (!match) {
      out.push(line);
      continue;
    }
    const [, from, flags, image, rest] = match as unknown as [string, string, string, string, string];
    const replacement = BASE_IMAGES.find(([pattern]) => pattern.test(image))?.[1];
    let newFlags = flags;
    if (plan.platform) newFlags = /--platform=\S+/.test(flags) ? flags.replace(/--platform=\S+/, `--platform=${plan.platform}`) : `--platform=${plan.platform} ${flags}`;
    if (replacement) {
      out.push(`${from}${newFlags}${replacement}${rest}`, 'WORKDIR /app');
      note.changed(`Dockerfile: base image ${image} (TB1 harness) replaced by ${replacement}, then WORKDIR /app as the old image set it`);
    } else {
      out.push(`${from}${newFlags}${image}${rest}`);
      if (/^ghcr\.io\/laude-institute\//.test(image)) note.warn(`Dockerfile: base image ${image} was built for the TB1 harness; check it can still be pulled`);
    }
  }
  let result = out.join('\n');
  if (!result.endsWith('\n')) result += '\n';
  return `${result}\n# Mapped from the TB1 docker-compose.yaml and harness\n${plan.additions.join('\n')}\n`;
}
