import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/app-config.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { SecretCipher } from '../src/settings/secret-cipher.js';
import { keys, signToken } from './lib.js';
import type { startPostgres } from './lib.js';

/** Migrates a bench database and inserts `count` connected orgs directly (faster than Test & Save). */
export async function migrateAndSeedOrgs(
  url: string,
  env: { ENCRYPTION_KEYS: string; AUDIT_CHAIN_KEY: string; AUTH_JWT_SECRET: string },
  count: number,
  credentials: { clientId: string; secret: string; tenantId: string; origins: string[] },
  prefix = 'org',
): Promise<string[]> {
  const dataSource = new DataSource(dataSourceOptions(url));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    const cipher = new SecretCipher(loadConfig({ ...env, NODE_ENV: 'test' }));
    const orgs = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
    for (let start = 0; start < orgs.length; start += 500) {
      const batch = orgs.slice(start, start + 500);
      const encrypted = batch.map((org) => cipher.encrypt(credentials.secret, org));
      await dataSource.query(
        `INSERT INTO dynamics365_integration_settings
           (org_id, client_id, tenant_id, environment_url, client_secret_encrypted, client_secret_key_id, client_secret_hint, status)
         SELECT o, $2, $3, e, c, $5, $6, 'active'
           FROM unnest($1::text[], $4::bytea[], $7::text[]) AS t(o, c, e)`,
        [
          batch,
          credentials.clientId,
          credentials.tenantId,
          encrypted.map((e) => e.ciphertext),
          encrypted[0].keyId,
          credentials.secret.slice(0, 3),
          batch.map((_, i) => credentials.origins[(start + i) % credentials.origins.length]),
        ],
      );
    }
    return orgs;
  } finally {
    await dataSource.destroy();
  }
}

/** A database with one connected org, `reader-00000`, and a token of its admin: the read benchmarks' world. */
export async function seedReader(
  pg: Awaited<ReturnType<typeof startPostgres>>,
  database: string,
): Promise<{ url: string; secrets: ReturnType<typeof keys>; token: string; env: Record<string, string> }> {
  const secrets = keys();
  const url = await pg.createDatabase(database);
  await migrateAndSeedOrgs(
    url,
    secrets,
    1,
    {
      clientId: '11111111-1111-4111-8111-111111111111',
      secret: 'Abc8Q~bench',
      tenantId: 'contoso.onmicrosoft.com',
      origins: ['https://bench.crm.dynamics.com'],
    },
    'reader',
  );
  // How the read benchmarks run the service (and the baseline) against it; PORT is theirs to add.
  const env = {
    ...secrets,
    DATABASE_URL: url,
    DB_SKIP_MIGRATIONS: 'true',
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    REVALIDATION_CRON: 'off',
  };
  return { url, secrets, token: await signToken(secrets.AUTH_JWT_SECRET, 'reader-00000'), env };
}
