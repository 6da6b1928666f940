/**
 * Where a webhook may be sent. A subscription's URL is checked when it is saved and its host resolved
 * again at every delivery: the dispatcher connects to the very address that was checked (no second
 * lookup that DNS rebinding could answer differently). Refused unless configured otherwise: plain http,
 * credentials in the URL, and any address that is not public unicast (private, loopback, link-local,
 * CGNAT, documentation, benchmarking, multicast, reserved; IPv4-mapped and 6to4/NAT64 forms of them too).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface TargetPolicy {
  allowHttp: boolean;
  allowPrivate: boolean;
}

export class TargetRefused extends Error {}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  // ::/96 holds :: and ::1 and the deprecated IPv4-compatible addresses (::127.0.0.1), none of them public.
  ['::', 96],
  // SIIT's IPv4-translated addresses (::ffff:0:a.b.c.d) and the local-use NAT64 prefix (RFC 8215), whose
  // translator may sit inside the network: not globally reachable (IANA special-purpose registry).
  ['::ffff:0:0:0', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** The eight 16-bit groups of an IPv6 address (dotted IPv4 tail included). */
function groups(ip: string): number[] {
  let text = ip.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, dotted.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = part(head);
  const right = part(tail);
  return tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** The IPv4 address an IPv6 address carries (mapped, NAT64 well-known prefix, 6to4), if any. */
function embeddedV4(ip: string): string | undefined {
  const g = groups(ip);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return v4(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  return undefined;
}

/** True when `ip` is a public unicast address a webhook may be delivered to. */
export function isPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return !blocked.check(ip, 'ipv4');
  if (family !== 6) return false;
  const inner = embeddedV4(ip);
  if (inner !== undefined) return isPublicAddress(inner);
  return !blocked.check(ip, 'ipv6');
}

/** Checks the URL's form; throws TargetRefused with a reason a user can act on. */
export function checkTargetUrl(raw: string, policy: TargetPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefused('url is not an absolute URL');
  }
  if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:')) {
    throw new TargetRefused(policy.allowHttp ? 'url must use https or http' : 'url must use https');
  }
  if (url.username || url.password) throw new TargetRefused('url must not carry credentials');
  if (url.hash) throw new TargetRefused('url must not have a fragment');
  const host = hostOf(url);
  if (isIP(host) && !policy.allowPrivate && !isPublicAddress(host)) {
    throw new TargetRefused(`url points to a non-public address (${host})`);
  }
  return url;
}

/** The URL's host without IPv6 brackets. */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Lookup = (host: string) => Promise<ResolvedAddress[]>;

const systemLookup: Lookup = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family as 4 | 6,
  }));

/**
 * Resolves the URL's host and refuses it when any of its addresses is not public (a name with one public
 * and one private address could be steered to the private one). Returns the addresses to connect to.
 */
export async function resolveTarget(
  url: URL,
  policy: TargetPolicy,
  lookup: Lookup = systemLookup,
): Promise<ResolvedAddress[]> {
  const host = hostOf(url);
  const family = isIP(host);
  let addresses: ResolvedAddress[];
  if (family !== 0) addresses = [{ address: host, family: family as 4 | 6 }];
  else {
    try {
      addresses = await lookup(host);
    } catch (error) {
      throw new TargetRefused(`host ${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (addresses.length === 0) throw new TargetRefused(`host ${host} has no address`);
  if (!policy.allowPrivate) {
    const inner = addresses.find((a) => !isPublicAddress(a.address));
    if (inner) throw new TargetRefused(`host ${host} resolves to a non-public address (${inner.address})`);
  }
  return addresses;
}
