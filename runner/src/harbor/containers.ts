// Taking a trial's Docker environment down when Harbor could not: after the runner SIGKILLed it past
// the cancel grace, after it died without a trial result, and for an earlier delivery's trial
// (leftovers.ts). Harbor's own teardown is `docker compose down` of the trial's compose project
// (harbor-contract.md §3), which a SIGKILL or a second signal cuts short. The runner has no compose
// files for it, so it removes what carries the trial's project labels instead — containers (with
// their anonymous volumes), then networks and named volumes — through the Docker Engine API over
// DOCKER_HOST or /var/run/docker.sock: neither the docker CLI nor its compose plugin is needed.
// Bounded in time, logged, never throws: a failure here must not change the run's outcome.
import http from 'node:http';

/** The label Docker Compose puts on everything of a project. */
export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';

/** One takedown (every request of it) is cut off after this: a stuck engine must not hold the slot. */
export const TAKEDOWN_TIMEOUT_MS = 60_000;

/** Engine answers are small lists; a bigger one is not an engine. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** Docker Compose's rule for project names, as Harbor applies it to a trial's session id. */
function composeProjectName(name: string): string {
  const lower = name.toLowerCase();
  return (/^[a-z0-9]/.test(lower) ? lower : `0${lower}`).replace(/[^a-z0-9_-]/g, '-');
}

/**
 * Whether a compose project is one of a trial's environments. Harbor names the project after the
 * environment's session id: `<trial_name>__env` in some versions, the bare trial name in others, and
 * versions with a separate verifier environment add another (`<trial_name>…verifier…`), all seen in
 * Harbor's source (src/harbor/trial/trial.py). The trial name ends in 7 random characters, so its
 * project name followed by nothing, `_` or `-` is this trial's and no other's.
 */
export function belongsToTrial(trialName: string): (project: string) => boolean {
  const base = composeProjectName(trialName);
  return (project) => project === base || project.startsWith(`${base}_`) || project.startsWith(`${base}-`);
}

export type EngineEndpoint = { socketPath: string } | { host: string; port: number };

/** Where the Docker engine listens, from DOCKER_HOST as the docker CLI reads it; a string says why not. */
export function engineEndpoint(env: NodeJS.ProcessEnv = process.env): EngineEndpoint | string {
  const dockerHost = env.DOCKER_HOST?.trim();
  if (!dockerHost) return { socketPath: '/var/run/docker.sock' };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  if (dockerHost.startsWith('tcp://')) {
    if (env.DOCKER_TLS_VERIFY) return `DOCKER_HOST ${dockerHost} needs TLS (DOCKER_TLS_VERIFY), which the runner does not speak`;
    const url = URL.parse(`http://${dockerHost.slice('tcp://'.length)}`);
    if (!url) return `DOCKER_HOST ${dockerHost} is not a host and port`;
    return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 2375) };
  }
  return `DOCKER_HOST ${dockerHost} is neither unix:// nor tcp://`;
}

function describeEndpoint(endpoint: EngineEndpoint): string {
  return 'socketPath' in endpoint ? `unix://${endpoint.socketPath}` : `tcp://${endpoint.host}:${endpoint.port}`;
}

class EngineError extends Error {}

