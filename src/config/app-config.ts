// The service's whole configuration, validated once at start-up from the environment: one table
// of keys (parser and default each), one function for the rules that span several keys, and the
// development-secrets step. Nothing else in the code base reads `process.env`.
import { isAbsolute, resolve } from 'node:path';
import { DevSecrets, loadOrCreateDevSecrets } from './dev-secrets.js';
import {
  boolean,
  cron,
  duration,
  httpUrl,
  integer,
  Invalid,
  jwtSecret,
  key,
  keyring,
  KeyringKey,
  KeySpec,
  list,
  oneOf,
  origins,
  postgresUrl,
  text,
  trustProxy,
  webhookSecret,
  smtpUrl,
  mailbox,
} from './env-keys.js';

export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type EncryptionKey = KeyringKey;

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const NODE_ENVS: NodeEnv[] = ['development', 'production', 'test'];

const none = undefined as string | undefined;

/** Every variable the service reads, with its parser and default. */
const KEYS = {
  NODE_ENV: key(oneOf(NODE_ENVS), 'development'),
  PORT: key(integer(0, 65535), 3000),
  HOST: key(text, '127.0.0.1'),
  TRUST_PROXY: key(trustProxy, false),
  HTTP_REQUEST_TIMEOUT: key(duration(1_000, 600_000), 30_000),
  HTTP_HEADERS_TIMEOUT: key(duration(1_000, 120_000), 10_000),
  HTTP_IDLE_TIMEOUT: key(duration(1_000, 600_000), 60_000),
  HTTP_MAX_CONNECTIONS_PER_CLIENT: key(integer(0, 100_000), 256),
  LOG_LEVEL: key(oneOf(LOG_LEVELS), 'info'),
  DATABASE_URL: key(postgresUrl, none),
  DATABASE_MIGRATION_URL: key(postgresUrl, none),
  DATA_DIR: key(text, './.data'),
  DB_SKIP_MIGRATIONS: key(boolean, false),
  DATABASE_EMBEDDED_IN_PRODUCTION: key(boolean, false),
  ENCRYPTION_KEYS: key(keyring, undefined as KeyringKey[] | undefined),
  AUDIT_CHAIN_KEY: key(keyring, undefined as KeyringKey[] | undefined),
  AUTH_JWT_SECRET: key(jwtSecret, none),
  AUTH_JWKS_URL: key(httpUrl, none),
  AUTH_ISSUER: key(text, none),
  AUTH_AUDIENCE: key(text, none),
  AUTH_MAX_TOKEN_AGE: key(duration(60_000, 31 * 86_400_000), 86_400_000),
  CONSOLE_OIDC_CLIENT_ID: key(text, none),
  CONSOLE_OIDC_ISSUER: key(httpUrl, none),
  CONSOLE_OIDC_SCOPE: key(text, 'openid profile'),
  MICROSOFT_LOGIN_URL: key(httpUrl, none),
  DYNAMICS_ALLOWED_ORIGINS: key(origins, [] as string[]),
  REVALIDATION_CRON: key(cron, '0 2 * * *'),
  REVALIDATION_CONCURRENCY: key(integer(1, 256), 8),
  REVALIDATION_UNREACHABLE_THRESHOLD: key(integer(1, 100), 3),
  REVALIDATION_RETRIES: key(integer(0, 10), 2),
  REVALIDATION_RETRY_BASE_MS: key(integer(0, 600_000), 2000),
  UPSTREAM_TIMEOUT_MS: key(integer(100, 120_000), 10_000),
  // Dataverse throttles an application user at 52 concurrent requests (service protection limits).
  DATAVERSE_MAX_CONCURRENCY: key(integer(1, 52), 16),
  VERIFY_RATE_LIMIT_PER_MINUTE: key(integer(1, 100_000), 10),
  HANDOFF_CONCURRENCY: key(integer(0, 50), 8),
  HANDOFF_MAX_ATTEMPTS: key(integer(1, 100), 10),
  HANDOFF_MAX_AGE: key(duration(60_000, 30 * 86_400_000), 86_400_000),
  HANDOFF_RETENTION: key(duration(1_000, 3650 * 86_400_000), 30 * 86_400_000),
  HANDOFF_RETRY_BASE_MS: key(integer(0, 600_000), 2000),
  HANDOFF_ATTEMPT_TIMEOUT: key(duration(5_000, 3_600_000), 300_000),
  // pg-boss takes a job's heartbeat interval in whole seconds, at least 10.
  HANDOFF_LEASE: key(duration(10_000, 600_000), 15_000),
  HANDOFF_RATE_LIMIT_PER_MINUTE: key(integer(1, 1_000_000), 600),
  EVENT_STREAMS_PER_TOKEN: key(integer(1, 10_000), 10),
  HANDOFF_EVENTS_URL: key(httpUrl, none),
  HANDOFF_EVENTS_SECRET: key(webhookSecret, none),
  HANDOFF_EVENTS_HEARTBEAT: key(duration(1_000, 300_000), 15_000),
  MESSAGING_WEBHOOK_ISSUERS: key(list, [
    'https://login.microsoftonline.com/{tenant}/v2.0',
    'https://sts.windows.net/{tenant}/',
  ]),
  MESSAGING_WEBHOOK_AUDIENCES: key(list, ['{client_id}', 'api://{client_id}']),
  MESSAGING_WEBHOOK_JWKS_URL: key(text, '{authority}/{tenant}/discovery/v2.0/keys'),
  MESSAGING_CATCHUP_AFTER: key(duration(1_000, 86_400_000), 300_000),
  SMTP_URL: key(smtpUrl, none),
  SMTP_FROM: key(mailbox, none),
  ALERTS_WEBHOOK_URL: key(httpUrl, none),
  ALERTS_WEBHOOK_SECRET: key(webhookSecret, none),
  NOTIFICATION_ALLOWED_ORIGINS: key(origins, [] as string[]),
  PUBLIC_URL: key(httpUrl, none),
  METRICS_PORT: key(integer(1, 65535), undefined as number | undefined),
  METRICS_TOKEN: key(
    (raw) => (raw.length >= 16 ? raw : new Invalid(`must be at least 16 characters (got ${raw.length})`)),
    none,
  ),
} satisfies Record<string, KeySpec<unknown>>;

