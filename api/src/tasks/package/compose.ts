// What a task's environment/docker-compose.yaml would give its containers of the runner host. Harbor
// runs `docker compose` with the task's file on the runner, so `privileged: true` or a bind mount of
// `/` hands the agent under test (and whoever uploaded the task) the host. Uploads are accepted (a
// task may legitimately need it); each finding becomes a `host_access` warning on the task, and
// createJob refuses such tasks unless an ADMIN asks for it (jobs/launch-policy.ts).
import path from 'node:path';
import { parse } from 'yaml';

/** Compose keys whose value `host` shares a host namespace with the container. */
const HOST_NAMESPACES = ['network_mode', 'pid', 'ipc', 'userns_mode', 'uts', 'cgroup'] as const;
const DOCKER_SOCKET = /(^|\/)docker\.sock$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Why a host path used from the compose file reaches outside the task: absolute (or `~`), or a
 * relative path that climbs out of the task folder. `composeDir` is the compose file's folder relative
 * to the task root ('environment'). Null when the path stays inside the task.
 */
function hostPathProblem(source: string, composeDir: string): string | null {
  if (DOCKER_SOCKET.test(source)) return `mounts the Docker socket (${source}): full control of the runner's Docker`;
  if (source.startsWith('/') || source.startsWith('~') || /^[A-Za-z]:[\\/]/.test(source)) return `mounts the host path ${source}`;
  const resolved = path.posix.normalize(path.posix.join(composeDir, source.replaceAll('\\', '/')));
  if (resolved === '..' || resolved.startsWith('../')) return `mounts ${source}, outside the task folder`;
  return null;
}

/** A short-syntax volume `src:dst[:mode]`: the source when it is a path (named volumes have no `/` or `.`). */
function shortVolumeSource(volume: string): string | null {
  const parts = volume.split(':');
  if (parts.length < 2) return null; // an anonymous volume: container path only
  // A Windows drive letter (C:\x:/y) is one part.
  const source = /^[A-Za-z]$/.test(parts[0]!) && parts.length > 2 ? `${parts[0]}:${parts[1]}` : parts[0]!;
  return /^[./~]|^[A-Za-z]:[\\/]/.test(source) || source.includes('/') ? source : null;
}

function serviceFindings(name: string, service: Obj, composeDir: string): string[] {
  const found: string[] = [];
  const say = (what: string) => found.push(`service ${name}: ${what}`);
  if (service.privileged === true || service.privileged === 'true') say('privileged: true');
  for (const key of HOST_NAMESPACES) {
    if (typeof service[key] === 'string' && service[key].trim().toLowerCase() === 'host') say(`${key}: host`);
  }
  if (list(service.cap_add).length > 0) say(`cap_add: ${list(service.cap_add).map(String).join(', ')}`);
  if (list(service.devices).length > 0) say(`devices: ${list(service.devices).map((d) => (isObj(d) ? String(d.source) : String(d))).join(', ')}`);
  if (list(service.device_cgroup_rules).length > 0) say('device_cgroup_rules');
  for (const opt of list(service.security_opt).map(String)) {
    if (/unconfined|label[:=]disable/i.test(opt)) say(`security_opt: ${opt}`);
  }
  for (const volume of list(service.volumes)) {
    let source: string | null = null;
    if (typeof volume === 'string') source = shortVolumeSource(volume);
    else if (isObj(volume) && (volume.type === 'bind' || volume.type === undefined) && typeof volume.source === 'string') {
      source = volume.type === 'bind' ? volume.source : shortVolumeSource(`${volume.source}:x`);
    }
    const problem = source === null ? null : hostPathProblem(source, composeDir);
    if (problem) say(problem);
  }
  const build = service.build;
  const context = typeof build === 'string' ? build : isObj(build) && typeof build.context === 'string' ? build.context : null;
  if (context !== null && !/^[a-z]+:\/\//i.test(context)) {
    const problem = hostPathProblem(context, composeDir);
    if (problem) say(`build context ${problem.replace(/^mounts /, '')}`);
  }
  const envFiles = list(service.env_file).length > 0 ? list(service.env_file) : typeof service.env_file === 'string' ? [service.env_file] : [];
  for (const file of envFiles) {
    const p = typeof file === 'string' ? file : isObj(file) && typeof file.path === 'string' ? file.path : null;
    const problem = p === null ? null : hostPathProblem(p, composeDir);
    if (problem) say(`env_file reads ${problem.replace(/^mounts (the host path )?/, '')}`);
  }
  if (isObj(service.extends) && typeof service.extends.file === 'string') {
    const problem = hostPathProblem(service.extends.file, composeDir);
    if (problem) say(`extends a file ${problem.replace(/^mounts (the host path )?/, '')}`);
  }
  return found;
}

/**
 * Every way the compose file reaches the host, in words. A file that cannot be read is itself a
 * finding: what cannot be inspected cannot be trusted.
 */
export function composeHostAccess(text: string, composeDir = 'environment'): string[] {
  let doc: unknown;
  try {
    // Aliases are capped (a "billion laughs" file fails); merge keys are resolved as compose does.
    doc = parse(text, { merge: true, maxAliasCount: 1_000, prettyErrors: false });
  } catch (error) {
    return [`the compose file cannot be read as YAML (${(error as Error).message.split('\n')[0]}), so it cannot be checked`];
  }
  if (doc === null || doc === undefined) return [];
  if (!isObj(doc)) return ['the compose file is not a mapping, so it cannot be checked'];
  const found: string[] = [];
  if (isObj(doc.services)) {
    for (const [name, service] of Object.entries(doc.services)) if (isObj(service)) found.push(...serviceFindings(name, service, composeDir));
  }
  // Named volumes can be host binds in disguise: driver_opts { type: none, o: bind, device: /etc }.
  if (isObj(doc.volumes)) {
    for (const [name, volume] of Object.entries(doc.volumes)) {
      const device = isObj(volume) && isObj(volume.driver_opts) ? volume.driver_opts.device : undefined;
      const problem = typeof device === 'string' ? hostPathProblem(device, composeDir) : null;
      if (problem) found.push(`volume ${name}: ${problem.replace(/^mounts/, 'binds')}`);
    }
  }
  for (const section of ['secrets', 'configs'] as const) {
    if (!isObj(doc[section])) continue;
    for (const [name, entry] of Object.entries(doc[section])) {
      const file = isObj(entry) ? entry.file : undefined;
      const problem = typeof file === 'string' ? hostPathProblem(file, composeDir) : null;
      if (problem) found.push(`${section} ${name}: reads ${problem.replace(/^mounts (the host path )?/, '')}`);
    }
  }
  return found;
}
