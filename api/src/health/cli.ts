// `npm run health -- --api <url> [--token <token>] [--queue-age-minutes 30]`: one line per check
// (API, database, NATS, JetStream cluster, pools, runners, queue) with OK, WARN or FAIL, and exit
// code 1 when any FAILs (2 for bad arguments). The token (or THR_TOKEN) lets the API show the cluster,
// runners and queue; without one, only the public probes are checked. Replaces the seed's health_check.sh.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export type Level = 'OK' | 'WARN' | 'FAIL';
export interface CheckLine {
  level: Level;
  check: string;
  message: string;
}

const QUERY = `query Health {
  health {
    ok version checkedAt
    database { ok latencyMs message }
    nats { ok latencyMs message }
    jetStream {
      streams { name replicas cluster leader currentFollowers laggingFollowers maxLag messages }
      consumers { stream name pending ackPending }
    }
    runners { live draining degraded lost slots busy }
    queue { runsQueued oldestQueuedAt }
  }
}`;

interface Component {
  ok: boolean;
  latencyMs: number | null;
  message: string | null;
}
interface HealthAnswer {
  ok: boolean;
  version: string;
  checkedAt: string;
  database: Component;
  nats: Component;
  jetStream: {
    streams: { name: string; replicas: number; cluster: string | null; leader: string | null; currentFollowers: number; laggingFollowers: number; maxLag: number; messages: number }[];
    consumers: { stream: string; name: string; pending: number; ackPending: number }[];
  } | null;
  runners: { live: number; draining: number; degraded: number; lost: number; slots: number; busy: number } | null;
  queue: { runsQueued: number; oldestQueuedAt: string | null } | null;
}

export interface HealthOptions {
  api: string;
  token?: string;
  /** A queue whose oldest run waited longer than this is reported WARN. */
  queueAgeMinutes: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Asks the API and turns the answer into check lines; never throws. */
export async function runHealthChecks(options: HealthOptions): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const add = (level: Level, check: string, message: string) => lines.push({ level, check, message });
  const url = `${options.api.replace(/\/+$/, '').replace(/\/graphql$/, '')}/graphql`;
  let health: HealthAnswer;
  try {
    const response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      body: JSON.stringify({ query: QUERY }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const body = (await response.json().catch(() => null)) as { data?: { health?: HealthAnswer }; errors?: { message: string; extensions?: { code?: string } }[] } | null;
    const error = body?.errors?.[0];
    if (!body?.data?.health) {
      const why = error ? `${error.message}${error.extensions?.code ? ` (${error.extensions.code})` : ''}` : `HTTP ${response.status}`;
      add('FAIL', 'api', `${url} answered without health: ${why}`);
      return lines;
    }
    health = body.data.health;
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    add('FAIL', 'api', `${url} does not answer: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    return lines;
  }
  add('OK', 'api', `${url} answers, version ${health.version}`);
  for (const [check, c] of [['database', health.database], ['nats', health.nats]] as const) {
    add(c.ok ? 'OK' : 'FAIL', check, c.ok ? `${c.message ?? 'answers'} (${c.latencyMs} ms)` : (c.message ?? 'does not answer'));
  }

  const signedIn = health.jetStream !== null || health.runners !== null || health.queue !== null;
  if (!signedIn) {
    if (options.token && health.nats.ok && health.database.ok) add('FAIL', 'token', 'the API refused the token: the cluster, runners and queue stay hidden');
    else if (!options.token) add('WARN', 'token', 'no --token (or THR_TOKEN): the cluster, runners and queue are not checked');
    return lines;
  }

  const js = health.jetStream;
  if (js) {
    if (js.streams.length === 0) add('WARN', 'jetstream', 'no RUNS, EVENTS or LOGS stream yet (the API creates them at start)');
    for (const s of js.streams) {
      const check = `stream ${s.name}`;
      if (!s.cluster) {
        add(s.replicas > 1 ? 'WARN' : 'OK', check, `single server, ${s.replicas} replica(s), ${s.messages} message(s)`);
      } else if (!s.leader) {
        add('FAIL', check, `cluster ${s.cluster} has no leader for it (quorum lost?)`);
      } else if (s.laggingFollowers > 0) {
        add('WARN', check, `leader ${s.leader}, ${s.laggingFollowers} of ${s.replicas - 1} follower(s) offline or behind (up to ${s.maxLag} operations)`);
      } else if (s.replicas < 3) {
        add('WARN', check, `leader ${s.leader} in cluster ${s.cluster}, but only ${s.replicas} replica(s): a node loss can lose it (NATS_STREAM_REPLICAS=3)`);
      } else {
        add('OK', check, `leader ${s.leader}, ${s.replicas} replicas, all current, ${s.messages} message(s)`);
      }
    }
    const pools = js.consumers.filter((c) => c.pending > 0 || c.ackPending > 0);
    add('OK', 'pools', js.consumers.length === 0 ? 'no runner consumer yet' : js.consumers.map((c) => `${c.name} ${c.pending} pending/${c.ackPending} in hand`).join(', ') + (pools.length === 0 ? ' (idle)' : ''));
  }

  const r = health.runners;
  if (r) {
    const summary = `${r.live} live, ${r.draining} draining, ${r.degraded} degraded, ${r.lost} lost; ${r.busy}/${r.slots} slots busy`;
    const pending = js?.consumers.reduce((n, c) => n + c.pending, 0) ?? 0;
    if (r.live === 0) add(pending > 0 || (health.queue?.runsQueued ?? 0) > 0 ? 'FAIL' : 'WARN', 'runners', `no live runner: ${summary}`);
    else add(r.degraded > 0 || r.lost > 0 ? 'WARN' : 'OK', 'runners', summary);
  }

  const q = health.queue;
  if (q) {
    if (!q.oldestQueuedAt) add('OK', 'queue', 'no run waiting');
    else {
      const ageMinutes = (Date.parse(health.checkedAt) - Date.parse(q.oldestQueuedAt)) / 60_000;
      const age = ageMinutes < 1 ? `${Math.round(ageMinutes * 60)} s` : `${Math.round(ageMinutes)} min`;
      add(ageMinutes > options.queueAgeMinutes ? 'WARN' : 'OK', 'queue', `${q.runsQueued} run(s) waiting, the oldest for ${age}`);
    }
  }
  return lines;
}

export function formatLine(line: CheckLine): string {
  return `${line.level.padEnd(4)}  ${line.check.padEnd(14)}  ${line.message}`;
}

async function main(): Promise<void> {
  let values: { api?: string; token?: string; 'queue-age-minutes'?: string };
  try {
    ({ values } = parseArgs({ options: { api: { type: 'string' }, token: { type: 'string' }, 'queue-age-minutes': { type: 'string' } } }));
  } catch (error) {
    console.error(`health: ${(error as Error).message}`);
    process.exit(2);
  }
  const api = values.api ?? process.env.THR_API;
  if (!api || !URL.canParse(api)) {
    console.error('health: --api must be the platform URL, like --api https://thr.example.com (or THR_API)');
    process.exit(2);
  }
  const queueAgeMinutes = Number(values['queue-age-minutes'] ?? 30);
  if (!(queueAgeMinutes > 0)) {
    console.error('health: --queue-age-minutes must be a positive number');
    process.exit(2);
  }
  const lines = await runHealthChecks({ api, token: values.token ?? process.env.THR_TOKEN, queueAgeMinutes });
  for (const line of lines) console.log(formatLine(line));
  process.exit(lines.some((l) => l.level === 'FAIL') ? 1 : 0);
}

// Run as a script (`npm run health`), not when a test imports the checks.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
