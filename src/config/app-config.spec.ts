import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_KEYS, ConfigError, loadConfig, parseKeyring } from './app-config.js';

const key = () => randomBytes(32).toString('base64');
const secret = 'x'.repeat(32);
const valid = () => ({
  ENCRYPTION_KEYS: `k1:${key()}`,
  AUDIT_CHAIN_KEY: `a1:${key()}`,
  AUTH_JWT_SECRET: secret,
});

function problemsOf(
  env: Record<string, string>,
  generateDevSecrets = false,
): { key: string; message: string }[] {
  try {
    loadConfig(env, { generateDevSecrets, cwd: mkdtempSync(join(tmpdir(), 'cfg-')) });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(valid(), { cwd: '/srv/app' });
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: '/srv/app/.data',
      dbSkipMigrations: false,
      dynamicsAllowedOrigins: [],
      revalidationCron: '0 2 * * *',
      revalidationConcurrency: 8,
      upstreamTimeoutMs: 10000,
      verifyRateLimitPerMinute: 10,
      logLevel: 'info',
      generatedSecrets: [],
    });
    expect(config.auth.mode).toBe('hs256');
    expect(config.encryptionKeys).toHaveLength(1);
  });

  it('names every bad key at once', () => {
    const problems = problemsOf({
      ...valid(),
      NODE_ENV: 'staging',
      PORT: 'eighty',
      DATABASE_URL: 'mysql://db',
      DB_SKIP_MIGRATIONS: 'maybe',
      ENCRYPTION_KEYS: 'k1:tooshort',
      AUTH_JWT_SECRET: 'short',
      MICROSOFT_LOGIN_URL: 'ftp://login',
      DYNAMICS_ALLOWED_ORIGINS: 'http://127.0.0.1:4010,https://x.example/path',
      REVALIDATION_CRON: 'every night',
      REVALIDATION_CONCURRENCY: '0',
      UPSTREAM_TIMEOUT_MS: '-5',
      VERIFY_RATE_LIMIT_PER_MINUTE: '1.5',
      LOG_LEVEL: 'loud',
      TRUST_PROXY: 'sometimes',
      AUDIT_CHAIN_KEY: 'a1',
      AUTH_MAX_TOKEN_AGE: 'forever',
      METRICS_PORT: '70000',
      METRICS_TOKEN: 'short',
    });
    expect(problems.map((p) => p.key).sort()).toEqual(
      [
        'TRUST_PROXY',
        'NODE_ENV',
        'PORT',
        'DATABASE_URL',
        'DB_SKIP_MIGRATIONS',
        'ENCRYPTION_KEYS',
        'AUTH_JWT_SECRET',
        'MICROSOFT_LOGIN_URL',
        'DYNAMICS_ALLOWED_ORIGINS',
        'REVALIDATION_CRON',
        'REVALIDATION_CONCURRENCY',
        'UPSTREAM_TIMEOUT_MS',
        'VERIFY_RATE_LIMIT_PER_MINUTE',
        'LOG_LEVEL',
        'AUDIT_CHAIN_KEY',
        'AUTH_MAX_TOKEN_AGE',
        'METRICS_PORT',
        'METRICS_TOKEN',
      ].sort(),
    );
    expect(problems.find((p) => p.key === 'DYNAMICS_ALLOWED_ORIGINS')?.message).toContain(
      'https://x.example/path',
    );
  });

  it('puts every problem in one start-up message', () => {
    expect(() => loadConfig({ ...valid(), PORT: '99999', LOG_LEVEL: 'loud' })).toThrow(
      /Invalid configuration \(2 problems\):\n {2}- PORT: .*\n {2}- LOG_LEVEL: /,
    );
  });

  it('never echoes secret values in its messages', () => {
    const leaked = 'sup3r-s3cret-password';
    const problems = problemsOf({
      DATABASE_URL: `postgres://u:${leaked}@host:5432/db?x= y`,
      ENCRYPTION_KEYS: `k1:${leaked}`,
      AUTH_JWT_SECRET: leaked,
    });
    expect(JSON.stringify(problems)).not.toContain(leaked);
  });

  it('refuses to start in production without keys, even when development could generate them', () => {
    const problems = problemsOf({ NODE_ENV: 'production' }, true);
    expect(problems.map((p) => p.key).sort()).toEqual([
      'AUDIT_CHAIN_KEY',
      'AUTH_JWT_SECRET',
      'DATABASE_URL',
      'ENCRYPTION_KEYS',
    ]);
  });

  it('refuses the embedded database in production unless asked for explicitly', () => {
    const production = { NODE_ENV: 'production', ...valid() };
    expect(problemsOf(production)).toEqual([
      { key: 'DATABASE_URL', message: expect.stringContaining('DATABASE_EMBEDDED_IN_PRODUCTION=true') },
    ]);
    expect(
      loadConfig({ ...production, DATABASE_EMBEDDED_IN_PRODUCTION: 'true' }).databaseUrl,
    ).toBeUndefined();
  });

  it('reads durations and caps the token age', () => {
    expect(loadConfig(valid()).auth.maxTokenAgeSeconds).toBe(86400);
    expect(loadConfig({ ...valid(), AUTH_MAX_TOKEN_AGE: '15m' }).auth.maxTokenAgeSeconds).toBe(900);
    expect(loadConfig({ ...valid(), AUTH_MAX_TOKEN_AGE: '3600' }).auth.maxTokenAgeSeconds).toBe(3600);
    expect(problemsOf({ ...valid(), AUTH_MAX_TOKEN_AGE: '90d' })[0].message).toMatch(/between 1m and 31d/);
  });

  it('refuses a metrics listener on the service port', () => {
    expect(problemsOf({ ...valid(), PORT: '4000', METRICS_PORT: '4000' })[0]).toEqual({
      key: 'METRICS_PORT',
      message: 'must differ from PORT',
    });
  });

  it('starts in production with a keyring and either a JWT secret or a JWKS URL', () => {
    const db = { DATABASE_URL: 'postgres://app:pw@db:5432/app' };
    expect(loadConfig({ NODE_ENV: 'production', ...valid(), ...db }).nodeEnv).toBe('production');
    const jwks = loadConfig({
      NODE_ENV: 'production',
      ...db,
      ENCRYPTION_KEYS: `k1:${key()}`,
      AUDIT_CHAIN_KEY: `a1:${key()}`,
      AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      AUTH_ISSUER: 'https://idp.example/',
      AUTH_AUDIENCE: 'd365',
    });
    expect(jwks.auth).toEqual({
      mode: 'jwks',
      jwksUrl: 'https://idp.example/.well-known/jwks.json',
      issuer: 'https://idp.example/',
      audience: 'd365',
      maxTokenAgeSeconds: 86400,
    });
  });

  it('refuses an http JWKS URL in production and both auth modes at once', () => {
    const base = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db/app',
      ENCRYPTION_KEYS: `k1:${key()}`,
      AUDIT_CHAIN_KEY: `a1:${key()}`,
    };
    expect(problemsOf({ ...base, AUTH_JWKS_URL: 'http://idp.example/jwks' })[0].key).toBe('AUTH_JWKS_URL');
    expect(
      problemsOf({ ...base, AUTH_JWT_SECRET: secret, AUTH_JWKS_URL: 'https://idp/jwks' })[0].message,
    ).toContain('not both');
  });

  it('signs the console in with OpenID Connect only at the provider whose tokens the API accepts', () => {
    const base = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db/app',
      ENCRYPTION_KEYS: `k1:${key()}`,
      AUDIT_CHAIN_KEY: `a1:${key()}`,
    };
    const idp = { AUTH_JWKS_URL: 'https://idp.example/keys', AUTH_ISSUER: 'https://idp.example/' };
    expect(loadConfig({ ...base, ...idp, CONSOLE_OIDC_CLIENT_ID: 'console' }).consoleOidc).toEqual({
      issuer: 'https://idp.example/',
      clientId: 'console',
      scope: 'openid profile',
    });
    expect(
      loadConfig({
        ...base,
        ...idp,
        CONSOLE_OIDC_CLIENT_ID: 'c',
        CONSOLE_OIDC_ISSUER: 'https://login.example/t',
      }).consoleOidc?.issuer,
    ).toBe('https://login.example/t');
    expect(loadConfig({ ...base, ...idp }).consoleOidc).toBeUndefined();
    // With the HS256 secret, tokens come from this service, not a provider.
    expect(
      problemsOf({ ...base, AUTH_JWT_SECRET: secret, CONSOLE_OIDC_CLIENT_ID: 'c' })[0].message,
    ).toContain('needs AUTH_JWKS_URL');
    expect(
      problemsOf({ ...base, AUTH_JWKS_URL: idp.AUTH_JWKS_URL, CONSOLE_OIDC_CLIENT_ID: 'c' })[0].key,
    ).toBe('CONSOLE_OIDC_ISSUER');
    expect(
      problemsOf({ ...base, ...idp, AUTH_ISSUER: 'http://idp.example/', CONSOLE_OIDC_CLIENT_ID: 'c' }),
    ).toEqual([{ key: 'AUTH_ISSUER', message: 'must use https in production' }]);
    expect(
      problemsOf({ ...base, ...idp, AUTH_ISSUER: 'idp-issuer', CONSOLE_OIDC_CLIENT_ID: 'c' })[0].key,
    ).toBe('AUTH_ISSUER');
    expect(
      problemsOf({ ...base, ...idp, CONSOLE_OIDC_CLIENT_ID: 'c', CONSOLE_OIDC_SCOPE: 'profile' })[0],
    ).toEqual({
      key: 'CONSOLE_OIDC_SCOPE',
      message: 'must include openid',
    });
    expect(problemsOf({ ...base, ...idp, CONSOLE_OIDC_ISSUER: 'https://idp.example/' })[0].key).toBe(
      'CONSOLE_OIDC_ISSUER',
    );
  });

  it('outside production, generates keys once into DATA_DIR (mode 0600) and reuses them', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cfg-data-'));
    const first = loadConfig({ DATA_DIR: dataDir }, { generateDevSecrets: true });
    const second = loadConfig({ DATA_DIR: dataDir }, { generateDevSecrets: true });
    expect(first.generatedSecrets.sort()).toEqual(['AUDIT_CHAIN_KEY', 'AUTH_JWT_SECRET', 'ENCRYPTION_KEYS']);
    expect(second.encryptionKeys[0].key.equals(first.encryptionKeys[0].key)).toBe(true);
    expect(second.auditChainKeys[0].key.equals(first.auditChainKeys[0].key)).toBe(true);
    expect(second.auth).toEqual(first.auth);
    const file = join(dataDir, 'dev-secrets.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('encryption_keys');
  });

  it('uses configured values over generated ones', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cfg-data-'));
    const config = loadConfig({ DATA_DIR: dataDir, AUTH_JWT_SECRET: secret }, { generateDevSecrets: true });
    expect(config.generatedSecrets).toEqual(['ENCRYPTION_KEYS', 'AUDIT_CHAIN_KEY']);
    expect(new TextDecoder().decode((config.auth as { secret: Uint8Array }).secret)).toBe(secret);
  });

  it('adds a key a newer version needs to an older development secrets file, keeping the others', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cfg-data-'));
    const encryption = `dev1:${key()}`;
    writeFileSync(
      join(dataDir, 'dev-secrets.json'),
      JSON.stringify({ encryption_keys: encryption, auth_jwt_secret: secret }),
    );
    const config = loadConfig({ DATA_DIR: dataDir }, { generateDevSecrets: true });
    expect(config.encryptionKeys[0].key.toString('base64')).toBe(encryption.slice(5));
    const stored = JSON.parse(readFileSync(join(dataDir, 'dev-secrets.json'), 'utf8'));
    expect(stored).toMatchObject({ encryption_keys: encryption, auth_jwt_secret: secret });
    expect(stored.audit_chain_key).toMatch(/^dev1:/);
    expect(statSync(join(dataDir, 'dev-secrets.json')).mode & 0o777).toBe(0o600);
  });

  it('normalises allowed origins and the login URL', () => {
    const config = loadConfig({
      ...valid(),
      DYNAMICS_ALLOWED_ORIGINS: ' http://127.0.0.1:4010/ , HTTP://LOCALHOST:4011',
      MICROSOFT_LOGIN_URL: 'http://127.0.0.1:4000/',
    });
    expect(config.dynamicsAllowedOrigins).toEqual(['http://127.0.0.1:4010', 'http://localhost:4011']);
    expect(config.microsoftLoginUrl).toBe('http://127.0.0.1:4000');
  });
});

describe('parseKeyring', () => {
  it('keeps the order (first key active) and decodes 32-byte keys', () => {
    const keys = parseKeyring(`new:${key()},old:${key()}`);
    expect(Array.isArray(keys) && keys.map((k) => [k.id, k.key.length])).toEqual([
      ['new', 32],
      ['old', 32],
    ]);
  });

  it.each([
    ['no separator', 'abc'],
    ['empty id', `:${key()}`],
    ['bad id', `k 1:${key()}`],
    ['duplicate id', `a:${key()},a:${key()}`],
    ['16-byte key', `a:${randomBytes(16).toString('base64')}`],
    ['not base64', 'a:%%%%'],
  ])('rejects %s', (_, raw) => {
    expect(typeof parseKeyring(raw)).toBe('string');
  });
});

describe('documentation of the configuration', () => {
  const table = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');

  it.each(CONFIG_KEYS)('docs/configuration.md and .env.example document %s', (name) => {
    expect(table).toContain(`\`${name}\``);
    expect(example).toMatch(new RegExp(`^# ${name}=`, 'm'));
  });
});