type EnvValues = { [K in keyof typeof KEYS]: (typeof KEYS)[K]['default'] };

/** The names of every variable the service reads. */
export const CONFIG_KEYS = Object.keys(KEYS);

export type ApiAuthConfig = ({ mode: 'hs256'; secret: Uint8Array } | { mode: 'jwks'; jwksUrl: string }) & {
  issuer?: string;
  audience?: string;
  maxTokenAgeSeconds: number;
};

export class AppConfig {
  nodeEnv!: NodeEnv;
  port!: number;
  host!: string;
  /** Fastify trustProxy: false, true, or the proxies' addresses/CIDRs. */
  trustProxy!: boolean | string[];
  /** The whole request (headers and body) must arrive within this; its headers within the next. */
  httpRequestTimeoutMs!: number;
  httpHeadersTimeoutMs!: number;
  /** A connection with nothing sent either way for this long is closed. */
  httpIdleTimeoutMs!: number;
  /** Open connections per client address (the TCP peer); 0: no cap. */
  httpMaxConnectionsPerClient!: number;
  databaseUrl?: string;
  /** The tables' owner, for migrations and grants; the service then runs as DATABASE_URL's role. */
  databaseMigrationUrl?: string;
  dataDir!: string;
  dbSkipMigrations!: boolean;
  /** First key is active; the others still decrypt. */
  encryptionKeys!: EncryptionKey[];
  /** HMAC keys of the audit chain: the first signs new events, the others still verify. */
  auditChainKeys!: KeyringKey[];
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
  /** Dataverse calls in flight per environment, all instances together (DESIGN.md §14). */
  dataverseMaxConcurrency!: number;
  verifyRateLimitPerMinute!: number;
  logLevel!: LogLevel;
  /** Handoff deliveries in flight per instance; 0: this instance accepts handoffs but delivers none. */
  handoffConcurrency!: number;
  /** Delivery attempts before a handoff fails. */
  handoffMaxAttempts!: number;
  /** A handoff still pending or held this long after it was accepted fails as expired. */
  handoffMaxAgeMs!: number;
  /** Base of the exponential backoff between delivery attempts (Retry-After wins when longer). */
  handoffRetryBaseMs!: number;
  /** An attempt not finished within this (a crashed instance) is taken over by another instance. */
  handoffAttemptTimeoutMs!: number;
  /** A worker's hold on a job: renewed while it runs; once it lapses another instance resumes the job. */
  handoffLeaseMs!: number;
  /** New handoffs accepted per org per minute (replays of an accepted session do not count). */
  handoffRateLimitPerMinute!: number;
  /** Event streams one bearer token may hold open on an instance. */
  eventStreamsPerToken!: number;
  /** Where each handoff event is also posted, signed per Standard Webhooks with handoffEventsSecret. */
  handoffEventsUrl?: string;
  handoffEventsSecret?: string;
  /** Comment lines on open event streams, so proxies keep them. */
  handoffEventsHeartbeatMs!: number;
  /** What the customer wrote is purged this long after a handoff ended (DESIGN §13). */
  handoffRetentionMs!: number;
  /** An open conversation's webhook silent this long: its messages are read back (DESIGN §9.4). */
  messagingCatchupAfterMs!: number;
  /** Alert e-mail (DESIGN §12): the SMTP server and the sender; without them e-mail channels are refused. */
  smtpUrl?: string;
  smtpFrom?: string;
  /** The operator's copy of every org's alerts, signed with its own secret. */
  alertsWebhookUrl?: string;
  alertsWebhookSecret?: string;
  /** Exact origins an org's alert webhook may use besides public https hosts (tests, the sandbox). */
  notificationAllowedOrigins!: string[];
  /** Where the service is reached from outside (links in alert e-mails); default http://localhost:PORT. */
  publicUrl!: string;
  /**
   * How tokens on the messaging webhook are checked (Microsoft does not document how it signs
   * them): issuers and audiences with `{tenant}` / `{client_id}` of the org, keys from the URL
   * with `{authority}` (the org's cloud, or MICROSOFT_LOGIN_URL) and `{tenant}`.
   */
  messagingWebhook!: { issuers: string[]; audiences: string[]; jwksUrl: string };
  /** A separate listener for /metrics (then not served on PORT). */
  metricsPort?: number;
  /** Bearer token /metrics requires, wherever it is served. */
  metricsToken?: string;
  /**
   * The standalone console signs admins in with OpenID Connect at this provider (authorization
   * code + PKCE, a public client); without it, admins paste a token or open a one-time link.
   */
  consoleOidc?: { issuer: string; clientId: string; scope: string };
  /** Names of the development secrets that were generated into DATA_DIR rather than configured. */
  generatedSecrets!: string[];
}

