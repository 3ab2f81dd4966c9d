import { randomBytes } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { representativeActivity } from '../sandbox/messaging-webhook.js';
import { startTestApp, TestApp } from './support/app.js';
import {
  connectMessaging,
  HANDOFF_TEST_ENV,
  handoffBody,
  HANDOFFS,
  submit,
  waitForState,
} from './support/handoff.js';
import { call } from './support/integration.js';
import { eventually } from './support/eventually.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

describe('Conversation relay: events posted to the host platform (Standard Webhooks), customer messages to the representative', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let receiver: Server;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  let failNext = 0;
  let token: () => Promise<string>;

  const until = (check: () => boolean, timeoutMs = 10_000) => eventually(check, 'the relay', timeoutMs, 20);

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        if (failNext > 0) {
          failNext -= 1;
          response.writeHead(503).end();
          return;
        }
        received.push({ headers: request.headers, body });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    ms = await startMicrosoft();
    const origin = ms.environment.messaging!.origin;
    t = await startTestApp({
      env: {
        ...ms.env,
        ...HANDOFF_TEST_ENV,
        DYNAMICS_ALLOWED_ORIGINS: `${ms.environment.origin},${origin}`,
        HANDOFF_EVENTS_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
        HANDOFF_EVENTS_SECRET: SECRET,
      },
    });
    token = () => t.token({ org: 'chat', roles: ['handoff'] });
    await connectMessaging(t, ms, 'chat', `${t.baseUrl}/webhooks/dynamics365/messaging/chat`);
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
    receiver.close();
  });

  async function startConversation(session: string): Promise<string> {
    await submit(t, await token(), handoffBody(session, { channel: 'sms' }));
    return (await waitForState(t, await token(), session, ['delivered'])).dynamics.conversation_id as string;
  }
  const reply = (conversation: string, input: Parameters<typeof representativeActivity>[4]) =>
    representativeActivity(ms.sandbox.model, ms.sandbox.key, ms.environment, conversation, input);

  it('posts each event to HANDOFF_EVENTS_URL with a valid Standard Webhooks signature', async () => {
    const conversation = await startConversation('relay-1');
    await reply(conversation, { type: 'message', text: 'Hello from Dana' });
    // Within a second of the representative's reply.
    await until(() => received.length >= 1, 1000);
    const [first] = received;
    const verified = new Webhook(SECRET).verify(first.body, {
      'webhook-id': first.headers['webhook-id'] as string,
      'webhook-timestamp': first.headers['webhook-timestamp'] as string,
      'webhook-signature': first.headers['webhook-signature'] as string,
    }) as { type: string; data: { session_id: string; data: { text: string } } };
    expect(verified).toMatchObject({
      type: 'agent.message',
      data: { session_id: 'relay-1', data: { text: 'Hello from Dana' } },
    });
    // A tampered body does not verify.
    expect(() =>
      new Webhook(SECRET).verify(first.body.replace('Dana', 'Eve'), {
        'webhook-id': first.headers['webhook-id'] as string,
        'webhook-timestamp': first.headers['webhook-timestamp'] as string,
        'webhook-signature': first.headers['webhook-signature'] as string,
      }),
    ).toThrow();
  });

  it('retries a post the receiver failed, with the same webhook-id', async () => {
    const conversation = await startConversation('relay-2');
    const before = received.length;
    failNext = 1;
    await reply(conversation, { type: 'message', name: 'AgentAccepted' });
    await until(() => received.length > before, 15_000);
    const post = received[received.length - 1];
    expect(JSON.parse(post.body)).toMatchObject({
      type: 'conversation.event',
      data: { data: { name: 'AgentAccepted' } },
    });
    expect(post.headers['webhook-id']).toMatch(/^handoff-event-\d+$/);
  });

  it("relays the customer's later messages to the conversation; refuses them where there is none", async () => {
    const conversation = await startConversation('relay-3');
    const sent = await call(t, 'POST', `${HANDOFFS}/relay-3/messages`, await token(), {
      text: 'Here is my tracking number',
    });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({
      state: 'queued',
      message_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const state = () => ms.environment.messaging!.conversations.get(conversation)!;
    await until(() =>
      state().activities.some(
        (a) => a.side === 'customer' && a.activity.text === 'Here is my tracking number',
      ),
    );
    const activity = state().activities.find((a) => a.side === 'customer')!.activity;
    expect(activity).toMatchObject({
      type: 'message',
      id: sent.body.message_id,
      from: { name: 'Ada Lovelace' },
    });

    const tooLong = await call(t, 'POST', `${HANDOFFS}/relay-3/messages`, await token(), {
      text: 'x'.repeat(6001),
    });
    expect([tooLong.status, tooLong.body.error.details[0].field]).toEqual([400, 'text']);
    expect((await call(t, 'POST', `${HANDOFFS}/relay-3/messages`, await token(), { text: '' })).status).toBe(
      400,
    );
    expect((await call(t, 'POST', `${HANDOFFS}/nope/messages`, await token(), { text: 'hi' })).status).toBe(
      404,
    );
    await submit(t, await token(), handoffBody('relay-case', { channel: 'email' }));
    expect(
      (await call(t, 'POST', `${HANDOFFS}/relay-case/messages`, await token(), { text: 'hi' })).status,
    ).toBe(409);
    await reply(conversation, { type: 'message', name: 'ConversationClosed' });
    await until(() =>
      received.some((r) => r.body.includes('"conversation.closed"') && r.body.includes('relay-3')),
    );
    const closed = await call(t, 'POST', `${HANDOFFS}/relay-3/messages`, await token(), {
      text: 'still there?',
    });
    expect(closed.status).toBe(409);
    expect(closed.body.error.message).toMatch(/ended/);
  });
});
