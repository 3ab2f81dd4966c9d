import { randomBytes } from 'node:crypto';
import pg from 'pg';

function adminUrl(): string {
  const url = process.env.TEST_PG_ADMIN_URL;
  if (!url) throw new Error('TEST_PG_ADMIN_URL is not set: run the e2e tests through jest (global setup)');
  return url;
}

/**
 * A fresh, empty database on the test run's PostgreSQL server, owned by a role of its own that is
 * not a superuser — as the service runs in production. Returns that role's URL.
 */
export async function createTestDatabase(prefix = 'test'): Promise<string> {
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_')}_${randomBytes(6).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  await withClient(adminUrl(), async (client) => {
    await client.query(`CREATE ROLE ${name}_owner LOGIN NOSUPERUSER PASSWORD '${password}'`);
    await client.query(`CREATE DATABASE ${name} OWNER ${name}_owner`);
  });
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  url.username = `${name}_owner`;
  url.password = password;
  return url.toString();
}

/** The superuser's URL for the same database (to do what the service's own role may not). */
export function superuserUrlFor(databaseUrl: string): string {
  const url = new URL(adminUrl());
  url.pathname = new URL(databaseUrl).pathname;
  return url.toString();
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
