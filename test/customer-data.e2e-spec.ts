// Customer data at rest (DESIGN §13), proven on the database itself: after a case handoff, a
// conversation with the agent's replies and the customer's later messages, a retention pass and
// an erasure, no table of the service or of its queue holds the customers' words, e-mail or phone
// in plain text; purges and erasures are idempotent and safe on two instances.
import { randomBytes } from 'node:crypto';
import { representativeActivity } from '../sandbox/messaging-webhook.js';
import { CustomerDataRepository } from '../src/handoff/customer-data.repository.js';
import { CustomerDataService } from '../src/handoff/api/customer-data.service.js';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config/app-config.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { CustomerData } from '../src/handoff/customer-data.js';
import { rotateCustomerData } from '../src/handoff/customer-data-rotation.js';
import { SecretCipher } from '../src/settings/secret-cipher.js';
import { startTestApp, testEnv, TestApp } from './support/app.js';
import { withClient } from './support/database.js';
import { eventually } from './support/eventually.js';
import {
  connectMessaging,
  HANDOFF_TEST_ENV,
  handoffBody,
  HANDOFFS,
  submit,
  waitForState,
} from './support/handoff.js';
import { auditEvents, call } from './support/integration.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

/** What the customers wrote and who they are: none of it may be found in plain text. */
const SECRETS = [
  'Zebulon Quillfeather',
  'zq-unique@example.com',
  '+44 20 7946 0958',
  '2079460958',
  'marmalade-overflow',
  'Ottoline Brackenbury',
  'ob-unique@example.com',
  'periwinkle-spanner',
  'saffron-lantern',
  'tangerine-bicycle',
  'Classified-As-Grumpy',
];

const K1 = `k1:${randomBytes(32).toString('base64')}`;

/** Every row of every table of the service's schema and of the queue's, as text. */
async function dumpDatabase(t: TestApp): Promise<string> {
  return withClient(t.databaseUrl, async (client) => {
    const tables = await client.query<{ s: string; n: string }>(
      `SELECT table_schema AS s, table_name AS n FROM information_schema.tables
        WHERE table_schema IN ('public', 'pgboss') AND table_type = 'BASE TABLE'`,
    );
    const parts: string[] = [];
    for (const { s, n } of tables.rows) {
      const rows = await client.query(
        `SELECT t::text AS row FROM ${client.escapeIdentifier(s)}.${client.escapeIdentifier(n)} t`,
      );
      parts.push(...rows.rows.map((r: { row: string }) => `${s}.${n}: ${r.row}`));
    }
    return parts.join('\n');
  });
}

function expectNoCustomerData(dump: string): void {
  for (const secret of SECRETS) {
    const line = dump.split('\n').find((l) => l.includes(secret));
    expect({ secret, found: line ?? null }).toEqual({ secret, found: null });
  }
}

