import { startTestApp, TestApp } from './support/app.js';
import { CustomerData } from '../src/handoff/customer-data.js';
import { withClient } from './support/database.js';
import {
  connect,
  HANDOFF_TEST_ENV,
  handoffBody,
  HANDOFFS,
  handoffRow,
  records,
  submit,
  waitForState,
} from './support/handoff.js';
import { call } from './support/integration.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

const DOCUMENT_KEYS = [
  'session_id',
  'channel',
  'route',
  'route_reason',
  'state',
  'reason',
  'attempts',
  'next_attempt_at',
  'last_error',
  'dynamics',
  'created_at',
  'delivered_at',
  'content_purged_at',
].sort();

describe('Handoffs: the API, and cases as Dynamics receives them', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let token: (org?: string, roles?: string[]) => Promise<string>;
  const queueId = 'c0c0c0c0-0000-4000-8000-00000000000b';
  const ownerId = 'c0c0c0c0-0000-4000-8000-00000000000a';

  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({ env: { ...ms.env, ...HANDOFF_TEST_ENV, VERIFY_RATE_LIMIT_PER_MINUTE: '1000' } });
    token = (org = 'acme', roles = ['handoff']) => t.token({ org, roles, sub: 'platform' });
    ms.environment.records.queues.set(queueId, { id: queueId, version: 1, attributes: { name: 'Tier 1' } });
    ms.environment.records.systemusers.set(ownerId, {
      id: ownerId,
      version: 1,
      attributes: { fullname: 'Dana Support', isdisabled: false },
    });
    await connect(t, ms, 'acme');
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it('accepts with 202, delivers a case linked to a new contact with the transcript note, and answers the same document again with 200', async () => {
    const body = handoffBody('s-basic', { channel: 'email' });
    const accepted = await submit(t, await token(), body);
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('location')).toBe('/api/v1/handoffs/s-basic');
    expect(Object.keys(accepted.body).sort()).toEqual(DOCUMENT_KEYS);
    expect(accepted.body).toMatchObject({
      session_id: 's-basic',
      channel: 'email',
      route: 'incident',
      route_reason: null,
      state: 'pending',
      attempts: 0,
      dynamics: { incident_id: null, ticket_number: null, contact_id: null },
      delivered_at: null,
    });

    const delivered = await waitForState(t, await token(), 's-basic', ['delivered']);
    expect(delivered.attempts).toBe(1);
    expect(delivered.last_error).toBeNull();
    expect(delivered.dynamics.ticket_number).toMatch(/^CAS-\d{5}-/);
    const incident = records(ms, 'incidents').find((r) => r.id === delivered.dynamics.incident_id)!;
    expect(incident).toMatchObject({
      title: 'Delivery - Ada Lovelace',
      prioritycode: 2,
      caseorigincode: 2,
      routecase: true,
      _customerid_value: delivered.dynamics.contact_id,
      ticketnumber: delivered.dynamics.ticket_number,
    });
    expect(incident.description).toBe(
      [
        'Channel: email',
        'Summary: Parcel missing for 5 days.',
        'Classification: Delivery',
        'Sentiment: negative',
        'Customer: Ada Lovelace, s-basic@example.com',
        '',
        'Transcript:',
        '[2026-11-30T09:00:00Z] Customer: My parcel has not arrived.',
        '[2026-11-30T09:00:05Z] AI: Let me hand you to a colleague.',
      ].join('\n'),
    );
    const contact = records(ms, 'contacts').find((r) => r.id === delivered.dynamics.contact_id)!;
    expect(contact).toMatchObject({
      firstname: 'Ada',
      lastname: 'Lovelace',
      emailaddress1: 's-basic@example.com',
      description: 'Created from chat session s-basic',
    });
    expect(delivered.dynamics.contact_created).toBe(true);
    const notes = records(ms, 'annotations').filter((r) => r._objectid_value === incident.id);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ subject: 'Conversation transcript', objecttypecode: 'incident' });
    expect(notes[0].notetext).toContain('Customer: My parcel has not arrived.');

    // The same body again (keys in another order): 200 and the same document, nothing new.
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const again = await submit(t, await token(), reordered);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(delivered);
    // A different body for the same session: 409, nothing changed.
    const other = await submit(t, await token(), { ...body, summary: 'Something else' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('conflict');
    expect(records(ms, 'incidents').filter((r) => r.title === 'Delivery - Ada Lovelace')).toHaveLength(1);
  });

  it('maps each channel: chat channels fall back to a case (messaging_not_configured), origin by channel', async () => {
    const expected: Record<string, { origin?: number; reason: string | null }> = {
      web: { origin: 3, reason: 'messaging_not_configured' },
      sms: { reason: 'messaging_not_configured' },
      whatsapp: { reason: 'messaging_not_configured' },
      email: { origin: 2, reason: null },
      phone_voice: { origin: 1, reason: null },
      web_voice: { origin: 1, reason: null },
      slack: { reason: null },
      instagram: { reason: null },
      messenger: { reason: null },
      api: { reason: null },
    };
    for (const channel of Object.keys(expected)) {
      const result = await submit(t, await token(), handoffBody(`ch-${channel}`, { channel }));
      expect(result.status).toBe(202);
      expect(result.body).toMatchObject({ route: 'incident', route_reason: expected[channel].reason });
    }
    for (const channel of Object.keys(expected)) {
      const done = await waitForState(t, await token(), `ch-${channel}`, ['delivered']);
      const incident = records(ms, 'incidents').find((r) => r.id === done.dynamics.incident_id)!;
      if (expected[channel].origin === undefined) expect(incident.caseorigincode ?? null).toBeNull();
      else expect(incident.caseorigincode).toBe(expected[channel].origin);
      expect(incident.description).toContain(`Channel: ${channel}`);
    }
  });

  it('dedupes contacts: email case-insensitively, then phone, reuses an existing contact, and one anonymous contact', async () => {
    const existingId = 'e0e0e0e0-0000-4000-8000-000000000001';
    ms.environment.records.contacts.set(existingId, {
      id: existingId,
      version: 1,
      attributes: {
        contactid: existingId,
        lastname: 'Existing',
        emailaddress1: 'Grace@Example.com',
        statecode: 0,
        createdon: '2020-01-01T00:00:00Z',
      },
    });
    const contactsBefore = ms.environment.creates.contacts;
    await submit(
      t,
      await token(),
      handoffBody('d-1', { customer: { name: 'Grace', email: 'grace@example.COM' } }),
    );
    await submit(t, await token(), handoffBody('d-2', { customer: { email: 'new@example.com' } }));
    await submit(
      t,
      await token(),
      handoffBody('d-3', { customer: { name: 'New Person', email: 'NEW@example.com' } }),
    );
    await submit(t, await token(), handoffBody('d-4', { customer: { phone: '+44 20 7946 0958' } }));
    await submit(
      t,
      await token(),
      handoffBody('d-5', { customer: { name: 'Phone Only', phone: '+44 20 7946 0958' } }),
    );
    await submit(t, await token(), handoffBody('d-6', { customer: undefined }));
    await submit(t, await token(), handoffBody('d-7', { customer: { name: 'No Contact Details' } }));
    const docs: Record<string, any> = {};
    for (const session of ['d-1', 'd-2', 'd-3', 'd-4', 'd-5', 'd-6', 'd-7']) {
      docs[session] = await waitForState(t, await token(), session, ['delivered']);
    }
    expect(docs['d-1'].dynamics).toMatchObject({ contact_id: existingId, contact_created: false });
    // Handed off one after the other: the second finds the contact the first created.
    const byEmail = new Set([docs['d-2'].dynamics.contact_id, docs['d-3'].dynamics.contact_id]);
    expect(byEmail.size).toBe(1);
    expect([docs['d-2'].dynamics.contact_created, docs['d-3'].dynamics.contact_created].sort()).toEqual([
      false,
      true,
    ]);
    expect(docs['d-4'].dynamics.contact_id).toBe(docs['d-5'].dynamics.contact_id);
    expect(docs['d-6'].dynamics.contact_id).toBe(docs['d-7'].dynamics.contact_id);
    const anonymous = records(ms, 'contacts').find((r) => r.id === docs['d-6'].dynamics.contact_id)!;
    expect(anonymous.lastname).toBe('Anonymous customer');
    expect(ms.environment.creates.contacts - contactsBefore).toBe(3);
    const title = (s: string) =>
      records(ms, 'incidents').find((r) => r.id === docs[s].dynamics.incident_id)!.title;
    expect(title('d-6')).toBe('Delivery - Anonymous');
    expect(title('d-4')).toBe('Delivery - +44 20 7946 0958');
  });

  it('queues with AddToQueue and routecase false when a queue is set, with owner, priority and ticket_properties', async () => {
    ms.sandbox.model.addCustomColumn('contoso', 'incidents', 'new_source', {
      type: 'string',
      maxLength: 100,
    });
    await connect(t, ms, 'queued', {
      default_queue_id: queueId,
      default_owner_id: ownerId,
      default_priority: 4,
      ticket_properties: { new_source: 'opencx', casetypecode: 2 },
    });
    const result = await submit(t, await token('queued'), handoffBody('q-1', { channel: 'web' }));
    expect(result.status).toBe(202);
    const done = await waitForState(t, await token('queued'), 'q-1', ['delivered']);
    const incident = records(ms, 'incidents').find((r) => r.id === done.dynamics.incident_id)!;
    expect(incident).toMatchObject({
      routecase: false,
      prioritycode: 3,
      casetypecode: 2,
      new_source: 'opencx',
      _ownerid_value: ownerId,
    });
    const items = records(ms, 'queueitems').filter((r) => r._objectid_value === incident.id);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: done.dynamics.queue_item_id, _queueid_value: queueId });
  });

  it('cuts the description to 2,000 characters and splits a long transcript into notes of 100,000', async () => {
    const long = 'x'.repeat(19_000);
    const transcript = Array.from({ length: 12 }, (_, i) => ({
      role: i % 2 ? 'ai' : 'customer',
      text: `${i} ${long}`,
      at: '2026-11-30T09:00:00Z',
    }));
    expect((await submit(t, await token(), handoffBody('long-1', { transcript }))).status).toBe(202);
    const done = await waitForState(t, await token(), 'long-1', ['delivered']);
    const incident = records(ms, 'incidents').find((r) => r.id === done.dynamics.incident_id)!;
    expect(incident.description.length).toBe(2000);
    expect(incident.description).toMatch(/cut here: the whole transcript is in the note/);
    const notes = records(ms, 'annotations').filter((r) => r._objectid_value === incident.id);
    expect(notes.map((n) => n.subject).sort()).toEqual([
      'Conversation transcript (part 1 of 3)',
      'Conversation transcript (part 2 of 3)',
      'Conversation transcript (part 3 of 3)',
    ]);
    expect(notes.every((n) => n.notetext.length <= 100_000)).toBe(true);
    const joined = notes
      .sort((a, b) => a.subject.localeCompare(b.subject))
      .map((n) => n.notetext)
      .join('\n');
    for (const entry of transcript) expect(joined).toContain(entry.text);
  });

  it('lists newest first with filters and a keyset cursor (admin only)', async () => {
    for (let i = 0; i < 5; i++) await submit(t, await token('lister'), handoffBody(`l-${i}`));
    // not connected: nothing accepted for 'lister' yet
    const refused = await submit(t, await token('lister'), handoffBody('l-x'));
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('not_connected');
    await connect(t, ms, 'lister');
    for (let i = 0; i < 5; i++) {
      await submit(t, await token('lister'), handoffBody(`l-${i}`, { channel: i % 2 ? 'sms' : 'email' }));
    }
    const admin = await t.token({ org: 'lister', roles: ['admin'] });
    expect((await call(t, 'GET', HANDOFFS, await token('lister'))).status).toBe(403);
    const page1 = await call(t, 'GET', `${HANDOFFS}?limit=2`, admin);
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((d: any) => d.session_id)).toEqual(['l-4', 'l-3']);
    const page2 = await call(t, 'GET', `${HANDOFFS}?limit=2&cursor=${page1.body.next_cursor}`, admin);
    expect(page2.body.items.map((d: any) => d.session_id)).toEqual(['l-2', 'l-1']);
    const page3 = await call(t, 'GET', `${HANDOFFS}?limit=2&cursor=${page2.body.next_cursor}`, admin);
    expect(page3.body.items.map((d: any) => d.session_id)).toEqual(['l-0']);
    expect(page3.body.next_cursor).toBeNull();
    const sms = await call(t, 'GET', `${HANDOFFS}?channel=sms`, admin);
    expect(sms.body.items.map((d: any) => d.session_id)).toEqual(['l-3', 'l-1']);
    const smsPage = await call(t, 'GET', `${HANDOFFS}?channel=sms&limit=1`, admin);
    const mixed = await call(t, 'GET', `${HANDOFFS}?channel=email&cursor=${smsPage.body.next_cursor}`, admin);
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.details[0].field).toBe('cursor');
    const future = await call(t, 'GET', `${HANDOFFS}?since=2999-01-01T00:00:00Z`, admin);
    expect(future.body.items).toEqual([]);
    // Another org sees none of these.
    const other = await call(t, 'GET', HANDOFFS, await t.token({ org: 'acme', roles: ['admin'] }));
    expect(other.body.items.some((d: any) => d.session_id.startsWith('l-'))).toBe(false);
    expect((await call(t, 'GET', `${HANDOFFS}/l-1`, await token('acme'))).status).toBe(404);
  });

  it('needs the handoff or admin role, and retry only for failed handoffs', async () => {
    const viewer = await t.token({ org: 'acme', roles: ['viewer'] });
    expect((await submit(t, viewer, handoffBody('r-0'))).status).toBe(403);
    expect((await call(t, 'GET', `${HANDOFFS}/s-basic`, viewer)).status).toBe(403);
    const admin = await t.token({ org: 'acme', roles: ['admin'] });
    expect((await submit(t, admin, handoffBody('r-1'))).status).toBe(202);
    await waitForState(t, admin, 'r-1', ['delivered']);
    const retried = await call(t, 'POST', `${HANDOFFS}/r-1/retry`, admin);
    expect(retried.status).toBe(409);
    expect(retried.body.error.message).toMatch(/delivered/);
    expect((await call(t, 'POST', `${HANDOFFS}/r-1/retry`, await token())).status).toBe(403);
    expect((await call(t, 'POST', `${HANDOFFS}/nope/retry`, admin)).status).toBe(404);
    expect((await call(t, 'GET', `${HANDOFFS}/bad%20id`, admin)).status).toBe(400);
  });

  it('accepts bodies up to 1 MiB on this route only; larger ones are 413', async () => {
    const big = 'y'.repeat(19_000);
    const transcript = Array.from({ length: 50 }, () => ({
      role: 'customer',
      text: big,
      at: '2026-11-30T09:00:00Z',
    }));
    const body = handoffBody('big-1', { transcript });
    expect(JSON.stringify(body).length).toBeGreaterThan(900_000);
    expect((await submit(t, await token(), body)).status).toBe(202);
    const tooBig = handoffBody('big-2', { transcript: [...transcript, ...transcript.slice(0, 6)] });
    expect(JSON.stringify(tooBig).length).toBeGreaterThan(1024 * 1024);
    const refused = await submit(t, await token(), tooBig);
    expect(refused.status).toBe(413);
    expect(refused.body.error.message).toMatch(/1 MiB/);
    expect(await handoffRow(t, 'big-2')).toBeUndefined();
  });

  it('logs the session id, never the transcript, the customer or a token', async () => {
    await submit(t, await token(), handoffBody('log-1', { summary: 'SECRET-SUMMARY-TEXT' }));
    await waitForState(t, await token(), 'log-1', ['delivered']);
    const lines = t.logs.filter((l) => l.session_id === 'log-1');
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['Handoff accepted', 'Handoff delivered']),
    );
    const raw = t.rawLogs();
    expect(raw).not.toContain('SECRET-SUMMARY-TEXT');
    expect(raw).not.toContain('My parcel has not arrived');
    expect(raw).not.toContain('log-1@example.com');
    expect(raw).not.toMatch(/eyJ[\w-]+\.eyJ/);
  });

  it('stores the request as validated and the ids chosen before the first attempt', async () => {
    await submit(
      t,
      await token(),
      handoffBody('row-1', { customer: { name: 'A B', email: 'a@b.example', phone: null } }),
    );
    const row = await handoffRow(t, 'row-1');
    // Sealed to the org and session, never in plain text; it opens to the body as validated.
    expect(row!.request).toBeNull();
    expect(row!.content.toString('latin1')).not.toContain('a@b.example');
    const opened = t.app.get(CustomerData).openRequest('acme', 'row-1', {
      ciphertext: row!.content,
      keyId: row!.content_key_id,
    });
    expect(opened.customer).toEqual({ name: 'A B', email: 'a@b.example' });
    expect(row!.customer_email_hash).toMatch(/^[\w-]{43}$/);
    expect(row!.incident_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(row!.note_id).toMatch(/^[0-9a-f-]{36}$/);
    // Its delivery job was queued with it (found by its data: the row's job_id is cleared as soon
    // as the handoff is delivered, which may already have happened).
    await withClient(t.databaseUrl, async (client) => {
      const jobs = await client.query(
        "SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'handoff-delivery' AND data->>'handoff_id' = $1",
        [row!.id],
      );
      expect(jobs.rows[0].n).toBe(1);
    });
  });
});
