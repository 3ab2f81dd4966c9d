import autocannon from 'autocannon';
import { freePort, keys, signToken, startPostgres, startServer } from '/work/main/bench/lib.js';
import { migrateAndSeedOrgs } from '/work/main/bench/seed.js';
const pg = await startPostgres();
const secrets = keys();
const url = await pg.createDatabase('prof');
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
const token = await signToken(secrets.AUTH_JWT_SECRET, 'reader-00000');
const port = await freePort();
const child = await startServer(
  ['--cpu-prof', '--cpu-prof-dir=/tmp/prof2', 'dist/src/main.js'],
  {
    ...secrets,
    DATABASE_URL: url,
    DB_SKIP_MIGRATIONS: 'true',
    NODE_ENV: 'production',
    LOG_LEVEL: process.env.LL ?? 'info',
    REVALIDATION_CRON: 'off',
    PORT: String(port),
  },
  port,
);
const r = await autocannon({
  url: `${child.baseUrl}/api/v1/integrations/dynamics365`,
  connections: 16,
  duration: 4,
  headers: { authorization: `Bearer ${token}` },
});
console.log('req/s', r.requests.average);
await child.stop();
await pg.stop();
