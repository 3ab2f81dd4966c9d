import { startTestApp, TestApp } from './support/app.js';
import { call } from './support/integration.js';
import {
  connect,
  connectMessaging,
  HANDOFF_TEST_ENV,
  handoffBody,
  HANDOFFS,
  MESSAGING_CHANNEL,
  records,
  submit,
  waitForState,
} from './support/handoff.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

const CREATE = '/api/v1.0/consumer/conversation/create';

/** Every documented Messaging API code: the HTTP status Microsoft answers it with. */
const CODES: [number, number][] = [
  [30001, 400],
  [30002, 400],
  [30003, 400],
  [30004, 404],
  [30005, 400],
  [30006, 400],
  [30007, 400],
  [30008, 400],
  [30009, 400],
  [30010, 400],
  [30011, 400],
  [30012, 400],
  [30013, 404],
  [30014, 400],
  [30015, 500],
  [30016, 400],
];

describe('Chat handoffs as Omnichannel conversations (Messaging API)', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let token: (org?: string) => Promise<string>;
  let messaging: Record<string, string>;

  const conversations = () => [...ms.environment.messaging!.conversations.values()];

  beforeAll(async () => {
    ms = await startMicrosoft();
    const origin = ms.environment.messaging!.origin;
    t = await startTestApp({
      env: {
        ...ms.env,
        ...HANDOFF_TEST_ENV,
        HANDOFF_MAX_ATTEMPTS: '3',
        DYNAMICS_ALLOWED_ORIGINS: `${ms.environment.origin},${origin}`,
        VERIFY_RATE_LIMIT_PER_MINUTE: '1000',
      },
    });
    token = (org = 'chat') => t.token({ org, roles: ['handoff'] });
    messaging = await connectMessaging(t, ms, 'chat');
  });
  afterEach(() => {
    ms.environment.messagingFault = undefined;
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it('starts a conversation for web, SMS and WhatsApp with the customer, context and transcript; other channels stay cases', async () => {
    const incidentsBefore = ms.environment.creates.incidents;
    for (const channel of ['web', 'sms', 'whatsapp']) {
      const accepted = await submit(t, await token(), handoffBody(`conv-${channel}`, { channel }));
      expect(accepted.body).toMatchObject({ route: 'conversation', route_reason: null });
    }
    const done = await waitForState(t, await token(), 'conv-web', ['delivered']);
    expect(done.dynamics).toMatchObject({
      conversation_state: 'open',
      incident_id: null,
      ticket_number: null,
      conversation_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const conversation = conversations().find((c) => c.id === done.dynamics.conversation_id)!;
    expect(conversation).toMatchObject({
      customerId: 'conv-web',
      customer: {
        customerid: 'conv-web',
        firstname: 'Ada',
        lastname: 'Lovelace',
        preferredname: 'Ada Lovelace',
        email: 'conv-web@example.com',
      },
      context: { sessionId: { isDisplayable: true, value: 'conv-web' }, channel: { value: 'web' } },
    });
    expect(conversation.startMessage!.displayname).toBe('AI assistant');
    expect(conversation.startMessage!.message).toContain('Summary: Parcel missing for 5 days.');
    expect(conversation.startMessage!.message).toContain('Customer: My parcel has not arrived.');
    await waitForState(t, await token(), 'conv-sms', ['delivered']);
    await waitForState(t, await token(), 'conv-whatsapp', ['delivered']);
    const email = await submit(t, await token(), handoffBody('conv-email', { channel: 'email' }));
    expect(email.body.route).toBe('incident');
    await waitForState(t, await token(), 'conv-email', ['delivered']);
    expect(ms.environment.creates.incidents - incidentsBefore).toBe(1);
  });

  it('sends what does not fit in the 27 KB start message as follow-up messages of at most 6,000 characters', async () => {
    const transcript = Array.from({ length: 40 }, (_, i) => ({
      role: i % 2 ? 'ai' : 'customer',
      text: `${i} ${'words '.repeat(250)}`,
      at: '2026-11-30T09:00:00Z',
    }));
    await submit(t, await token(), handoffBody('conv-long', { channel: 'web', transcript }));
    const done = await waitForState(t, await token(), 'conv-long', ['delivered']);
    const conversation = conversations().find((c) => c.id === done.dynamics.conversation_id)!;
    expect(Buffer.byteLength(conversation.startMessage!.message)).toBeLessThanOrEqual(27 * 1024);
    expect(conversation.startMessage!.message).toMatch(/continues in the next messages/);
    const followUps = conversation.activities.map((a) => a.activity);
    expect(followUps.length).toBeGreaterThan(0);
    expect(followUps.every((a) => a.type === 'message' && (a.text as string).length <= 6000)).toBe(true);
    const everything = `${conversation.startMessage!.message}\n${followUps.map((a) => a.text as string).join('\n')}`;
    for (const entry of transcript) expect(everything).toContain(entry.text.trim());
    expect(followUps.map((a) => a.id)).toEqual(followUps.map((_, i) => `conv-long-${i + 1}`));
  });

  it('creates the conversation once when the answer to its create is lost', async () => {
    const before = ms.environment.messaging!.created;
    const received = ms.mark();
    ms.environment.messagingFault = { resetAfterProcessing: true, method: 'POST', path: CREATE, count: 1 };
    await submit(t, await token(), handoffBody('conv-reset', { channel: 'whatsapp' }));
    const done = await waitForState(t, await token(), 'conv-reset', ['delivered']);
    expect(ms.environment.messaging!.created - before).toBe(1);
    expect(received().filter((r) => r.server === 'messaging' && r.path === CREATE)).toHaveLength(2);
    expect(
      conversations()
        .filter((c) => c.customerId === 'conv-reset')
        .map((c) => c.id),
    ).toEqual([done.dynamics.conversation_id]);
  });

  it('retries 429 (honouring Retry-After) and 503, then creates one conversation', async () => {
    const before = ms.environment.messaging!.created;
    ms.environment.messagingFault = { status: 429, retryAfter: 1, method: 'POST', path: CREATE, count: 1 };
    const started = Date.now();
    await submit(t, await token(), handoffBody('conv-429', { channel: 'web' }));
    const done = await waitForState(t, await token(), 'conv-429', ['delivered']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(done.attempts).toBe(2);
    ms.environment.messagingFault = { status: 503, method: 'POST', path: CREATE, count: 1 };
    await submit(t, await token(), handoffBody('conv-503', { channel: 'web' }));
    expect((await waitForState(t, await token(), 'conv-503', ['delivered'])).attempts).toBe(2);
    expect(ms.environment.messaging!.created - before).toBe(2);
  });

  it.each(CODES)('maps code %i (HTTP %i) to a clear outcome', async (code, status) => {
    const session = `code-${code}`;
    ms.environment.messagingFault = { status, code: String(code), method: 'POST', path: CREATE, count: 1 };
    await submit(t, await token(), handoffBody(session, { channel: 'web' }));
    if (status >= 500) {
      // The service could not process it: retried, then delivered.
      const done = await waitForState(t, await token(), session, ['delivered']);
      expect(done.attempts).toBe(2);
      return;
    }
    const failed = await waitForState(t, await token(), session, ['failed']);
    expect(failed).toMatchObject({
      reason: 'configuration',
      attempts: 1,
      last_error: { stage: 'conversation_create', upstream_status: status, upstream_code: String(code) },
    });
    expect(failed.last_error.hint).toEqual(expect.any(String));
    if (code === 30014) expect(failed.last_error.hint).toMatch(/not linked to a workstream.*Workstreams/);
    if (code === 30004) expect(failed.last_error.hint).toMatch(/msdyn_occustommessagingchannel/);
    if (code === 30001) expect(failed.last_error.hint).toMatch(/messaging_organization_id/);
  });

  it('fails with a hint when the channel belongs to another app, and retry delivers once it is fixed', async () => {
    ms.environment.messaging!.channels.get(MESSAGING_CHANNEL)!.appId = '99999999-9999-4999-8999-999999999999';
    await submit(t, await token(), handoffBody('conv-401', { channel: 'sms' }));
    const failed = await waitForState(t, await token(), 'conv-401', ['failed']);
    expect(failed.last_error).toMatchObject({ stage: 'conversation_create', upstream_status: 401 });
    expect(failed.last_error.hint).toContain(`msdyn_appid must be ${ms.app.clientId}`);
    ms.environment.messaging!.channels.get(MESSAGING_CHANNEL)!.appId = ms.app.clientId;
    const admin = await t.token({ org: 'chat', roles: ['admin'] });
    expect((await call(t, 'POST', `${HANDOFFS}/conv-401/retry`, admin)).status).toBe(200);
    await waitForState(t, await token(), 'conv-401', ['delivered']);
  });

  it('delivers a conversation handoff as a case when the messaging settings were removed before delivery', async () => {
    await connect(t, ms, 'switch', messaging);
    const admin = await t.token({ org: 'switch', roles: ['admin'] });
    // Hold deliveries: the connection is invalid while the settings change.
    ms.environment.messagingFault = { status: 503, method: 'POST', path: CREATE };
    await submit(t, await token('switch'), handoffBody('conv-switch', { channel: 'web' }));
    await waitForState(t, await token('switch'), 'conv-switch', ['pending']);
    const cleared = await call(t, 'PUT', '/api/v1/integrations/dynamics365', admin, {
      client_id: ms.app.clientId,
      tenant_id: ms.tenant.id,
      environment_url: ms.environment.origin,
      messaging_endpoint: null,
      messaging_channel_id: null,
      messaging_organization_id: null,
      messaging_scope: null,
    });
    expect(cleared.status).toBe(200);
    const done = await waitForState(t, await token('switch'), 'conv-switch', ['delivered'], 20_000);
    expect(done).toMatchObject({ route: 'incident', route_reason: 'messaging_removed' });
    expect(records(ms, 'incidents').some((r) => r.id === done.dynamics.incident_id)).toBe(true);
  });
});
