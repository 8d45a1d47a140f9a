// Which URLs a webhook may post to. http and https only, no credentials in the URL (they would be
// shown in the UI and logs), and, unless WEBHOOK_ALLOW_PRIVATE is true, no address on a private,
// loopback, link-local or otherwise internal network.
//
// The SSRF trade-off: a webhook makes the API send requests where a user says. A self-hosted
// install usually wants exactly that (an internal Slack proxy, a CI hook on the LAN), so private
// addresses are allowed by default. On a shared or internet-facing install set
// WEBHOOK_ALLOW_PRIVATE=false: names are then resolved and every address checked when the webhook
// is saved and again before each attempt (a name may be re-pointed later), and redirects are never
// followed. A name can still be re-pointed between our check and the connection (DNS rebinding in
// a window of milliseconds); a network policy on the API's egress closes that for good.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Longest URL accepted: well above any real webhook endpoint, small enough to show. */
export const MAX_URL_LENGTH = 2_000;

const internal = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  internal.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  internal.addSubnet(net, bits, 'ipv6');
}

/** Whether an IP address is loopback, private, link-local, CGNAT, multicast or unspecified. */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return internal.check(address, 'ipv4');
  if (family === 6) {
    // IPv4-mapped (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return internal.check(mapped[1]!, 'ipv4');
    return internal.check(address, 'ipv6');
  }
  return false;
}

/** The URL's shape: returns the problem in words, or null. */
export function urlShapeProblem(text: string): string | null {
  if (text.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must use http or https, not ${url.protocol.replace(/:$/, '')}`;
  if (url.username || url.password) return 'must not carry a user name or password (put a token in the path or use the signature)';
  if (!url.hostname) return 'must name a host';
  return null;
}

/**
 * Null when the URL may be posted to; otherwise why not. With private addresses refused, the host
 * is resolved and every address it resolves to must be public.
 */
export async function urlProblem(text: string, allowPrivate: boolean): Promise<string | null> {
  const shape = urlShapeProblem(text);
  if (shape || allowPrivate) return shape;
  const host = new URL(text).hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      return `host ${host} does not resolve`;
    }
  }
  const blocked = addresses.find(isInternalAddress);
  return blocked
    ? `resolves to ${blocked}, a private or internal address; this server refuses those (WEBHOOK_ALLOW_PRIVATE=false)`
    : null;
}