export interface ConfigProblem {
  key: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.key}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export interface LoadConfigOptions {
  /** Create development secrets under DATA_DIR when they are not configured (never in production). */
  generateDevSecrets?: boolean;
  cwd?: string;
}

export function loadConfig(env: Env, options: LoadConfigOptions = {}): AppConfig {
  const problems: ConfigProblem[] = [];
  const values = readKeys(env, problems);
  problems.push(...combinationProblems(values));
  if (problems.length > 0) throw new ConfigError(problems);
  const dataDir = isAbsolute(values.DATA_DIR)
    ? values.DATA_DIR
    : resolve(options.cwd ?? process.cwd(), values.DATA_DIR);
  const secrets = resolveSecrets(values, dataDir, options.generateDevSecrets ?? false);

  return Object.assign(new AppConfig(), {
    nodeEnv: values.NODE_ENV,
    port: values.PORT,
    host: values.HOST,
    trustProxy: values.TRUST_PROXY,
    httpRequestTimeoutMs: values.HTTP_REQUEST_TIMEOUT,
    httpHeadersTimeoutMs: Math.min(values.HTTP_HEADERS_TIMEOUT, values.HTTP_REQUEST_TIMEOUT),
    httpIdleTimeoutMs: values.HTTP_IDLE_TIMEOUT,
    httpMaxConnectionsPerClient: values.HTTP_MAX_CONNECTIONS_PER_CLIENT,
    databaseUrl: values.DATABASE_URL,
    databaseMigrationUrl: values.DATABASE_MIGRATION_URL,
    dataDir,
    dbSkipMigrations: values.DB_SKIP_MIGRATIONS,
    encryptionKeys: secrets.encryptionKeys,
    auditChainKeys: secrets.auditChainKeys,
    auth: {
      ...(values.AUTH_JWKS_URL !== undefined
        ? { mode: 'jwks' as const, jwksUrl: values.AUTH_JWKS_URL }
        : { mode: 'hs256' as const, secret: new TextEncoder().encode(secrets.jwtSecret) }),
      issuer: values.AUTH_ISSUER,
      audience: values.AUTH_AUDIENCE,
      maxTokenAgeSeconds: values.AUTH_MAX_TOKEN_AGE / 1000,
    },
    ...(values.CONSOLE_OIDC_CLIENT_ID !== undefined
      ? {
          consoleOidc: {
            issuer: (values.CONSOLE_OIDC_ISSUER ?? values.AUTH_ISSUER)!,
            clientId: values.CONSOLE_OIDC_CLIENT_ID,
            scope: values.CONSOLE_OIDC_SCOPE,
          },
        }
      : {}),
    microsoftLoginUrl: values.MICROSOFT_LOGIN_URL,
    dynamicsAllowedOrigins: values.DYNAMICS_ALLOWED_ORIGINS,
    revalidationCron: values.REVALIDATION_CRON,
    revalidationConcurrency: values.REVALIDATION_CONCURRENCY,
    revalidationUnreachableThreshold: values.REVALIDATION_UNREACHABLE_THRESHOLD,
    revalidationRetries: values.REVALIDATION_RETRIES,
    revalidationRetryBaseMs: values.REVALIDATION_RETRY_BASE_MS,
    upstreamTimeoutMs: values.UPSTREAM_TIMEOUT_MS,
    dataverseMaxConcurrency: values.DATAVERSE_MAX_CONCURRENCY,
    verifyRateLimitPerMinute: values.VERIFY_RATE_LIMIT_PER_MINUTE,
    logLevel: values.LOG_LEVEL,
    handoffConcurrency: values.HANDOFF_CONCURRENCY,
    handoffMaxAttempts: values.HANDOFF_MAX_ATTEMPTS,
    handoffMaxAgeMs: values.HANDOFF_MAX_AGE,
    handoffRetryBaseMs: values.HANDOFF_RETRY_BASE_MS,
    handoffAttemptTimeoutMs: values.HANDOFF_ATTEMPT_TIMEOUT,
    handoffLeaseMs: values.HANDOFF_LEASE,
    handoffRateLimitPerMinute: values.HANDOFF_RATE_LIMIT_PER_MINUTE,
    eventStreamsPerToken: values.EVENT_STREAMS_PER_TOKEN,
    handoffEventsUrl: values.HANDOFF_EVENTS_URL,
    handoffEventsSecret: values.HANDOFF_EVENTS_SECRET,
    handoffEventsHeartbeatMs: values.HANDOFF_EVENTS_HEARTBEAT,
    messagingCatchupAfterMs: values.MESSAGING_CATCHUP_AFTER,
    handoffRetentionMs: values.HANDOFF_RETENTION,
    smtpUrl: values.SMTP_URL,
    smtpFrom: values.SMTP_FROM,
    alertsWebhookUrl: values.ALERTS_WEBHOOK_URL,
    alertsWebhookSecret: values.ALERTS_WEBHOOK_SECRET,
    notificationAllowedOrigins: values.NOTIFICATION_ALLOWED_ORIGINS,
    publicUrl: values.PUBLIC_URL ?? `http://localhost:${values.PORT}`,
    messagingWebhook: {
      issuers: values.MESSAGING_WEBHOOK_ISSUERS,
      audiences: values.MESSAGING_WEBHOOK_AUDIENCES,
      jwksUrl: values.MESSAGING_WEBHOOK_JWKS_URL,
    },
    metricsPort: values.METRICS_PORT,
    metricsToken: values.METRICS_TOKEN,
    generatedSecrets: secrets.generated,
  });
}

