import { createServer, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { representativeActivity } from './messaging-webhook.js';
import { startWorld, World } from './testing.js';

describe('sandbox Omnichannel Messaging API', () => {
  let world: World;
  let token: string;
  const channelId = '0e5f6a7b-1c2d-4e3f-8a9b-0c1d2e3f4a5b';

  const call = async (path: string, body: unknown, headers: Record<string, string> = {}, method = 'POST') => {
    const response = await fetch(`${world.environment.messaging!.origin}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'channel-id': channelId,
        'organization-id': world.environment.organizationId,
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text ? JSON.parse(text) : undefined,
    };
  };
  const create = (body: unknown, headers?: Record<string, string>) =>
    call('/api/v1.0/consumer/conversation/create', body, headers);

  beforeAll(async () => {
    world = await startWorld();
    world.environment.messaging!.channels.set(channelId, {
      id: channelId,
      appId: world.app.clientId,
      webhookUrl: null,
      workstreamLinked: true,
    });
    const response = await world.requestToken({ scope: `${world.environment.messagingResource}/.default` });
    token = ((await response.json()) as { access_token: string }).access_token;
  });
  afterAll(() => world.sandbox.close());

  it('creates a conversation once per active customer id, and ends it', async () => {
    const first = await create({
      customercontext: { customerid: 'sess-1', firstname: 'Ada' },
      conversationcontext: { sessionId: { isDisplayable: true, value: 'sess-1' } },
      startmessage: { message: 'Hello', displayname: 'AI' },
      skipdeflectionbot: true,
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ isNew: true, messageId: expect.stringMatching(/^\d{13}$/) });
    expect(first.headers.get('x-ms-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    const again = await create({ customercontext: { customerid: 'sess-1' } });
    expect(again.body).toEqual({ conversationId: first.body.conversationId, isNew: false });
    expect(world.environment.messaging!.created).toBe(1);
    const id = first.body.conversationId as string;
    expect(
      (await call(`/api/v1.0/consumer/conversation/${id}`, { type: 'message', text: 'More' })).body,
    ).toEqual({
      messageId: expect.stringMatching(/^\d{13}$/),
    });
    expect((await call(`/api/v1.0/consumer/conversation/${id}`, { type: 'endOfConversation' })).status).toBe(
      200,
    );
    const closed = await call(`/api/v1.0/consumer/conversation/${id}`, { type: 'message', text: 'Late' });
    expect([closed.status, closed.body.errorCode]).toEqual([404, 30013]);
    const next = await create({ customercontext: { customerid: 'sess-1' } });
    expect(next.body.isNew).toBe(true);
  });

  it('answers each documented error as an RFC 7807 problem with its code', async () => {
    const conversation = (await create({ customercontext: { customerid: 'errors' } })).body
      .conversationId as string;
    const post = (body: unknown) => call(`/api/v1.0/consumer/conversation/${conversation}`, body);
    const cases: [Promise<{ status: number; body: any }>, number, number][] = [
      [create({}, { 'organization-id': '11111111-1111-4111-8111-111111111111' }), 400, 30001],
      [create({}, { 'channel-id': 'not-a-guid' }), 400, 30002],
      [create({}, { 'channel-id': '22222222-2222-4222-8222-222222222222' }), 404, 30004],
      [create('{"customercontext":'), 400, 30012],
      [
        create({
          conversationcontext: Object.fromEntries(
            Array.from({ length: 101 }, (_, i) => [`k${i}`, { value: i }]),
          ),
        }),
        400,
        30010,
      ],
      [post({ type: 'message', text: 'x'.repeat(6001) }), 400, 30011],
      [post({ type: 'message', text: '' }), 400, 30016],
      [post({ type: 'event', name: 'Whatever' }), 400, 30003],
      [call('/api/v1.0/consumer/conversation/not-a-guid', { type: 'typing' }), 400, 30005],
      [
        call('/api/v1.0/consumer/conversation/33333333-3333-4333-8333-333333333333', { type: 'typing' }),
        404,
        30013,
      ],
    ];
    for (const [pending, status, code] of cases) {
      const answer = await pending;
      expect({ status: answer.status, code: answer.body.errorCode }).toEqual({ status, code });
      expect(answer.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
    }
    world.environment.messaging!.channels.set('44444444-4444-4444-8444-444444444444', {
      id: '44444444-4444-4444-8444-444444444444',
      appId: world.app.clientId,
      webhookUrl: null,
      workstreamLinked: false,
    });
    const unlinked = await create({}, { 'channel-id': '44444444-4444-4444-8444-444444444444' });
    expect([unlinked.status, unlinked.body.errorCode]).toEqual([400, 30014]);
  });

  it('refuses tokens for another resource or another app with 401, and what it does not simulate with 501', async () => {
    const dataverseToken = await world.accessToken();
    const wrongAudience = await create({}, { authorization: `Bearer ${dataverseToken}` });
    expect(wrongAudience.status).toBe(401);
    expect((await create({}, { authorization: 'Bearer nope' })).status).toBe(401);
    const other = world.sandbox.model.createApp(world.tenant.id);
    const otherSecret = world.sandbox.model.addSecret(world.tenant.id, other.clientId);
    const otherToken = (await (
      await world.requestToken({
        client_id: other.clientId,
        client_secret: otherSecret.value,
        scope: `${world.environment.messagingResource}/.default`,
      })
    ).json()) as { access_token: string };
    const foreign = await create({}, { authorization: `Bearer ${otherToken.access_token}` });
    expect(foreign.status).toBe(401);
    const unknown = await call('/api/v1.0/consumer/conversation/create/now', undefined, {}, 'GET');
    expect(unknown.status).toBe(501);
    expect(unknown.body.detail).toMatch(/does not simulate GET/);
  });

  it('injects faults with Retry-After, and the create-then-reset fault', async () => {
    world.environment.messagingFault = { status: 429, retryAfter: 3, count: 1 };
    const throttled = await create({ customercontext: { customerid: 'fault' } });
    expect([throttled.status, throttled.headers.get('retry-after')]).toEqual([429, '3']);
    world.environment.messagingFault = { resetAfterProcessing: true, count: 1 };
    await expect(create({ customercontext: { customerid: 'reset' } })).rejects.toThrow();
    const again = await create({ customercontext: { customerid: 'reset' } });
    expect(again.body.isNew).toBe(false);
  });

  it("posts a representative's reply to the channel's webhook with a token signed by the tenant's keys", async () => {
    const received: { headers: IncomingMessage['headers']; url?: string; body: string }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ headers: request.headers, url: request.url, body });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const webhook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/acme`;
      world.environment.messaging!.channels.get(channelId)!.webhookUrl = webhook;
      const id = (await create({ customercontext: { customerid: 'webhook' } })).body.conversationId as string;
      const entry = await representativeActivity(
        world.sandbox.model,
        world.sandbox.key,
        world.environment,
        id,
        {
          type: 'message',
          text: 'Hi, this is Dana',
        },
      );
      expect(entry.webhook).toEqual([200]);
      expect(received[0].url).toBe(`/hooks/acme/v3/conversations/${id}/activities`);
      expect(JSON.parse(received[0].body)).toMatchObject({ type: 'message', text: 'Hi, this is Dana' });
      const keys = createRemoteJWKSet(
        new URL(`${world.sandbox.loginUrl}/${world.tenant.id}/discovery/v2.0/keys`),
      );
      expect(received[0].headers['x-ms-token']).toBeUndefined();
      const bearer = /^Bearer (.+)$/.exec(received[0].headers.authorization ?? '')![1];
      const { payload } = await jwtVerify(bearer, keys, {
        issuer: `https://login.microsoftonline.com/${world.tenant.id}/v2.0`,
        audience: world.app.clientId,
      });
      expect(payload.tid).toBe(world.tenant.id);
      await representativeActivity(world.sandbox.model, world.sandbox.key, world.environment, id, {
        type: 'message',
        name: 'ConversationClosed',
      });
      expect(JSON.parse(received[1].body)).toMatchObject({ name: 'ConversationClosed' });
      expect(world.environment.messaging!.conversations.get(id)!.active).toBe(false);
    } finally {
      server.close();
    }
  });
});
