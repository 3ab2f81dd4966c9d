// Parsers for single environment variables: each turns the raw text into a typed value or says,
// in one sentence, why it is refused. Values of secret keys are never repeated in a message.
import { validateCronExpression } from 'cron';

export class Invalid {
  constructor(readonly message: string) {}
}

export type Parse<T> = (raw: string) => T | Invalid;

export interface KeySpec<T> {
  parse: Parse<T>;
  default: T;
}

export const key = <T>(parse: Parse<T>, fallback: T): KeySpec<T> => ({ parse, default: fallback });

export const text: Parse<string> = (raw) => raw;

export function integer(min: number, max: number): Parse<number> {
  return (raw) => {
    const n = Number(raw);
    return /^-?\d+$/.test(raw) && n >= min && n <= max
      ? n
      : new Invalid(`must be an integer between ${min} and ${max} (got "${raw}")`);
  };
}

export const boolean: Parse<boolean> = (raw) => {
  const value = raw.toLowerCase();
  if (['1', 'true', 'yes'].includes(value)) return true;
  if (['0', 'false', 'no'].includes(value)) return false;
  return new Invalid(`must be true or false (got "${raw}")`);
};

export function oneOf<T extends string>(values: readonly T[]): Parse<T> {
  return (raw) =>
    values.includes(raw as T)
      ? (raw as T)
      : new Invalid(`must be one of ${values.join(', ')} (got "${raw}")`);
}

const DURATION = /^(\d+)\s*(ms|s|m|h|d)?$/i;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90`, `90s`, `15m`, `24h`, `7d` (a bare number is seconds); the value in milliseconds. */
export function duration(minMs: number, maxMs: number): Parse<number> {
  return (raw) => {
    const match = DURATION.exec(raw);
    const ms = match ? Number(match[1]) * UNIT_MS[(match[2] ?? 's').toLowerCase()] : NaN;
    return Number.isFinite(ms) && ms >= minMs && ms <= maxMs
      ? ms
      : new Invalid(
          `must be a duration like 90s, 15m, 24h or 7d between ${describeMs(minMs)} and ${describeMs(maxMs)} (got "${raw}")`,
        );
  };
}

function describeMs(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

export const cron: Parse<string> = (raw) =>
  raw === 'off' || validateCronExpression(raw).valid
    ? raw
    : new Invalid(`is not a valid cron expression or "off" (got "${raw}")`);

/** The value may hold a password: never echoed. */
export const postgresUrl: Parse<string> = (raw) =>
  /^postgres(ql)?:\/\/[^\s]+$/.test(raw) && URL.canParse(raw)
    ? raw
    : new Invalid('must be a postgres:// or postgresql:// connection URL');

export const httpUrl: Parse<string> = (raw) => {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  return url && (url.protocol === 'https:' || url.protocol === 'http:') && !url.search && !url.hash
    ? raw.replace(/\/+$/, '')
    : new Invalid(`must be an http(s) URL without query (got "${raw}")`);
};

/** An SMTP server URL for nodemailer: `smtp://` or `smtps://`, optional `user:pass@`, host, port. */
export const smtpUrl: Parse<string> = (raw) => {
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  return url && (url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname
    ? raw
    : new Invalid(
        'must be smtp://[user:pass@]host[:port] or smtps://… (the SMTP server alerts are sent through)',
      );
};

/** An e-mail address, optionally with a display name: `Alerts <alerts@example.com>`. */
export const mailbox: Parse<string> = (raw) =>
  /^([^<>]*<)?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$/.test(raw.trim())
    ? raw.trim()
    : new Invalid('must be an e-mail address, e.g. "Dynamics 365 alerts <alerts@example.com>"');

export const trustProxy: Parse<boolean | string[]> = (raw) => {
  if (/^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
  if (/^[0-9a-f.:/]+(\s*,\s*[0-9a-f.:/]+)*$/i.test(raw)) return raw.split(',').map((p) => p.trim());
  return new Invalid(`must be true, false or a comma-separated list of proxy IPs/CIDRs (got "${raw}")`);
};

/** Comma-separated exact origins (`scheme://host:port`), normalised. */
export const origins: Parse<string[]> = (raw) => {
  const result: string[] = [];
  for (const origin of raw.split(',').map((o) => o.trim())) {
    if (origin === '') continue;
    const normalised = normaliseOrigin(origin);
    if (normalised === undefined)
      return new Invalid(`"${origin}" is not an exact origin like http://127.0.0.1:4010`);
    result.push(normalised);
  }
  return result;
};

function normaliseOrigin(input: string): string | undefined {
  if (!URL.canParse(input)) return undefined;
  const url = new URL(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const bare = !url.username && !url.password && !url.search && !url.hash;
  return bare && (url.pathname === '/' || url.pathname === '') ? url.origin : undefined;
}

/** At least 32 characters; never echoed. */
export const jwtSecret: Parse<string> = (raw) =>
  raw.length >= 32 ? raw : new Invalid(`must be at least 32 characters (got ${raw.length})`);

export interface KeyringKey {
  id: string;
  key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** `kid:base64key,kid2:base64key2` with 32-byte keys; the first is the active key. Never echoes a key. */
export const keyring: Parse<KeyringKey[]> = (raw) => {
  const keys: KeyringKey[] = [];
  for (const entry of raw.split(',').map((e) => e.trim())) {
    const separator = entry.indexOf(':');
    if (separator <= 0) return new Invalid('must be a comma-separated list of kid:base64key entries');
    const id = entry.slice(0, separator);
    const encoded = entry.slice(separator + 1);
    if (!KEY_ID.test(id))
      return new Invalid(`key id "${id}" must be 1-32 characters of A-Z, a-z, 0-9, _ or -`);
    if (keys.some((k) => k.id === id)) return new Invalid(`key id "${id}" appears twice`);
    const bytes = Buffer.from(encoded, 'base64');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || bytes.length !== 32) {
      return new Invalid(`key "${id}" must be 32 bytes encoded in base64 (openssl rand -base64 32)`);
    }
    keys.push({ id, key: bytes });
  }
  return keys;
};

/** Comma-separated values, blanks dropped. */
export const list: Parse<string[]> = (raw) =>
  raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** A Standard Webhooks secret: `whsec_` and base64 of at least 24 bytes. */
export const webhookSecret: Parse<string> = (raw) => {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(raw);
  if (!match || Buffer.from(match[1], 'base64').length < 24) {
    return new Invalid(
      'must be whsec_ followed by base64 of at least 24 random bytes (e.g. whsec_$(openssl rand -base64 32))',
    );
  }
  return raw;
};