/** Each key through its parser: a blank value means unset; every refusal is collected. */
function readKeys(env: Env, problems: ConfigProblem[]): EnvValues {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(KEYS) as [string, KeySpec<unknown>][]) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') {
      values[name] = spec.default;
      continue;
    }
    const parsed = spec.parse(raw);
    if (parsed instanceof Invalid) {
      problems.push({ key: name, message: parsed.message });
      values[name] = spec.default;
    } else {
      values[name] = parsed;
    }
  }
  return values as EnvValues;
}

/** Rules that span several keys. */
function combinationProblems(v: EnvValues): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const problem = (name: string, message: string) => problems.push({ key: name, message });
  if (v.AUTH_JWT_SECRET !== undefined && v.AUTH_JWKS_URL !== undefined) {
    problem('AUTH_JWKS_URL', 'set either AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL, not both');
  }
  if ((v.SMTP_URL === undefined) !== (v.SMTP_FROM === undefined)) {
    problem(
      v.SMTP_URL === undefined ? 'SMTP_URL' : 'SMTP_FROM',
      'SMTP_URL and SMTP_FROM go together (the server alert e-mail is sent through, and its sender)',
    );
  }
  if ((v.ALERTS_WEBHOOK_URL === undefined) !== (v.ALERTS_WEBHOOK_SECRET === undefined)) {
    problem(
      v.ALERTS_WEBHOOK_URL === undefined ? 'ALERTS_WEBHOOK_URL' : 'ALERTS_WEBHOOK_SECRET',
      'ALERTS_WEBHOOK_URL and ALERTS_WEBHOOK_SECRET go together (alerts are always signed)',
    );
  }
  if ((v.HANDOFF_EVENTS_URL === undefined) !== (v.HANDOFF_EVENTS_SECRET === undefined)) {
    problem(
      v.HANDOFF_EVENTS_URL === undefined ? 'HANDOFF_EVENTS_URL' : 'HANDOFF_EVENTS_SECRET',
      'HANDOFF_EVENTS_URL and HANDOFF_EVENTS_SECRET go together (events are always signed)',
    );
  }
  if (v.NODE_ENV === 'production' && v.HANDOFF_EVENTS_URL?.startsWith('http:')) {
    problem('HANDOFF_EVENTS_URL', 'must use https in production');
  }
  if (v.DATABASE_MIGRATION_URL !== undefined && v.DATABASE_URL === undefined) {
    problem('DATABASE_MIGRATION_URL', 'needs DATABASE_URL (the role the service runs as)');
  }
  problems.push(...consoleOidcProblems(v));
  if (v.METRICS_PORT !== undefined && v.METRICS_PORT === v.PORT) {
    problem('METRICS_PORT', 'must differ from PORT');
  }
  if (v.NODE_ENV === 'production') {
    if (v.AUTH_JWKS_URL?.startsWith('http:')) problem('AUTH_JWKS_URL', 'must use https in production');
    if (v.ENCRYPTION_KEYS === undefined) {
      problem('ENCRYPTION_KEYS', 'is required in production (generated development keys are refused)');
    }
    if (v.AUDIT_CHAIN_KEY === undefined) {
      problem('AUDIT_CHAIN_KEY', 'is required in production (generated development keys are refused)');
    }
    if (v.AUTH_JWT_SECRET === undefined && v.AUTH_JWKS_URL === undefined) {
      problem('AUTH_JWT_SECRET', 'or AUTH_JWKS_URL is required in production');
    }
    if (v.DATABASE_URL === undefined && !v.DATABASE_EMBEDDED_IN_PRODUCTION) {
      problem(
        'DATABASE_URL',
        'is required in production; to run the embedded PostgreSQL in production anyway, set DATABASE_EMBEDDED_IN_PRODUCTION=true',
      );
    }
  }
  return problems;
}

