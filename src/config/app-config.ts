import { isAbsolute, resolve } from 'node:path';
import { validateCronExpression } from 'cron';
import { loadOrCreateDevSecrets } from './dev-secrets.js';

/**
 * The service's whole configuration, validated once at start-up from the environment.
 * Nothing else in the code base reads `process.env`.
 */
export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export type ApiAuthConfig =
  | { mode: 'hs256'; secret: Uint8Array; issuer?: string; audience?: string }
  | { mode: 'jwks'; jwksUrl: string; issuer?: string; audience?: string };

export class AppConfig {
  nodeEnv!: NodeEnv;
  port!: number;
  host!: string;
  /** Fastify trustProxy: false, true, or the proxies' addresses/CIDRs. */
  trustProxy!: boolean | string[];
  databaseUrl?: string;
  dataDir!: string;
  dbSkipMigrations!: boolean;
  /** First key is active; the others still decrypt. */
  encryptionKeys!: EncryptionKey[];
  auth!: ApiAuthConfig;
  microsoftLoginUrl?: string;
  dynamicsAllowedOrigins!: string[];
  revalidationCron!: string;
  revalidationConcurrency!: number;
  /** Consecutive unreachable verifications before an active connection shows `unreachable`. */
  revalidationUnreachableThreshold!: number;
  /** Retries of an unreachable verification within one sweep, and their base backoff. */
  revalidationRetries!: number;
  revalidationRetryBaseMs!: number;
  upstreamTimeoutMs!: number;
  verifyRateLimitPerMinute!: number;
  logLevel!: LogLevel;
  /** Names of the development secrets that were generated into DATA_DIR rather than configured. */
  generatedSecrets!: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: { key: string; message: string }[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export interface LoadConfigOptions {
  /** Create development secrets under DATA_DIR when they are not configured (never in production). */
  generateDevSecrets?: boolean;
  cwd?: string;
}

export function loadConfig(env: Env, options: LoadConfigOptions = {}): AppConfig {
  const problems: { key: string; message: string }[] = [];
  const problem = (key: string, message: string) => problems.push({ key, message });
  const value = (key: string): string | undefined => {
    const v = env[key];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (key: string, def: number, min: number, max: number): number => {
    const raw = value(key);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || n < min || n > max) {
      problem(key, `must be an integer between ${min} and ${max} (got "${raw}")`);
      return def;
    }
    return n;
  };
  const bool = (key: string, def: boolean): boolean => {
    const raw = value(key)?.toLowerCase();
    if (raw === undefined) return def;
    if (['1', 'true', 'yes'].includes(raw)) return true;
    if (['0', 'false', 'no'].includes(raw)) return false;
    problem(key, `must be true or false (got "${raw}")`);
    return def;
  };

  const config = new AppConfig();

  const nodeEnv = value('NODE_ENV') ?? 'development';
  if (nodeEnv !== 'development' && nodeEnv !== 'production' && nodeEnv !== 'test') {
    problem('NODE_ENV', `must be development, production or test (got "${nodeEnv}")`);
  }
  config.nodeEnv = (
    ['development', 'production', 'test'].includes(nodeEnv) ? nodeEnv : 'development'
  ) as NodeEnv;
  const production = config.nodeEnv === 'production';

  config.port = int('PORT', 3000, 0, 65535);
  config.host = value('HOST') ?? '127.0.0.1';
  const trustProxy = value('TRUST_PROXY') ?? 'false';
  if (/^(true|false)$/i.test(trustProxy)) config.trustProxy = trustProxy.toLowerCase() === 'true';
  else if (/^[0-9a-f.:/]+(\s*,\s*[0-9a-f.:/]+)*$/i.test(trustProxy)) {
    config.trustProxy = trustProxy.split(',').map((p) => p.trim());
  } else {
    problem(
      'TRUST_PROXY',
      `must be true, false or a comma-separated list of proxy IPs/CIDRs (got "${trustProxy}")`,
    );
    config.trustProxy = false;
  }

  const databaseUrl = value('DATABASE_URL');
  if (databaseUrl !== undefined) {
    // The value may hold a password: never echo it.
    if (!/^postgres(ql)?:\/\/[^\s]+$/.test(databaseUrl) || !URL.canParse(databaseUrl)) {
      problem('DATABASE_URL', 'must be a postgres:// or postgresql:// connection URL');
    } else {
      config.databaseUrl = databaseUrl;
    }
  }
  const dataDir = value('DATA_DIR') ?? './.data';
  config.dataDir = isAbsolute(dataDir) ? dataDir : resolve(options.cwd ?? process.cwd(), dataDir);
  config.dbSkipMigrations = bool('DB_SKIP_MIGRATIONS', false);

  const keyring = value('ENCRYPTION_KEYS');
  let encryptionKeys: EncryptionKey[] | undefined;
  if (keyring !== undefined) {
    const parsed = parseKeyring(keyring);
    if (typeof parsed === 'string') problem('ENCRYPTION_KEYS', parsed);
    else encryptionKeys = parsed;
  }

  const jwtSecret = value('AUTH_JWT_SECRET');
  const jwksUrl = value('AUTH_JWKS_URL');
  const issuer = value('AUTH_ISSUER');
  const audience = value('AUTH_AUDIENCE');
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    problem('AUTH_JWT_SECRET', `must be at least 32 characters (got ${jwtSecret.length})`);
  }
  if (jwtSecret !== undefined && jwksUrl !== undefined) {
    problem('AUTH_JWKS_URL', 'set either AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL, not both');
  }
  if (jwksUrl !== undefined) {
    const url = URL.canParse(jwksUrl) ? new URL(jwksUrl) : undefined;
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      problem('AUTH_JWKS_URL', `must be an http(s) URL (got "${jwksUrl}")`);
    } else if (production && url.protocol !== 'https:') {
      problem('AUTH_JWKS_URL', 'must use https in production');
    }
  }

