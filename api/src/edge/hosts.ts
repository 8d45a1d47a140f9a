// The Host header check against DNS rebinding: a page on evil.example whose name an attacker points
// at 127.0.0.1 talks to this API as "same origin", but its requests still say `Host: evil.example`.
// Served: PUBLIC_URL's host, ALLOWED_HOSTS, and — when the API listens on loopback or on every
// interface — localhost, 127.0.0.1 and [::1] on the bound port. On every interface an IP literal on
// the bound port is served too: a rebinding attack needs a name, an address cannot be rebound.
import { isIP } from 'node:net';

export interface HostPolicy {
  publicUrl: URL | null;
  allowedHosts: string[];
  /** The address the server is bound to (HOST) and the port it got. */
  bindHost: string;
  port: number;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

/** Splits `name[:port]` (IPv6 in brackets); undefined for something that is no host at all. */
export function splitHost(value: string): { name: string; port: string | null } | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!match) return undefined;
  return { name: match[1]!.toLowerCase().replace(/\.$/, ''), port: match[2] ?? null };
}

/** A checker answering null for a served Host header, or why it is refused. */
export function hostChecker(policy: HostPolicy): (hostHeader: string | undefined) => string | null {
  const port = String(policy.port);
  const exact = new Set<string>();
  const anyPort = new Set<string>();
  if (policy.publicUrl) {
    exact.add(policy.publicUrl.host.toLowerCase());
    // A Host header may carry the default port explicitly.
    const defaultPort = policy.publicUrl.protocol === 'https:' ? '443' : '80';
    exact.add(`${policy.publicUrl.hostname.toLowerCase()}:${policy.publicUrl.port || defaultPort}`);
  }
  for (const entry of policy.allowedHosts) {
    const parsed = splitHost(entry);
    if (!parsed) continue;
    if (parsed.port) exact.add(`${parsed.name}:${parsed.port}`);
    else anyPort.add(parsed.name);
  }
  const wildcard = WILDCARDS.has(policy.bindHost);
  if (wildcard || isLoopback(policy.bindHost)) for (const name of LOOPBACK_NAMES) exact.add(`${name}:${port}`);
  if (!wildcard) {
    const bound = splitHost(isIP(policy.bindHost) === 6 ? `[${policy.bindHost}]` : policy.bindHost);
    if (bound) exact.add(`${bound.name}:${port}`);
  }
  // Port 80 is left out of Host headers.
  if (port === '80') for (const key of [...exact]) if (key.endsWith(':80')) exact.add(key.slice(0, -3));

  return (header) => {
    if (!header) return 'the request has no Host header';
    const parsed = splitHost(header);
    if (!parsed) return `the Host header ${JSON.stringify(header.slice(0, 100))} is not a host name`;
    const key = parsed.port ? `${parsed.name}:${parsed.port}` : parsed.name;
    if (exact.has(key) || anyPort.has(parsed.name)) return null;
    if (wildcard && isIP(parsed.name.replace(/^\[|\]$/g, '')) && (parsed.port ?? '80') === port) return null;
    return `this server does not answer to the host ${JSON.stringify(header.slice(0, 100))}; set PUBLIC_URL or ALLOWED_HOSTS to serve it`;
  };
}