/** Console sign-in with OpenID Connect: the provider must be the one whose tokens the API accepts. */
function consoleOidcProblems(v: EnvValues): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const problem = (name: string, message: string) => problems.push({ key: name, message });
  if (v.CONSOLE_OIDC_CLIENT_ID === undefined) {
    if (v.CONSOLE_OIDC_ISSUER !== undefined) problem('CONSOLE_OIDC_ISSUER', 'needs CONSOLE_OIDC_CLIENT_ID');
    return problems;
  }
  if (v.AUTH_JWKS_URL === undefined) {
    problem(
      'CONSOLE_OIDC_CLIENT_ID',
      "needs AUTH_JWKS_URL: the console's tokens come from your identity provider, whose keys the API must use",
    );
  }
  const issuer = v.CONSOLE_OIDC_ISSUER ?? v.AUTH_ISSUER;
  if (issuer === undefined) {
    problem(
      'CONSOLE_OIDC_ISSUER',
      'or AUTH_ISSUER is required with CONSOLE_OIDC_CLIENT_ID (the OpenID provider)',
    );
  } else if (!/^https?:\/\/[^/]/.test(issuer)) {
    problem(
      v.CONSOLE_OIDC_ISSUER === undefined ? 'AUTH_ISSUER' : 'CONSOLE_OIDC_ISSUER',
      'must be an http(s) URL for OpenID Connect discovery',
    );
  } else if (v.NODE_ENV === 'production' && issuer.startsWith('http:')) {
    problem(
      v.CONSOLE_OIDC_ISSUER === undefined ? 'AUTH_ISSUER' : 'CONSOLE_OIDC_ISSUER',
      'must use https in production',
    );
  }
  if (!v.CONSOLE_OIDC_SCOPE.split(/\s+/).includes('openid'))
    problem('CONSOLE_OIDC_SCOPE', 'must include openid');
  return problems;
}

