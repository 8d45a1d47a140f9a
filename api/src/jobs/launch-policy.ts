// Who may launch what: the rules that keep a launch from reaching past Harbor's sandbox — sending a
// server key to another endpoint, importing arbitrary Python on the runner host, or starting a task
// whose compose file opens the host. Pure functions of the input, the caller's role and the server's
// settings; createJob turns a refusal into InvalidInputError naming the field.
//
// The role is `ctx.viewer?.role ?? null`. null (no viewer) is treated as the least-privileged caller:
// authentication makes it unreachable in resolvers, and if it ever is reached, nothing risky passes.
import { poolImpossible, type EnvironmentType } from 'runner/protocol';
import type { Role } from '../auth/viewer.js';

export interface LaunchSettings {
  /** ALLOW_CUSTOM_AGENTS: whether `module.path:Class` agents may be launched at all (then by MEMBER and ADMIN). */
  allowCustomAgents: boolean;
  /** ENDPOINT_OVERRIDE_ROLES: who may point an agent at another endpoint, with the job's own key only. */
  endpointOverrideRoles: readonly Role[];
}

export const DEFAULT_LAUNCH_SETTINGS: LaunchSettings = { allowCustomAgents: false, endpointOverrideRoles: ['ADMIN'] };

export interface Refusal {
  field: string;
  message: string;
}

const who = (role: Role | null) => role ?? 'a caller without a role';

/**
 * Agent kwarg names that change where the agent sends its requests (and so its key), compared after
 * camelCase → snake_case and lower-casing. From Harbor's agents (0.22): terminus-2 `api_base`,
 * `llm_backend` (another LLM service), `llm_kwargs` / `llm_call_kwargs` (passed to LiteLLM, which takes
 * `api_base`, `base_url`, `custom_llm_provider`), installed agents' `extra_env` (which wins over Harbor's
 * environment: `ANTHROPIC_BASE_URL`, `OPENAI_API_BASE`, `HTTPS_PROXY`); nested objects are searched, so
 * those inner names are caught wherever they sit.
 */
const ENDPOINT_NAME = /(^|_)(url|uri|endpoint|endpoints|host|hostname|base|proxy|address|llm_backend|custom_llm_provider)$/;
/** Names that make Harbor read a file on the runner host (installed agents' `config`, `prompt_template_path`, `*_dir`). */
const HOST_PATH_NAME = /(^|_)(path|dir|directory|file)$/;

/**
 * Names of credentials (`llm_kwargs.api_key`, `extra_env.GITHUB_TOKEN`): kwargs are stored and handed to
 * Harbor in clear (the job's harborOptions, Harbor's config.json), where keys must never be.
 */
const CREDENTIAL_NAME = /(^|_)(api_key|key|secret|password|passwd|token|credential|credentials)$/;

function normalised(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase();
}

/** Every kwarg, at any depth, as its dotted path and value. */
function* kwargEntries(value: unknown, at: string): Generator<[path: string, key: string, value: unknown]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* kwargEntries(item, `${at}.${i}`);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      yield [`${at}.${key}`, key, inner];
      yield* kwargEntries(inner, `${at}.${key}`);
    }
  }
}

/** The dotted paths of kwargs that carry a credential in clear. */
export function credentialKwargs(kwargs: unknown): string[] {
  return [...kwargEntries(kwargs, 'agentKwargs')].filter(([, key, value]) => typeof value === 'string' && CREDENTIAL_NAME.test(normalised(key))).map(([p]) => p);
}

/** The dotted paths (under `agentKwargs`) of every kwarg that points the agent at another endpoint. */
export function endpointKwargs(kwargs: unknown): string[] {
  return [...kwargEntries(kwargs, 'agentKwargs')].filter(([, key]) => ENDPOINT_NAME.test(normalised(key))).map(([p]) => p);
}

/** The dotted paths of kwargs that name a file or folder on the runner host (a string value). */
export function hostPathKwargs(kwargs: unknown): string[] {
  return [...kwargEntries(kwargs, 'agentKwargs')]
    .filter(([, key, value]) => typeof value === 'string' && (HOST_PATH_NAME.test(normalised(key)) || normalised(key) === 'config'))
    .map(([p]) => p);
}

/**
 * Agent kwargs: no credentials in clear (for anyone); endpoint-changing ones never with a server default key (whatever the role: the key
 * would be sent there), and with the job's own key only for `endpointOverrideRoles`; host paths only
 * for ADMIN. `ownKey`: the launch brings its own provider key; without it the run gets the server's.
 */