  const loginUrl = value('MICROSOFT_LOGIN_URL');
  if (loginUrl !== undefined) {
    const url = URL.canParse(loginUrl) ? new URL(loginUrl) : undefined;
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash) {
      problem('MICROSOFT_LOGIN_URL', `must be an http(s) URL without query (got "${loginUrl}")`);
    } else {
      config.microsoftLoginUrl = loginUrl.replace(/\/+$/, '');
    }
  }

  config.dynamicsAllowedOrigins = [];
  for (const origin of (value('DYNAMICS_ALLOWED_ORIGINS') ?? '').split(',').map((o) => o.trim())) {
    if (origin === '') continue;
    const normalised = normaliseOrigin(origin);
    if (normalised === undefined) {
      problem('DYNAMICS_ALLOWED_ORIGINS', `"${origin}" is not an exact origin like http://127.0.0.1:4010`);
    } else {
      config.dynamicsAllowedOrigins.push(normalised);
    }
  }

  config.revalidationCron = value('REVALIDATION_CRON') ?? '0 2 * * *';
  const cron =
    config.revalidationCron === 'off' ? { valid: true } : validateCronExpression(config.revalidationCron);
  if (!cron.valid) {
    problem(
      'REVALIDATION_CRON',
      `is not a valid cron expression or "off" (got "${config.revalidationCron}")`,
    );
  }
  config.revalidationConcurrency = int('REVALIDATION_CONCURRENCY', 8, 1, 256);
  config.revalidationUnreachableThreshold = int('REVALIDATION_UNREACHABLE_THRESHOLD', 3, 1, 100);
  config.revalidationRetries = int('REVALIDATION_RETRIES', 2, 0, 10);
  config.revalidationRetryBaseMs = int('REVALIDATION_RETRY_BASE_MS', 2000, 0, 600000);
  config.upstreamTimeoutMs = int('UPSTREAM_TIMEOUT_MS', 10000, 100, 120000);
  config.verifyRateLimitPerMinute = int('VERIFY_RATE_LIMIT_PER_MINUTE', 10, 1, 100000);

  const logLevel = value('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    problem('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }
  config.logLevel = LOG_LEVELS.includes(logLevel as LogLevel) ? (logLevel as LogLevel) : 'info';

  if (production) {
    if (encryptionKeys === undefined && keyring === undefined) {
      problem('ENCRYPTION_KEYS', 'is required in production (generated development keys are refused)');
    }
    if (jwtSecret === undefined && jwksUrl === undefined) {
      problem('AUTH_JWT_SECRET', 'or AUTH_JWKS_URL is required in production');
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);

  config.generatedSecrets = [];
  let devSecrets: { encryptionKeys: EncryptionKey[]; jwtSecret: string } | undefined;
  const needsDevSecrets = encryptionKeys === undefined || (jwtSecret === undefined && jwksUrl === undefined);
  if (needsDevSecrets) {
    if (!options.generateDevSecrets) {
      throw new ConfigError([
        ...(encryptionKeys === undefined ? [{ key: 'ENCRYPTION_KEYS', message: 'is required' }] : []),
        ...(jwtSecret === undefined && jwksUrl === undefined
          ? [{ key: 'AUTH_JWT_SECRET', message: 'or AUTH_JWKS_URL is required' }]
          : []),
      ]);
    }
    const stored = loadOrCreateDevSecrets(config.dataDir);
    const parsedStored = parseKeyring(stored.encryption_keys);
    if (typeof parsedStored === 'string') {
      throw new ConfigError([
        { key: 'ENCRYPTION_KEYS', message: `generated keyring in DATA_DIR: ${parsedStored}` },
      ]);
    }
    devSecrets = { encryptionKeys: parsedStored, jwtSecret: stored.auth_jwt_secret };
  }

  if (encryptionKeys === undefined) {
    encryptionKeys = devSecrets!.encryptionKeys;
    config.generatedSecrets.push('ENCRYPTION_KEYS');
  }
  config.encryptionKeys = encryptionKeys;

  if (jwksUrl !== undefined) {
    config.auth = { mode: 'jwks', jwksUrl, issuer, audience };
  } else {
    const secret = jwtSecret ?? devSecrets!.jwtSecret;
    if (jwtSecret === undefined) config.generatedSecrets.push('AUTH_JWT_SECRET');
    config.auth = { mode: 'hs256', secret: new TextEncoder().encode(secret), issuer, audience };
  }
  return config;
}

/** `kid:base64key,kid2:base64key2` with 32-byte keys; the first is the active key. */
export function parseKeyring(raw: string): EncryptionKey[] | string {
  const keys: EncryptionKey[] = [];
  for (const entry of raw.split(',').map((e) => e.trim())) {
    const separator = entry.indexOf(':');
    if (separator <= 0) return 'must be a comma-separated list of kid:base64key entries';
    const id = entry.slice(0, separator);
    const encoded = entry.slice(separator + 1);
    if (!KEY_ID.test(id)) return `key id "${id}" must be 1-32 characters of A-Z, a-z, 0-9, _ or -`;
    if (keys.some((k) => k.id === id)) return `key id "${id}" appears twice`;
    const key = Buffer.from(encoded, 'base64');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || key.length !== 32) {
      return `key "${id}" must be 32 bytes encoded in base64 (openssl rand -base64 32)`;
    }
    keys.push({ id, key });
  }
  return keys;
}

function normaliseOrigin(input: string): string | undefined {
  if (!URL.canParse(input)) return undefined;
  const url = new URL(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    (url.pathname !== '/' && url.pathname !== '')
  ) {
    return undefined;
  }
  return url.origin;
}