/** One request to the engine: its status and parsed JSON body (null when empty). */
function request(endpoint: EngineEndpoint, method: 'GET' | 'DELETE', path: string, signal: AbortSignal): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...endpoint, method, path, signal, headers: { host: 'docker', accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) req.destroy(new EngineError(`${method} ${path}: answer larger than ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = null;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          body = text;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function engineMessage(body: unknown): string {
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  return typeof body === 'string' ? body.slice(0, 300) : JSON.stringify(body)?.slice(0, 300) ?? '';
}

/** What a list answer names (`Id`, or `Name` for volumes) with its compose project; `key` picks the list out of an object answer. */
function labelled(answer: { status: number; body: unknown }, what: string, field: 'Id' | 'Name', key?: string): { id: string; project: string }[] {
  if (answer.status !== 200) throw new EngineError(`listing ${what}: HTTP ${answer.status} ${engineMessage(answer.body)}`);
  const list = key ? (answer.body as Record<string, unknown> | null)?.[key] : answer.body;
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) throw new EngineError(`listing ${what}: the engine answered with something that is not a list`);
  return list.flatMap((item) => {
    const id = (item as Record<string, unknown>)?.[field];
    const project = ((item as { Labels?: Record<string, unknown> | null })?.Labels ?? {})[COMPOSE_PROJECT_LABEL];
    return typeof id === 'string' && id !== '' && typeof project === 'string' ? [{ id, project }] : [];
  });
}

interface Removed {
  projects: Set<string>;
  containers: number;
  networks: number;
  volumes: number;
}

async function removeTrialProjects(endpoint: EngineEndpoint, mine: (project: string) => boolean, signal: AbortSignal): Promise<Removed> {
  // Every compose-labelled thing, picked by its project here: the engine filters labels by exact value only.
  const filters = encodeURIComponent(JSON.stringify({ label: [COMPOSE_PROJECT_LABEL] }));
  const removed: Removed = { projects: new Set(), containers: 0, networks: 0, volumes: 0 };
  const remove = async (item: { id: string; project: string }, path: string, what: string) => {
    const answer = await request(endpoint, 'DELETE', path, signal);
    // 404: gone meanwhile (Harbor's own teardown, or a container removed with --rm).
    if (answer.status >= 300 && answer.status !== 404) throw new EngineError(`removing ${what}: HTTP ${answer.status} ${engineMessage(answer.body)}`);
    if (answer.status !== 404) removed.projects.add(item.project);
    return answer.status !== 404;
  };
  const list = async (path: string, what: string, field: 'Id' | 'Name', key?: string) =>
    labelled(await request(endpoint, 'GET', `${path}filters=${filters}`, signal), what, field, key).filter((item) => mine(item.project));
  // Containers first: a network or volume still in use cannot be removed.
  for (const c of await list('/containers/json?all=1&', 'containers', 'Id')) {
    if (await remove(c, `/containers/${encodeURIComponent(c.id)}?force=1&v=1`, `container ${c.id.slice(0, 12)}`)) removed.containers += 1;
  }
  for (const n of await list('/networks?', 'networks', 'Id')) {
    if (await remove(n, `/networks/${encodeURIComponent(n.id)}`, `network ${n.id.slice(0, 12)}`)) removed.networks += 1;
  }
  for (const v of await list('/volumes?', 'volumes', 'Name', 'Volumes')) {
    if (await remove(v, `/volumes/${encodeURIComponent(v.id)}`, `volume ${v.id}`)) removed.volumes += 1;
  }
  return removed;
}

export interface TakeDownOptions {
  /** Why, for the log line ("Harbor was killed after the cancel grace"). */
  why: string;
  log(line: string): void;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Removes a trial's compose project(s) from the Docker engine; logs what it did or why it could not. */
export async function takeDownTrialEnvironment(trialName: string, o: TakeDownOptions): Promise<void> {
  const endpoint = engineEndpoint(o.env ?? process.env);
  if (typeof endpoint === 'string') {
    o.log(`cannot take down the containers of trial ${trialName} (${o.why}): ${endpoint}`);
    return;
  }
  const signal = AbortSignal.timeout(o.timeoutMs ?? TAKEDOWN_TIMEOUT_MS);
  let removed: Removed;
  try {
    removed = await removeTrialProjects(endpoint, belongsToTrial(trialName), signal);
  } catch (error) {
    const message = signal.aborted ? `no answer within ${o.timeoutMs ?? TAKEDOWN_TIMEOUT_MS} ms` : (error as Error).message;
    o.log(`cannot take down the containers of trial ${trialName} (${o.why}) through the Docker engine at ${describeEndpoint(endpoint)}: ${message}`);
    return;
  }
  if (removed.projects.size === 0) {
    o.log(`no containers of trial ${trialName} were left in the Docker engine (${o.why})`);
    return;
  }
  o.log(
    `took down compose project ${[...removed.projects].sort().join(', ')} of trial ${trialName} (${o.why}): ` +
      `removed ${removed.containers} container(s), ${removed.networks} network(s), ${removed.volumes} volume(s)`,
  );
}