interface Secrets {
  encryptionKeys: KeyringKey[];
  auditChainKeys: KeyringKey[];
  jwtSecret: string;
  generated: string[];
}

/** Configured secrets, or (outside production, when allowed) ones generated once into DATA_DIR. */
function resolveSecrets(v: EnvValues, dataDir: string, generate: boolean): Secrets {
  const missing = [
    ...(v.ENCRYPTION_KEYS === undefined ? ['ENCRYPTION_KEYS'] : []),
    ...(v.AUDIT_CHAIN_KEY === undefined ? ['AUDIT_CHAIN_KEY'] : []),
    ...(v.AUTH_JWT_SECRET === undefined && v.AUTH_JWKS_URL === undefined ? ['AUTH_JWT_SECRET'] : []),
  ];
  let stored: DevSecrets | undefined;
  if (missing.length > 0) {
    if (!generate || v.NODE_ENV === 'production') {
      throw new ConfigError(
        missing.map((name) => ({
          key: name,
          message: name === 'AUTH_JWT_SECRET' ? 'or AUTH_JWKS_URL is required' : 'is required',
        })),
      );
    }
    stored = loadOrCreateDevSecrets(dataDir);
  }
  const generatedKeyring = (name: string, raw: string | undefined): KeyringKey[] => {
    const parsed = keyring(raw ?? '');
    if (parsed instanceof Invalid) {
      throw new ConfigError([{ key: name, message: `generated value in DATA_DIR: ${parsed.message}` }]);
    }
    return parsed;
  };
  return {
    encryptionKeys: v.ENCRYPTION_KEYS ?? generatedKeyring('ENCRYPTION_KEYS', stored?.encryption_keys),
    auditChainKeys: v.AUDIT_CHAIN_KEY ?? generatedKeyring('AUDIT_CHAIN_KEY', stored?.audit_chain_key),
    jwtSecret: v.AUTH_JWT_SECRET ?? stored?.auth_jwt_secret ?? '',
    generated: missing,
  };
}

/** Kept for callers that parse a keyring outside the configuration (the keys command). */
export function parseKeyring(raw: string): KeyringKey[] | string {
  const parsed = keyring(raw);
  return parsed instanceof Invalid ? parsed.message : parsed;
}