describe('Customer data: encrypted at rest, kept only as long as needed, erasable', () => {
  let ms: MicrosoftWorld;
  let a: TestApp;
  let b: TestApp;
  const token = () => a.token({ org: 'private', roles: ['handoff'] });
  const admin = () => a.token({ org: 'private', roles: ['admin'] });

  beforeAll(async () => {
    ms = await startMicrosoft([]);
    const env = {
      ...ms.env,
      ...HANDOFF_TEST_ENV,
      DYNAMICS_ALLOWED_ORIGINS: `${ms.environment.origin},${ms.environment.messaging!.origin}`,
      ENCRYPTION_KEYS: K1,
      AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    };
    a = await startTestApp({ env });
    b = await startTestApp({ env, databaseUrl: a.databaseUrl });
    await connectMessaging(a, ms, 'private', `${a.baseUrl}/webhooks/dynamics365/messaging/private`);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await ms.sandbox.close();
  });

  it('stores none of it in plain text, in any table or queue job, while handoffs and conversations run', async () => {
    await submit(
      a,
      await token(),
      handoffBody('cd-case', {
        customer: { name: 'Zebulon Quillfeather', email: 'zq-unique@example.com', phone: '+44 20 7946 0958' },
        classification: 'Classified-As-Grumpy',
        summary: 'The marmalade-overflow incident.',
        transcript: [
          { role: 'customer', text: 'It is a marmalade-overflow again.', at: '2026-12-01T10:00:00Z' },
        ],
      }),
    );
    expect((await waitForState(a, await token(), 'cd-case', ['delivered'])).state).toBe('delivered');
    await submit(
      a,
      await token(),
      handoffBody('cd-chat', {
        channel: 'web',
        customer: { name: 'Ottoline Brackenbury', email: 'ob-unique@example.com' },
        transcript: [{ role: 'customer', text: 'My periwinkle-spanner broke.', at: '2026-12-01T10:00:00Z' }],
      }),
    );
    const chat = await waitForState(a, await token(), 'cd-chat', ['delivered']);
    const conversation = chat.dynamics.conversation_id as string;
    // The customer's later message, queued while the conversation is answered.
    const sent = await call(a, 'POST', `${HANDOFFS}/cd-chat/messages`, await token(), {
      text: 'Here is my tangerine-bicycle.',
    });
    expect(sent.status).toBe(202);
    expectNoCustomerData(await dumpDatabase(a));
    await representativeActivity(ms.sandbox.model, ms.sandbox.key, ms.environment, conversation, {
      type: 'message',
      text: 'Have you tried the saffron-lantern?',
    });
    await eventually(
      () =>
        ms.environment
          .messaging!.conversations.get(conversation)!
          .activities.some(
            (e) => e.side === 'customer' && String(e.activity.text).includes('tangerine-bicycle'),
          ),
      'the customer message relayed',
    );
    // The stream opens them for the host platform.
    const events = await call(a, 'GET', `${HANDOFFS}/cd-chat`, await token());
    expect(events.status).toBe(200);
    expectNoCustomerData(await dumpDatabase(a));
  });

  it('erases one customer at once, by e-mail, phone or session: what stays in Dynamics is listed; again, nothing', async () => {
    const erased = await call(a, 'POST', '/api/v1/customer-data/erase', await admin(), {
      email: 'ZQ-Unique@Example.com',
    });
    expect(erased.status).toBe(200);
    expect(erased.body.handoffs_erased).toBe(1);
    expect(erased.body.dynamics_records.map((r: { type: string }) => r.type).sort()).toEqual([
      'annotation',
      'contact',
      'incident',
    ]);
    const doc = await call(a, 'GET', `${HANDOFFS}/cd-case`, await token());
    expect(doc.body).toMatchObject({ state: 'delivered', content_purged_at: expect.any(String) });
    expect(doc.body.dynamics.ticket_number).toBeTruthy();
    const again = await call(b, 'POST', '/api/v1/customer-data/erase', await admin(), {
      phone: '020 7946 0958',
    });
    expect(again.body).toEqual({ handoffs_erased: 0, dynamics_records: [] });
    const bySession = await call(b, 'POST', '/api/v1/customer-data/erase', await admin(), {
      session_id: 'cd-chat',
    });
    expect(bySession.body).toMatchObject({
      handoffs_erased: 1,
      dynamics_records: [{ type: 'conversation', id: expect.any(String) }],
    });
    // The audit log says how many, and a keyed hash of who — never who.
    const audit = (await auditEvents(a, 'private')).filter((e) => e.action === 'customer_data.erased');
    expect(audit.map((e) => e.details.identifier)).toEqual(['email', 'phone', 'session_id']);
    expect(JSON.stringify(audit)).not.toMatch(/zq-unique|7946|cd-chat/);
    const refused = await call(a, 'POST', '/api/v1/customer-data/erase', await admin(), {
      email: 'a@b.example',
      phone: '123',
    });
    expect([refused.status, refused.body.error.details[0].message]).toEqual([
      400,
      'give exactly one of email, phone or session_id',
    ]);
    expectNoCustomerData(await dumpDatabase(a));
  });

  it('purges what ended HANDOFF_RETENTION ago, once, with two instances at it', async () => {
    await submit(a, await token(), handoffBody('cd-retained', { summary: 'marmalade-overflow, again' }));
    await waitForState(a, await token(), 'cd-retained', ['delivered']);
    const purged = await Promise.all([
      a.app.get(CustomerDataRepository).purgeEnded(0, 100),
      b.app.get(CustomerDataRepository).purgeEnded(0, 100),
    ]);
    expect(purged[0] + purged[1]).toBe(1);
    expect(await a.app.get(CustomerDataRepository).purgeEnded(0, 100)).toBe(0);
    const doc = await call(a, 'GET', `${HANDOFFS}/cd-retained`, await token());
    expect(doc.body.content_purged_at).toEqual(expect.any(String));
    expectNoCustomerData(await dumpDatabase(a));
  });

  it('seals what an older version stored in plain text, at start, and keeps its idempotency', async () => {
    const body = handoffBody('cd-legacy', {
      customer: { name: 'Zebulon Quillfeather', email: 'zq-unique@example.com' },
      summary: 'marmalade-overflow',
    });
    await submit(a, await token(), body);
    await waitForState(a, await token(), 'cd-legacy', ['delivered']);
    // As an older version left it: the body in plain text, nothing sealed.
    await withClient(a.databaseUrl, (client) =>
      client.query(
        `UPDATE handoffs SET request = $1, content = NULL, content_key_id = NULL, request_hash = 'legacy-sha256'
          WHERE session_id = 'cd-legacy'`,
        [
          JSON.stringify({
            ...body,
            customer: { name: 'Zebulon Quillfeather', email: 'zq-unique@example.com' },
          }),
        ],
      ),
    );
    expect(await dumpDatabase(a)).toContain('zq-unique@example.com');
    const sealed = await a.app.get(CustomerDataService).sealLegacy();
    expect(sealed.handoffs).toBe(1);
    expectNoCustomerData(await dumpDatabase(a));
    // The same body again is still the same handoff (its hash was recomputed, keyed).
    const again = await submit(a, await token(), body);
    expect(again.status).toBe(200);
    expect(await a.app.get(CustomerDataService).sealLegacy()).toEqual({ handoffs: 0, events: 0 });
  });

  it('keys:rotate re-seals every piece of customer data under the new key (the last test: the apps keep k1 only)', async () => {
    const k2 = `k2:${randomBytes(32).toString('base64')}`;
    const both = loadConfig(testEnv({ DATABASE_URL: a.databaseUrl, ENCRYPTION_KEYS: `${k2},${K1}` }));
    const dataSource = new DataSource(dataSourceOptions(a.databaseUrl, []));
    await dataSource.initialize();
    try {
      const report = await rotateCustomerData(dataSource, new SecretCipher(both), 2);
      expect(report.failed).toEqual([]);
      expect(report.rotated.handoffs).toBeGreaterThan(0);
      expect(report.remaining_on_old_keys).toEqual({ handoffs: {}, events: {}, messages: {} });
      expect((await rotateCustomerData(dataSource, new SecretCipher(both), 2)).rotated).toEqual({
        handoffs: 0,
        events: 0,
        messages: 0,
      });
    } finally {
      await dataSource.destroy();
    }
    // The new key alone opens them.
    const onlyNew = loadConfig(testEnv({ DATABASE_URL: a.databaseUrl, ENCRYPTION_KEYS: k2 }));
    const [row] = await withClient(
      a.databaseUrl,
      async (client) =>
        (
          await client.query(
            "SELECT org_id, content, content_key_id FROM handoffs WHERE session_id = 'cd-legacy'",
          )
        ).rows,
    );
    expect(row.content_key_id).toBe('k2');
    const opened = new CustomerData(onlyNew, new SecretCipher(onlyNew)).openRequest(row.org_id, 'cd-legacy', {
      ciphertext: row.content,
      keyId: row.content_key_id,
    });
    expect(opened.summary).toBe('marmalade-overflow');
  });
});
