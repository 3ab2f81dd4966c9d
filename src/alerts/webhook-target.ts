// Where an org's alert webhook may point: a public https host. A URL that names — or whose DNS
// answers name — a loopback, private, link-local or otherwise internal address is refused (the
// service would be a way into the operator's network), when saved and again at every send, where
// the address checked is the one connected to (no window between a check and a second lookup).
// Exact origins in NOTIFICATION_ALLOWED_ORIGINS (tests, the sandbox) are exempt.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const INTERNAL = new BlockList();
for (const [network, prefix] of [
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
  INTERNAL.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv6');
}

/** Whether an address is one the internet can reach (IPv4-mapped IPv6 judged as IPv4). */
export function isPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return !INTERNAL.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 0) return false;
  return !INTERNAL.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The problem with a webhook URL as typed (no DNS), or null. */
export function webhookUrlProblem(raw: string, allowedOrigins: string[]): string | null {
  if (!URL.canParse(raw)) return 'webhook_url must be an absolute https URL';
  const url = new URL(raw);
  if (allowedOrigins.includes(url.origin)) return null;
  if (url.protocol !== 'https:') return 'webhook_url must use https';
  if (url.username || url.password) return 'webhook_url must not carry a user name or password';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !isPublicAddress(host))
    return 'webhook_url must not point at a private or loopback address';
  if (/^localhost$|\.localhost$|\.local$|\.internal$/i.test(host)) {
    return 'webhook_url must be a public host name';
  }
  return null;
}

/** Every address the URL's host resolves to is public (or its origin is allowed); else the problem. */
export async function webhookAddressProblem(raw: string, allowedOrigins: string[]): Promise<string | null> {
  const url = new URL(raw);
  if (allowedOrigins.includes(url.origin)) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host))
    return isPublicAddress(host) ? null : 'webhook_url must not point at a private or loopback address';
  const addresses = await new Promise<LookupAddress[] | Error>((resolve) =>
    dnsLookup(host, { all: true }, (error, found) => resolve(error ?? found)),
  );
  if (addresses instanceof Error) return `webhook_url's host ${host} does not resolve (${addresses.message})`;
  const internal = addresses.find((a) => !isPublicAddress(a.address));
  return internal ? `webhook_url's host ${host} resolves to a private address (${internal.address})` : null;
}

/**
 * A `lookup` for node:http(s) that connects only to public addresses: the check happens on the
 * address the socket will use. With an allowed origin it resolves as usual.
 */
export function publicOnlyLookup(allowed: boolean): typeof dnsLookup {
  return ((hostname: string, options: object, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error);
      const usable = allowed ? addresses : addresses.filter((a) => isPublicAddress(a.address));
      if (usable.length === 0) {
        return callback(new Error(`${hostname} resolves only to private or loopback addresses; not sent`));
      }
      if ((options as { all?: boolean }).all) return callback(null, usable);
      return callback(null, usable[0].address, usable[0].family);
    });
  }) as typeof dnsLookup;
}
