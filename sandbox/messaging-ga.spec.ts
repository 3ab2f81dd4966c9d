// Conformance of the sandbox's Messaging API with Microsoft's generally-available contract
// (September 2025): the header names, the channel id in the body, MessageRead, the three reads
// and their paging, the webhook's Bearer token (v1 or v2, custom Application ID URIs), every
// ending event, retries after a timeout with no activity id, and a webhook down for all three
// attempts.
import { createServer, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { ENDING_EVENTS, REPRESENTATIVE_EVENTS, representativeActivity } from './messaging-webhook.js';
import { startWorld, World } from './testing.js';

describe('sandbox Messaging API, generally-available contract', () => {
  let world: World;
  let token: string;
  const channelId = '5a6b7c8d-1e2f-4a3b-8c4d-5e6f7a8b9c0d';
  const received: { at: number; headers: IncomingMessage['headers']; url?: string; body: string }[] = [];
  let webhookUrl: string;
  let closeWebhook: () => void;

  const call = async (
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    method = body === undefined ? 'GET' : 'POST',
  ) => {
    const response = await fetch(`${world.environment.messaging!.origin}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'channel-id': channelId,
        'organization-id': world.environment.organizationId,
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  const create = async (customerid: string, start?: string) =>
    (
      await call('/api/v1.0/consumer/conversation/create', {
        customercontext: { customerid },
        conversationcontext: { sessionId: { isDisplayable: true, value: customerid }, channel: 'web' },
        ...(start ? { startmessage: { message: start, displayname: 'AI' } } : {}),
      })
    ).body as { conversationId: string; messageId?: string };
  const represent = (conversationId: string, input: Parameters<typeof representativeActivity>[4]) =>
    representativeActivity(world.sandbox.model, world.sandbox.key, world.environment, conversationId, input);

  beforeAll(async () => {
    world = await startWorld();
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ at: Date.now(), headers: request.headers, url: request.url, body });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
    closeWebhook = () => server.close();
    world.environment.messaging!.channels.set(channelId, {
      id: channelId,
      appId: world.app.clientId,
      webhookUrl,
      workstreamLinked: true,
    });
    world.environment.messaging!.webhookTimeoutMs = 400;
    const response = await world.requestToken({ scope: `${world.environment.messagingResource}/.default` });
    token = ((await response.json()) as { access_token: string }).access_token;
  });
  afterAll(async () => {
    closeWebhook();
    await world.sandbox.close();
  });
  beforeEach(() => {
    received.length = 0;
    world.environment.messaging!.preview = false;
  });

  it('reads channel-id and organization-id; the x-ms- names only in preview behaviour', async () => {
    const previewNames = {
      'channel-id': '',
      'organization-id': '',
      'x-ms-channel-id': channelId,
      'x-ms-organization-id': world.environment.organizationId,
    };
    const refused = await call('/api/v1.0/consumer/conversation/create', {}, previewNames);
    expect([refused.status, refused.body.errorCode]).toEqual([400, 30001]);
    world.environment.messaging!.preview = true;
    expect((await call('/api/v1.0/consumer/conversation/create', {}, previewNames)).status).toBe(200);
    const gaInPreview = await call('/api/v1.0/consumer/conversation/create', {});
    expect([gaInPreview.status, gaInPreview.body.errorCode]).toEqual([400, 30001]);
  });

  it("checks the body's channel id against the header, answers MessageRead and custom events, refuses other events", async () => {
    const { conversationId } = await create('body-channel');
    const post = (activity: Record<string, unknown>) =>
      call(`/api/v1.0/consumer/conversation/${conversationId}`, activity);
    const mismatch = await post({
      type: 'message',
      channelId: '11111111-2222-4333-8444-555555555555',
      text: 'x',
    });
    expect([mismatch.status, mismatch.body.errorCode]).toEqual([400, 30002]);
    expect((await post({ type: 'message', channelId: channelId.toUpperCase(), text: 'x' })).status).toBe(200);
    const read = await post({ type: 'event', name: 'MessageRead', channelId });
    expect([read.status, read.body]).toEqual([200, { messageId: '', message: null }]);
    const custom = await post({
      type: 'event',
      name: 'TestEvent',
      channelData: { customEvent: true, customEventName: 'TestEvent', customEventValue: '{}' },
    });
    expect([custom.status, custom.body.messageId]).toEqual([200, expect.stringMatching(/^\d{13}$/)]);
    const other = await post({ type: 'event', name: 'Whatever' });
    expect([other.status, other.body.errorCode]).toEqual([400, 30003]);
  });

  it('lists active conversations of the channel, a page at a time', async () => {
    const since = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const ids = [];
    for (const name of ['list-1', 'list-2', 'list-3']) ids.push((await create(name)).conversationId);
    await call(`/api/v1.0/consumer/conversation/${ids[1]}`, { type: 'endOfConversation' });
    const q = `StartTimeStamp=${encodeURIComponent(since)}&PageSize=1`;
    const first = await call(`/api/v1.0/consumer/conversations?${q}`);
    expect(first.status).toBe(200);
    expect(first.body.conversations).toEqual([{ conversationid: ids[0], timestamp: expect.any(String) }]);
    const second = await call(
      `/api/v1.0/consumer/conversations?${q}&ContinuationToken=${first.body.continuationtoken}`,
    );
    expect(second.body).toEqual({
      conversations: [{ conversationid: ids[2], timestamp: expect.any(String) }],
      continuationtoken: null,
    });
    for (const [query, status, code] of [
      ['PageSize=251', 400, 30007],
      ['PageSize=0', 400, 30007],
      ['StartTimeStamp=yesterday', 400, 30006],
      ['ContinuationToken=33333333-3333-4333-8333-333333333333', 400, 30009],
    ] as const) {
      const answer = await call(`/api/v1.0/consumer/conversations?${query}`);
      expect([query, answer.status, answer.body.errorCode]).toEqual([query, status, code]);
    }
  });

  it("reads a conversation's messages — both sides, with ids and timestamps — and its context", async () => {
    const { conversationId, messageId } = await create('messages', 'Summary and transcript');
    const sent = await call(`/api/v1.0/consumer/conversation/${conversationId}`, {
      type: 'message',
      from: { id: 'customer-1', name: 'Ada' },
      text: 'Are you there?',
    });
    await call(`/api/v1.0/consumer/conversation/${conversationId}`, { type: 'typing' });
    const reply = await represent(conversationId, { type: 'message', text: 'Yes, this is Dana' });
    await represent(conversationId, { type: 'typing' });
    const all = await call(`/api/v1.0/consumer/conversation/${conversationId}/messages`);
    expect(all.status).toBe(200);
    expect(all.body.continuationToken).toBeNull();
    expect(all.body.messages.map((m: Record<string, unknown>) => [m.messageId, m.text])).toEqual([
      [messageId, 'Summary and transcript'],
      [sent.body.messageId, 'Are you there?'],
      [reply.messageId, 'Yes, this is Dana'],
    ]);
    expect(all.body.messages[2]).toMatchObject({
      type: 'message',
      attachments: [],
      timestamp: reply.at,
      from: { id: expect.any(String), name: 'Dana (Support)' },
      channelData: {},
    });
    const first = await call(`/api/v1.0/consumer/conversation/${conversationId}/messages?PageSize=2`);
    expect(first.body.messages).toHaveLength(2);
    const rest = await call(
      `/api/v1.0/consumer/conversation/${conversationId}/messages?PageSize=2&ContinuationToken=${encodeURIComponent(first.body.continuationToken)}`,
    );
    expect(rest.body).toEqual({ messages: [all.body.messages[2]], continuationToken: null });
    const after = await call(
      `/api/v1.0/consumer/conversation/${conversationId}/messages?StartTimeStamp=${encodeURIComponent(all.body.messages[1].timestamp)}`,
    );
    expect(after.body.messages).toEqual([all.body.messages[2]]);
    const tooMany = await call(`/api/v1.0/consumer/conversation/${conversationId}/messages?PageSize=101`);
    expect([tooMany.status, tooMany.body.errorCode]).toEqual([400, 30008]);
    const context = await call(`/api/v1.0/consumer/conversation/${conversationId}/context`);
    expect(context.body).toEqual({
      context: [
        { name: 'sessionId', value: 'messages' },
        { name: 'channel', value: 'web' },
      ],
    });
    await call(`/api/v1.0/consumer/conversation/${conversationId}`, { type: 'endOfConversation' });
    const closed = await call(`/api/v1.0/consumer/conversation/${conversationId}/messages`);
    expect([closed.status, closed.body.errorCode]).toEqual([404, 30013]);
  });

  it("calls the webhook with Authorization: Bearer, a v2 token of the channel's app, and no activity id", async () => {
    const { conversationId } = await create('bearer');
    const entry = await represent(conversationId, { type: 'message', text: 'Hello' });
    expect(entry.webhook).toEqual([200]);
    expect(received).toHaveLength(1);
    expect(received[0].headers['x-ms-token']).toBeUndefined();
    const body = JSON.parse(received[0].body);
    expect(body).toMatchObject({
      type: 'message',
      text: 'Hello',
      channelId,
      conversation: { id: conversationId },
    });
    expect(body.id).toBeUndefined();
    const keys = createRemoteJWKSet(
      new URL(`${world.sandbox.loginUrl}/${world.tenant.id}/discovery/v2.0/keys`),
    );
    const bearer = /^Bearer (.+)$/.exec(received[0].headers.authorization!)![1];
    const { payload } = await jwtVerify(bearer, keys, {
      issuer: `https://login.microsoftonline.com/${world.tenant.id}/v2.0`,
      audience: world.app.clientId,
    });
    expect(payload).toMatchObject({ azp: world.app.clientId, tid: world.tenant.id, ver: '2.0' });
    world.environment.messaging!.preview = true;
    await represent(conversationId, { type: 'typing' });
    expect(received[1].headers.authorization).toBeUndefined();
    expect(decodeJwt(received[1].headers['x-ms-token'] as string).azp).toBe(world.app.clientId);
  });

  it('sends v1 tokens for the Application ID URI the admin exposed, custom URIs included', async () => {
    const channel = world.environment.messaging!.channels.get(channelId)!;
    channel.webhookTokenVersion = 1;
    channel.webhookAudience = 'https://contoso.example/messaging-webhook';
    try {
      const { conversationId } = await create('v1');
      await represent(conversationId, { type: 'message', text: 'v1' });
      const claims = decodeJwt(/^Bearer (.+)$/.exec(received[0].headers.authorization!)![1]);
      expect(claims).toMatchObject({
        iss: `https://sts.windows.net/${world.tenant.id}/`,
        aud: 'https://contoso.example/messaging-webhook',
        appid: world.app.clientId,
        ver: '1.0',
      });
      expect(claims.azp).toBeUndefined();
    } finally {
      channel.webhookTokenVersion = undefined;
      channel.webhookAudience = undefined;
    }
  });

  it.each(ENDING_EVENTS)('ends the conversation on %s, sent as the samples show events', async (name) => {
    expect(REPRESENTATIVE_EVENTS).toContain(name);
    const { conversationId } = await create(`ending-${name}`);
    await represent(conversationId, { type: 'message', name });
    expect(JSON.parse(received[0].body)).toMatchObject({
      type: 'message',
      name,
      text: `EventName: **_${name}_**`,
    });
    expect(world.environment.messaging!.conversations.get(conversationId)!.active).toBe(false);
  });

  it('tries again after a timeout — the same activity, one timeout later — when the webhook answered too late', async () => {
    const { conversationId } = await create('late');
    world.environment.messaging!.webhookFault = { kind: 'late_answer' };
    const entry = await represent(conversationId, { type: 'message', text: 'Delivered twice' });
    expect(entry.webhook).toEqual([expect.stringMatching(/^timeout/), 200]);
    expect(received.map((r) => r.body)).toEqual([received[0].body, received[0].body]);
    expect(received[1].at - received[0].at).toBeGreaterThanOrEqual(350);
    expect(world.environment.messaging!.webhookFault).toBeUndefined();
  });

  it('gives up after three attempts when the webhook is down; the message stays readable', async () => {
    const { conversationId } = await create('down');
    world.environment.messaging!.webhookFault = { kind: 'down' };
    const entry = await represent(conversationId, { type: 'message', text: 'Only in the messages' });
    expect(entry.webhook).toHaveLength(3);
    expect(received).toHaveLength(0);
    const messages = await call(`/api/v1.0/consumer/conversation/${conversationId}/messages`);
    expect(messages.body.messages.map((m: { text: string }) => m.text)).toEqual(['Only in the messages']);
  });

  it('makes three attempts, each cut at the timeout, when the webhook hangs', async () => {
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const channel = world.environment.messaging!.channels.get(channelId)!;
    channel.webhookUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
    try {
      const { conversationId } = await create('hang');
      const started = Date.now();
      const entry = await represent(conversationId, { type: 'message', text: 'Nobody answers' });
      expect(entry.webhook).toEqual(['timeout', 'timeout', 'timeout']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 390);
    } finally {
      channel.webhookUrl = webhookUrl;
      hanging.closeAllConnections();
      hanging.close();
    }
  });
});
