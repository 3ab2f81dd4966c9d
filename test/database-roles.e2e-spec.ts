// Two roles: the tables' owner migrates (DATABASE_MIGRATION_URL), the service runs as a role that
// owns nothing (DATABASE_URL) — so it cannot switch off the audit log's triggers and erase events.
import { randomBytes } from 'node:crypto';
import { startTestApp, TestApp } from './support/app.js';
import { createTestDatabase, superuserUrlFor, withClient } from './support/database.js';
import { connect, handoffBody, submit, waitForState } from './support/handoff.js';
import { call } from './support/integration.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

describe('The service as a role that owns nothing', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let runtimeUrl: string;

  beforeAll(async () => {
    ms = await startMicrosoft();
    const ownerUrl = await createTestDatabase('two_roles');
    const database = new URL(ownerUrl).pathname.slice(1);
    const role = `${database}_runtime`;
    const password = randomBytes(12).toString('hex');
    await withClient(superuserUrlFor(ownerUrl), async (client) => {
      await client.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER PASSWORD '${password}'`);
      await client.query(`GRANT CONNECT ON DATABASE ${database} TO ${role}`);
    });
    const url = new URL(ownerUrl);
    url.username = role;
    url.password = password;
    runtimeUrl = url.toString();
    t = await startTestApp({ databaseUrl: runtimeUrl, env: { ...ms.env, DATABASE_MIGRATION_URL: ownerUrl } });
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it('migrates as the owner and works as the runtime role: saves, audit, handoffs delivered', async () => {
    await connect(t, ms, 'roles');
    const token = await t.token({ org: 'roles', roles: ['handoff'] });
    await submit(t, token, handoffBody('roles-1'));
    await waitForState(t, token, 'roles-1', ['delivered']);
    expect(
      (await call(t, 'GET', '/api/v1/audit-events/verify', await t.token({ org: 'roles' }))).body,
    ).toMatchObject({
      ok: true,
    });
    const ready = (await (await t.request('/health/ready')).json()) as { details: Record<string, any> };
    expect(ready.details.database_role).toEqual({ status: 'up', problems: [] });
    expect(t.rawLogs()).not.toMatch(/permission denied/);
  });

  it('cannot disable the audit triggers, delete events or chain heads', async () => {
    for (const [sql, refusal] of [
      ['ALTER TABLE audit_events DISABLE TRIGGER USER', /must be owner/],
      ['ALTER TABLE audit_chain_heads DISABLE TRIGGER USER', /must be owner/],
      ["DELETE FROM audit_events WHERE org_id = 'roles'", /permission denied/],
      ["DELETE FROM audit_chain_heads WHERE org_id = 'roles'", /permission denied/],
      ['TRUNCATE audit_events', /permission denied/],
    ] as const) {
      await expect(withClient(runtimeUrl, (client) => client.query(sql))).rejects.toThrow(refusal);
    }
  });

  it('says so at start when the role it runs as owns its tables', async () => {
    const owner = await startTestApp({ env: ms.env });
    try {
      const ready = (await (await owner.request('/health/ready')).json()) as { details: Record<string, any> };
      expect(ready.details.database_role.problems).toEqual([
        expect.stringMatching(/^owns \d+ of the service's tables/),
      ]);
      await owner.waitForLog((line) => /could disable the audit log's triggers/.test(String(line.msg)));
    } finally {
      await owner.close();
    }
  });
});
