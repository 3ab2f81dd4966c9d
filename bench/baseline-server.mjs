// The bare baseline for the read-path benchmark: Fastify + pg, verifying the same HS256 JWT and
// running the same indexed query as GET /api/v1/integrations/dynamics365, nothing else.
import { webcrypto as crypto } from 'node:crypto';
import Fastify from 'fastify';
import { jwtVerify } from 'jose';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
// Imported once, as the service does (jose would import raw bytes on every call).
const secret = await crypto.subtle.importKey(
  'raw',
  new TextEncoder().encode(process.env.AUTH_JWT_SECRET),
  { name: 'HMAC', hash: 'SHA-256' },
  false,
  ['verify'],
);
const app = Fastify();

app.get('/health/ready', async () => ({ status: 'ok' }));
app.get('/api/v1/integrations/dynamics365', async (request, reply) => {
  const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
  if (!match) return reply.status(401).send({ error: 'unauthorized' });
  let payload;
  try {
    ({ payload } = await jwtVerify(match[1], secret, { algorithms: ['HS256'] }));
  } catch {
    return reply.status(401).send({ error: 'unauthorized' });
  }
  const { rows } = await pool.query('SELECT * FROM dynamics365_integration_settings WHERE org_id = $1', [
    payload.org_id,
  ]);
  if (!rows[0]) return reply.status(404).send({ error: 'not_found' });
  const r = rows[0];
  return {
    org_id: r.org_id,
    status: r.status,
    client_id: r.client_id,
    tenant_id: r.tenant_id,
    environment_url: r.environment_url,
    client_secret_hint: r.client_secret_hint,
    secret_expires_at: r.secret_expires_at,
    warnings: [],
    default_priority: r.default_priority,
    default_owner_id: r.default_owner_id,
    default_queue_id: r.default_queue_id,
    default_workstream_id: r.default_workstream_id,
    ticket_properties: r.ticket_properties,
    last_verified_at: r.last_verified_at,
    last_verification: r.last_verification,
    version: r.version,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
});

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.once(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0)),
);
