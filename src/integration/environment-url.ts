import { parseDynamicsHost } from '../microsoft/dynamics-domains.js';

type Normalised = { url: string } | { problem: string };

/**
 * Normalises an environment URL and checks it before any network call: `https://<org>.<known
 * Dynamics suffix>` (or `<org>.api.<suffix>`), lowercased, no trailing slash, no path, query,
 * fragment, user info, port or IP literal; or exactly one of DYNAMICS_ALLOWED_ORIGINS.
 * Returns the normalised URL, or the reason it is refused.
 */
export function normaliseEnvironmentUrl(raw: string, allowedOrigins: string[]): Normalised {
  return normaliseOrigin(raw, allowedOrigins, {
    example: 'https://yourorg.crm.dynamics.com',
    accepts: (host) => parseDynamicsHost(host) !== undefined,
    refusal:
      'must be a Dynamics 365 environment address such as https://yourorg.crm.dynamics.com (crm2…crm22.dynamics.com, ' +
      'crm.microsoftdynamics.us, crm.appsplatform.us or crm.dynamics.cn)',
  });
}

/** `m-<organization id>.<geo>.omnichannelengagementhub.com`: the Omnichannel Messaging API host. */
const MESSAGING_HOST =
  /^m-[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\.[a-z0-9-]{1,63}\.omnichannelengagementhub\.com$/;

/** The Messaging API endpoint, by the same rules as the environment URL. */
export function normaliseMessagingEndpoint(raw: string, allowedOrigins: string[]): Normalised {
  return normaliseOrigin(raw, allowedOrigins, {
    example: 'https://m-<organization id>.<geo>.omnichannelengagementhub.com',
    accepts: (host) => MESSAGING_HOST.test(host),
    refusal:
      'must be the Omnichannel Messaging API address, https://m-<organization id>.<geo>.omnichannelengagementhub.com',
  });
}

function normaliseOrigin(
  raw: string,
  allowedOrigins: string[],
  rule: { example: string; accepts: (host: string) => boolean; refusal: string },
): Normalised {
  const input = raw.trim();
  if (!URL.canParse(input)) return { problem: `must be a URL like ${rule.example}` };
  const url = new URL(input);
  const origin = url.origin.toLowerCase();
  const bare = url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  if (bare && allowedOrigins.includes(origin) && !/^[a-z]+:\/\/[^/]*@/i.test(input)) return { url: origin };

  if (url.protocol !== 'https:') return { problem: 'must use https://' };
  if (url.username || url.password || /^https:\/\/[^/]*@/i.test(input))
    return { problem: 'must not contain user info (user@…)' };
  // An IPv6 literal is one bracketed unit (its colons are not a port).
  if (/^https:\/\/(\[[^\]]*\]|[^/:?#[]*):/i.test(input)) return { problem: 'must not contain a port' };
  if (url.search || input.includes('?')) return { problem: 'must not contain a query string (?…)' };
  if (url.hash || input.includes('#')) return { problem: 'must not contain a fragment (#…)' };
  if (url.pathname !== '/') {
    return { problem: `must not contain a path: use only the address, without "${url.pathname}"` };
  }
  const host = url.hostname.toLowerCase();
  if (
    host.startsWith('[') ||
    /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ||
    /^[\d.]+$/.test(host) ||
    /^0x/i.test(host)
  ) {
    return { problem: 'must be a host name, not an IP address' };
  }
  if (!rule.accepts(host)) return { problem: rule.refusal };
  return { url: `https://${host}` };
}
