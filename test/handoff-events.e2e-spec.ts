import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import { representativeActivity, webhookToken } from '../sandbox/messaging-webhook.js';
import { startTestApp, TestApp } from './support/app.js';
import {
  connectMessaging,
  countRows,
  HANDOFF_TEST_ENV,
  handoffBody,
  HANDOFFS,
  submit,
  waitForState,
} from './support/handoff.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';
import { eventually } from './support/eventually.js';
import { openStream } from './support/sse.js';
import { ENDING_EVENTS } from '../src/handoff/conversation/activity-mapping.js';

describe('Conversation events: the messaging webhook in, Server-Sent Events out, on any instance', () => {
  let ms: MicrosoftWorld;
  let a: TestApp;
  let b: TestApp;
  let token: () => Promise<string>;

  const reply = (conversationId: string, input: Parameters<typeof representativeActivity>[4]) =>
    representativeActivity(ms.sandbox.model, ms.sandbox.key, ms.environment, conversationId, input);
  const eventsStored = () => countRows(a.databaseUrl, 'SELECT count(*) AS n FROM handoff_events');
  const webhookUrl = (t: TestApp, conversationId: string, org = 'chat') =>
    `${t.baseUrl}/webhooks/dynamics365/messaging/${org}/v3/conversations/${conversationId}/activities`;
  const post = (url: string, body: unknown, headers: Record<string, string>) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  async function startConversation(session: string): Promise<string> {
    await submit(a, await token(), handoffBody(session, { channel: 'web' }));
    return (await waitForState(a, await token(), session, ['delivered'])).dynamics.conversation_id as string;
  }

  beforeAll(async () => {
    ms = await startMicrosoft();
    const origin = ms.environment.messaging!.origin;
    const shared = {
      ...ms.env,
      ...HANDOFF_TEST_ENV,
      HANDOFF_EVENTS_HEARTBEAT: '1s',
      DYNAMICS_ALLOWED_ORIGINS: `${ms.environment.origin},${origin}`,
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    };
    a = await startTestApp({ env: shared });
    b = await startTestApp({ env: shared, databaseUrl: a.databaseUrl });
    token = () => a.token({ org: 'chat', roles: ['handoff'] });
    await connectMessaging(a, ms, 'chat', `${a.baseUrl}/webhooks/dynamics365/messaging/chat`);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await ms.sandbox.close();
  });

  it("streams a representative's reply, received by one instance, from another within a second", async () => {
    const conversation = await startConversation('ev-1');
    // The stream is on instance b; Microsoft's webhook call reaches instance a.
    const stream = await openStream(`${b.baseUrl}${HANDOFFS}/ev-1/events`, await token());
    expect(stream.status).toBe(200);
    expect(stream.headers.get('cache-control')).toBe('no-store');
    const entry = await reply(conversation, { type: 'message', text: 'Hi, this is Dana', from: 'Dana' });
    expect(entry.webhook).toEqual([200]);
    await stream.waitFor(1, 1000);
    expect(stream.events[0]).toMatchObject({
      event: 'agent.message',
      data: {
        type: 'agent.message',
        session_id: 'ev-1',
        conversation_id: conversation,
        data: { text: 'Hi, this is Dana', from: { name: 'Dana' }, text_format: 'markdown' },
      },
    });
    expect(stream.events[0].id).toBe(stream.events[0].data.id);
    // Heartbeats keep an idle stream open.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(stream.comments).toBeGreaterThanOrEqual(1);
    await reply(conversation, { type: 'message', name: 'ConversationClosed' });
    await stream.waitForEnd();
    expect(stream.events.map((e) => e.event)).toEqual(['agent.message', 'conversation.closed']);
    expect(stream.events[1].data.data).toEqual({ reason: 'ConversationClosed' });
    expect((await waitForState(a, await token(), 'ev-1', ['delivered'])).dynamics.conversation_state).toBe(
      'closed',
    );
    // A closed conversation's stream, resumed after its last event, ends at once.
    const after = await openStream(`${a.baseUrl}${HANDOFFS}/ev-1/events`, await token(), stream.events[1].id);
    await after.waitForEnd();
    expect(after.events).toEqual([]);
  });

  it('resumes with Last-Event-ID without losing or repeating an event', async () => {
    const conversation = await startConversation('ev-2');
    const first = await openStream(`${a.baseUrl}${HANDOFFS}/ev-2/events`, await token());
    await reply(conversation, { type: 'message', text: 'one' });
    await first.waitFor(1);
    first.close();
    await reply(conversation, { type: 'message', text: 'two' });
    await reply(conversation, { type: 'typing' });
    await reply(conversation, { type: 'message', name: 'AgentAccepted' });
    const resumed = await openStream(
      `${b.baseUrl}${HANDOFFS}/ev-2/events`,
      await token(),
      first.events[0].id,
    );
    await resumed.waitFor(3);
    await reply(conversation, { type: 'message', text: 'three' });
    await resumed.waitFor(4);
    expect(resumed.events.map((e) => [e.event, e.data.data.text ?? e.data.data.name ?? null])).toEqual([
      ['agent.message', 'two'],
      ['agent.typing', null],
      ['conversation.event', 'AgentAccepted'],
      ['agent.message', 'three'],
    ]);
    const ids = [first.events[0].id, ...resumed.events.map((e) => e.id)].map(Number);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    resumed.close();
    const everything = await openStream(`${a.baseUrl}${HANDOFFS}/ev-2/events`, await token());
    await everything.waitFor(5);
    expect(everything.events.map((e) => e.id)).toEqual(ids.map(String));
    everything.close();
  });

  it('refuses forged, expired, other-tenant and wrong-audience tokens with 401, storing nothing', async () => {
    const conversation = await startConversation('ev-3');
    const url = webhookUrl(a, conversation);
    const activity = { type: 'message', text: 'forged', conversation: { id: conversation } };
    const before = await eventsStored();
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ tid: ms.tenant.id, azp: ms.app.clientId })
      .setProtectedHeader({ alg: 'RS256', kid: ms.sandbox.key.kid })
      .setIssuer(`https://login.microsoftonline.com/${ms.tenant.id}/v2.0`)
      .setAudience(ms.app.clientId)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    const otherTenant = ms.sandbox.model.createTenant({ name: 'Fabrikam' });
    const tokens: [string, Record<string, string>][] = [
      ['none', {}],
      ['not a JWT', { 'x-ms-token': 'hello' }],
      ['forged signature', { 'x-ms-token': forged }],
      [
        'expired',
        {
          'x-ms-token': await webhookToken(ms.sandbox.key, ms.tenant.id, ms.app.clientId, {
            expiresInSeconds: -600,
          }),
        },
      ],
      ['other tenant', { 'x-ms-token': await webhookToken(ms.sandbox.key, otherTenant.id, ms.app.clientId) }],
      [
        'wrong audience',
        {
          authorization: `Bearer ${await webhookToken(ms.sandbox.key, ms.tenant.id, ms.app.clientId, { audience: 'https://other.example' })}`,
        },
      ],
    ];
    for (const [label, headers] of tokens) {
      const response = await post(url, activity, headers);
      const body = (await response.json()) as { error: { code: string } };
      expect({ label, status: response.status, code: body.error.code }).toEqual({
        label,
        status: 401,
        code: 'unauthorized',
      });
    }
    // Another org's path with a valid token of this tenant: refused as well.
    const good = await webhookToken(ms.sandbox.key, ms.tenant.id, ms.app.clientId);
    expect((await post(webhookUrl(a, conversation, 'nobody'), activity, { 'x-ms-token': good })).status).toBe(
      401,
    );
    expect(await eventsStored()).toBe(before);
    // The real token in either header is accepted.
    expect((await post(url, activity, { 'x-ms-token': good })).status).toBe(200);
    expect(
      (await post(url, { ...activity, text: 'bearer' }, { authorization: `Bearer ${good}` })).status,
    ).toBe(200);
    expect(await eventsStored()).toBe(before + 2);
    const unknown = await post(webhookUrl(a, '55555555-5555-4555-8555-555555555555'), activity, {
      'x-ms-token': good,
    });
    expect(unknown.status).toBe(404);
    const notActivity = await post(url, { type: 'invoke' }, { 'x-ms-token': good });
    expect(notActivity.status).toBe(400);
  });

  it("accepts only the org's own app as the caller, tokens issued in the past and living at most 24 h", async () => {
    const conversation = await startConversation('ev-caller');
    const url = webhookUrl(a, conversation);
    const activity = { type: 'message', text: 'who?', conversation: { id: conversation } };
    const before = await eventsStored();
    const other = ms.addApp().app.clientId;
    const refused: [string, Parameters<typeof webhookToken>[3]][] = [
      ['another app of the tenant, for this app', { caller: other }],
      ['another app, v1 token for the Application ID URI', { caller: other, version: 1 }],
      ['issued ten minutes from now', { issuedAtOffsetSeconds: 600 }],
      ['living 25 hours', { expiresInSeconds: 25 * 3600 }],
    ];
    for (const [label, overrides] of refused) {
      const token = await webhookToken(ms.sandbox.key, ms.tenant.id, ms.app.clientId, overrides);
      expect({
        label,
        status: (await post(url, activity, { authorization: `Bearer ${token}` })).status,
      }).toEqual({
        label,
        status: 401,
      });
    }
    expect(await eventsStored()).toBe(before);
    // Counted by reason.
    const metrics = await (await fetch(`${a.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/dynamics365_messaging_webhook_rejected_total\{reason="other_caller"\} [2-9]/);
    expect(metrics).toMatch(/dynamics365_messaging_webhook_rejected_total\{reason="too_long_lived"\} [1-9]/);
    const v1 = await webhookToken(ms.sandbox.key, ms.tenant.id, ms.app.clientId, { version: 1 });
    expect((await post(url, activity, { authorization: `Bearer ${v1}` })).status).toBe(200);
  });

  it("checks the audience and caller an org's admin set (messaging_webhook_audience, messaging_webhook_caller_id)", async () => {
    const caller = ms.addApp().app.clientId;
    // The sandbox's one channel keeps calling org chat's webhook (the tests after this rely on it);
    // this test posts to org custom's webhook itself.
    await connectMessaging(a, ms, 'custom', `${a.baseUrl}/webhooks/dynamics365/messaging/chat`, {
      messaging_webhook_audience: 'api://contoso-omnichannel-webhook',
      messaging_webhook_caller_id: caller,
    });
    const orgToken = await a.token({ org: 'custom', roles: ['handoff'] });
    await submit(a, orgToken, handoffBody('ev-custom', { channel: 'web' }));
    const conversation = (await waitForState(a, orgToken, 'ev-custom', ['delivered'])).dynamics
      .conversation_id as string;
    const url = webhookUrl(a, conversation, 'custom');
    const activity = { type: 'message', text: 'custom', conversation: { id: conversation } };
    const send = async (overrides: Parameters<typeof webhookToken>[3]) =>
      (
        await post(url, activity, {
          authorization: `Bearer ${await webhookToken(ms.sandbox.key, ms.tenant.id, ms.app.clientId, overrides)}`,
        })
      ).status;
    expect(await send({ audience: 'api://contoso-omnichannel-webhook', caller })).toBe(200);
    expect(await send({ audience: 'api://contoso-omnichannel-webhook' })).toBe(401); // the org's own app: not the caller set
    expect(await send({ audience: `api://${ms.app.clientId}`, caller })).toBe(401); // the default audience: not the one set
  });

  it('drops attachment URLs that are not http(s) and bounds sender names before storing', async () => {
    const conversation = await startConversation('ev-clean');
    const good = await webhookToken(ms.sandbox.key, ms.tenant.id, ms.app.clientId);
    const activity = {
      type: 'message',
      text: 'see attached',
      from: { id: 'agent-1', name: 'N'.repeat(500) },
      conversation: { id: conversation },
      attachments: [
        { contentType: 'text/html', contentUrl: 'javascript:alert(1)', name: 'x' },
        { contentType: 'image/png', contentUrl: 'data:image/png;base64,AAAA', name: 'y' },
        { contentType: 'application/pdf', contentUrl: 'https://files.example.com/a.pdf', name: 'a.pdf' },
      ],
    };
    expect((await post(webhookUrl(a, conversation), activity, { 'x-ms-token': good })).status).toBe(200);
    const stream = await openStream(`${a.baseUrl}${HANDOFFS}/ev-clean/events`, await token());
    await stream.waitFor(1);
    const data = stream.events.at(-1)!.data.data as {
      from: { name: string };
      attachments: { content_url: string | null }[];
    };
    stream.close();
    expect(data.from.name).toHaveLength(100);
    expect(data.attachments.map((x) => x.content_url)).toEqual([
      null,
      null,
      'https://files.example.com/a.pdf',
    ]);
  });

  it('stores an activity Microsoft sends twice (a retried webhook call) once', async () => {
    const conversation = await startConversation('ev-4');
    const good = await webhookToken(ms.sandbox.key, ms.tenant.id, ms.app.clientId);
    const activity = { type: 'message', id: 'activity-1', text: 'once', conversation: { id: conversation } };
    const before = await eventsStored();
    for (let i = 0; i < 3; i++) {
      expect((await post(webhookUrl(b, conversation), activity, { 'x-ms-token': good })).status).toBe(200);
    }
    expect(await eventsStored()).toBe(before + 1);
  });

  it('drops a client that lets events pile up unread, instead of buffering them for ever', async () => {
    const conversation = await startConversation('ev-slow');
    const { port } = new URL(a.baseUrl);
    const streamToken = await token();
    let received = 0;
    let closed = false;
    const socket = connect(Number(port), '127.0.0.1', () =>
      socket.write(
        `GET ${HANDOFFS}/ev-slow/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${streamToken}\r\n\r\n`,
      ),
    );
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.pause(); // reads nothing from here on
    const good = await webhookToken(ms.sandbox.key, ms.tenant.id, ms.app.clientId);
    const text = 'x'.repeat(60_000);
    const events = 200; // 12 MB: more than the kernel's buffers and the 1 MiB the service keeps
    for (let i = 0; i < events; i++) {
      const sent = await post(
        webhookUrl(a, conversation),
        { type: 'message', text: `${i} ${text}`, conversation: { id: conversation } },
        { 'x-ms-token': good },
      );
      expect(sent.status).toBe(200);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    socket.resume();
    await eventually(() => closed, 'the server to end the slow stream', 10_000);
    expect(received).toBeLessThan(events * text.length);
  });

  it('closes the conversation on every ending event Microsoft documents or its samples send', async () => {
    for (const name of ENDING_EVENTS) {
      const session = `ev-end-${name}`;
      const conversation = await startConversation(session);
      const stream = await openStream(`${a.baseUrl}${HANDOFFS}/${session}/events`, await token());
      await reply(conversation, { type: 'event', name });
      await stream.waitForEnd();
      expect({ name, last: stream.events.at(-1) }).toMatchObject({
        name,
        last: { event: 'conversation.closed', data: { data: { reason: name } } },
      });
      const doc = await waitForState(a, await token(), session, ['delivered']);
      expect({ name, state: doc.dynamics.conversation_state }).toEqual({ name, state: 'closed' });
    }
  });

  it('stores a retried activity without an id once (same sender, content and timestamp), new words again', async () => {
    const conversation = await startConversation('ev-retry');
    const good = await webhookToken(ms.sandbox.key, ms.tenant.id, ms.app.clientId);
    const activity = {
      type: 'message',
      text: 'Retried by Microsoft',
      from: { id: 'agent-7', name: 'Dana' },
      timestamp: new Date().toISOString(),
      conversation: { id: conversation },
    };
    const before = await eventsStored();
    for (let i = 0; i < 3; i++) {
      expect(
        (await post(webhookUrl(i % 2 ? b : a, conversation), activity, { 'x-ms-token': good })).status,
      ).toBe(200);
    }
    expect(await eventsStored()).toBe(before + 1);
    const later = { ...activity, timestamp: new Date(Date.now() + 1000).toISOString() };
    expect((await post(webhookUrl(a, conversation), later, { 'x-ms-token': good })).status).toBe(200);
    expect(await eventsStored()).toBe(before + 2);
  });

  it('streams only conversation handoffs of the caller’s org', async () => {
    await submit(a, await token(), handoffBody('ev-case', { channel: 'email' }));
    const caseStream = await fetch(`${a.baseUrl}${HANDOFFS}/ev-case/events`, {
      headers: { authorization: `Bearer ${await token()}` },
    });
    expect(caseStream.status).toBe(409);
    const other = await a.token({ org: 'other', roles: ['handoff'] });
    expect(
      (await fetch(`${a.baseUrl}${HANDOFFS}/ev-1/events`, { headers: { authorization: `Bearer ${other}` } }))
        .status,
    ).toBe(404);
    const badId = await fetch(`${a.baseUrl}${HANDOFFS}/ev-1/events`, {
      headers: { authorization: `Bearer ${await token()}`, 'last-event-id': 'abc' },
    });
    expect(badId.status).toBe(400);
  });
});