export function checkAgentKwargs(kwargs: unknown, options: { role: Role | null; ownKey: boolean; settings: LaunchSettings }): Refusal | null {
  const credentials = credentialKwargs(kwargs);
  if (credentials.length > 0) {
    return {
      field: `input.harbor.${credentials[0]}`,
      message: `${credentials.join(', ')} would keep a credential in clear in the job's settings and Harbor's config; give provider keys as providerKey, which is stored encrypted`,
    };
  }
  const endpoints = endpointKwargs(kwargs);
  if (endpoints.length > 0) {
    const field = `input.harbor.${endpoints[0]}`;
    if (!options.ownKey) {
      return {
        field,
        message:
          `${endpoints.join(', ')} would send the server's default provider key to another endpoint; ` +
          'bring your own key (providerKey) to use a different endpoint',
      };
    }
    if (options.role === null || !options.settings.endpointOverrideRoles.includes(options.role)) {
      const allowed = options.settings.endpointOverrideRoles;
      return {
        field,
        message: `${who(options.role)} may not point the agent at another endpoint (${endpoints.join(', ')}); ` +
          (allowed.length > 0 ? `ENDPOINT_OVERRIDE_ROLES allows ${allowed.join(', ')}` : 'ENDPOINT_OVERRIDE_ROLES allows no role'),
      };
    }
  }
  const paths = hostPathKwargs(kwargs);
  if (paths.length > 0 && options.role !== 'ADMIN') {
    return { field: `input.harbor.${paths[0]}`, message: `${paths.join(', ')} would make Harbor read a file on the runner host; only an ADMIN may set it` };
  }
  return null;
}

/** Custom agents run arbitrary Python in Harbor's process on the runner host: off unless enabled, then MEMBER and ADMIN. */
export function checkCustomAgent(options: { custom: boolean; role: Role | null; settings: LaunchSettings }): Refusal | null {
  if (!options.custom) return null;
  if (!options.settings.allowCustomAgents) {
    return { field: 'input.agent', message: 'custom agents (module.path:Class) are disabled on this server; an ADMIN can enable them with ALLOW_CUSTOM_AGENTS=true' };
  }
  if (options.role !== 'ADMIN' && options.role !== 'MEMBER') {
    return { field: 'input.agent', message: `${who(options.role)} may not launch a custom agent; needs MEMBER or ADMIN` };
  }
  return null;
}

export interface HostAccessTask {
  name: string;
  /** Why its compose file reaches the host (task warnings with code host_access). */
  reasons: string[];
}

/** Tasks whose compose file opens the host run only when an ADMIN asks for it explicitly (allowHostAccess). */
export function checkHostAccess(tasks: readonly HostAccessTask[], options: { role: Role | null; allowHostAccess: boolean }): Refusal | null {
  if (tasks.length === 0) return null;
  if (options.allowHostAccess && options.role === 'ADMIN') return null;
  const listed = tasks.slice(0, 5).map((t) => `${t.name} (${t.reasons.join('; ')})`).join(', ');
  const more = tasks.length > 5 ? ` and ${tasks.length - 5} more` : '';
  const how = options.allowHostAccess
    ? `${who(options.role)} may not set allowHostAccess; only an ADMIN may`
    : 'an ADMIN may launch them with allowHostAccess: true';
  return { field: 'input.taskIds', message: `these tasks' docker-compose files reach the runner host: ${listed}${more}; ${how}` };
}

/** A task's needs from the runner (task.toml `[environment].os` and `gpus`). */
export interface TaskNeeds {
  name: string;
  windows: boolean;
  gpu: boolean;
}

/**
 * Refuses tasks no runner could ever run in `environmentType` (a Windows task in modal, say). A type
 * no runner serves *now* is not refused: the job waits for one (Job.waitingForRunner).
 */
export function checkEnvironmentFits(tasks: readonly TaskNeeds[], environmentType: EnvironmentType): Refusal | null {
  const misfits = tasks.flatMap((t) => {
    const why = poolImpossible({ environmentType, windows: t.windows, gpu: t.gpu });
    return why ? [`${t.name}: ${why}`] : [];
  });
  if (misfits.length === 0) return null;
  const more = misfits.length > 5 ? `; and ${misfits.length - 5} more` : '';
  return { field: 'input.harbor.environmentType', message: `these tasks cannot run in ${environmentType}: ${misfits.slice(0, 5).join('; ')}${more}` };
}
