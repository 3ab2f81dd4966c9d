// Once and only once (DESIGN §9.4), against the sandbox on Microsoft's generally-available
// contract: a webhook call Microsoft retries after a timeout is stored once; a reply the webhook
// never received (down for all three attempts, or the service itself down) is read back through
// `GET …/messages` and reaches the stream and HANDOFF_EVENTS_URL once, in order; an end the webhook
// missed closes the conversation.
import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { representativeActivity } from '../sandbox/messaging-webhook.js';
import { startTestApp, TestApp } from './support/app.js';
import {
  connectMessaging,
  HANDOFF_TEST_ENV,
  handoffBody,
  HANDOFFS,
  MESSAGING_CHANNEL,
  submit,
  waitForState,
} from './support/handoff.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';
import { eventually } from './support/eventually.js';
import { withClient } from './support/database.js';
import { HandoffEventRepository } from '../src/handoff/handoff-event.repository.js';
import { openStream } from './support/sse.js';

describe('Conversation catch-up: no agent message lost or doubled', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let env: Record<string, string>;
  let receiver: Server;
  /** The event documents posted to HANDOFF_EVENTS_URL (each body's `data`). */
  const posted: { type: string; session_id: string; data: Record<string, unknown> }[] = [];
  const token = () => t.token({ org: 'chat', roles: ['handoff'] });

  const reply = (conversationId: string, input: Parameters<typeof representativeActivity>[4]) =>
    representativeActivity(ms.sandbox.model, ms.sandbox.key, ms.environment, conversationId, input);
  const webhookOf = (app: TestApp) => `${app.baseUrl}/webhooks/dynamics365/messaging/chat`;
  const channel = () => ms.environment.messaging!.channels.get(MESSAGING_CHANNEL)!;
  /** The events stored for the session, opened (they are sealed at rest). */
  const storedTexts = async (app: TestApp, session: string) => {
    const [handoff] = await rowsOf(app, `SELECT id FROM handoffs WHERE session_id = '${session}'`);
    const rows = await app.app.get(HandoffEventRepository).after(String(handoff.id), 0n, 1000);
    return rows.map((row) => `${row.type}:${label(row.data)}`);
  };
  const postedFor = (session: string) =>
    posted
      .filter((event) => event.session_id === session)
      .map((event) => `${event.type}:${label(event.data)}`);

  async function startConversation(app: TestApp, session: string): Promise<string> {
    await submit(app, await token(), handoffBody(session, { channel: 'web' }));
    return (await waitForState(app, await token(), session, ['delivered'])).dynamics
      .conversation_id as string;
  }

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        posted.push((JSON.parse(body) as { data: (typeof posted)[number] }).data);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    ms = await startMicrosoft();
    // The webhook's retries one timeout apart, shortened from Microsoft's 10 s.
    ms.environment.messaging!.webhookTimeoutMs = 500;
    env = {
      ...ms.env,
      ...HANDOFF_TEST_ENV,
      DYNAMICS_ALLOWED_ORIGINS: `${ms.environment.origin},${ms.environment.messaging!.origin}`,
      HANDOFF_EVENTS_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      HANDOFF_EVENTS_SECRET: `whsec_${randomBytes(24).toString('base64')}`,
      MESSAGING_CATCHUP_AFTER: '2s',
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    };
    t = await startTestApp({ env });
    await connectMessaging(t, ms, 'chat', webhookOf(t));
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
    receiver.close();
  });

  it('stores and streams once an activity Microsoft sent again after its timeout (no id, no timestamp)', async () => {
    const conversation = await startConversation(t, 'cu-late');
    const stream = await openStream(`${t.baseUrl}${HANDOFFS}/cu-late/events`, await token());
    ms.environment.messaging!.webhookFault = { kind: 'late_answer' };
    const entry = await reply(conversation, { type: 'message', text: 'Sent twice by Microsoft' });
    expect(entry.webhook).toEqual([expect.stringMatching(/^timeout/), 200]);
    await reply(conversation, { type: 'message', text: 'Next' });
    await stream.waitFor(2);
    // Past a read back too (the catch-up after 2 s of silence finds both again).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(stream.events.map((e) => e.data.data.text)).toEqual(['Sent twice by Microsoft', 'Next']);
    expect(await storedTexts(t, 'cu-late')).toEqual([
      'agent.message:Sent twice by Microsoft',
      'agent.message:Next',
    ]);
    await eventually(() => postedFor('cu-late').length === 2, 'both events posted', 5000);
    stream.close();
  });

  it('reads back a reply the webhook was down for on all three attempts: streamed and posted once, in order', async () => {
    const conversation = await startConversation(t, 'cu-down');
    const stream = await openStream(`${t.baseUrl}${HANDOFFS}/cu-down/events`, await token());
    await reply(conversation, { type: 'message', text: 'First, delivered' });
    await stream.waitFor(1);
    ms.environment.messaging!.webhookFault = { kind: 'down', count: 2 };
    const lost = await reply(conversation, { type: 'message', text: 'Second, missed' });
    await reply(conversation, { type: 'message', text: 'Third, missed' });
    expect(lost.webhook).toHaveLength(3);
    await stream.waitFor(3, 15_000);
    expect(stream.events.map((e) => e.data.data.text)).toEqual([
      'First, delivered',
      'Second, missed',
      'Third, missed',
    ]);
    await eventually(() => postedFor('cu-down').length === 3, 'the missed replies posted', 10_000);
    expect(postedFor('cu-down')).toEqual([
      'agent.message:First, delivered',
      'agent.message:Second, missed',
      'agent.message:Third, missed',
    ]);
    // Later reads find all three again and store nothing more.
    await new Promise((resolve) => setTimeout(resolve, 4500));
    expect(await storedTexts(t, 'cu-down')).toHaveLength(3);
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/dynamics365_messaging_catchup_recovered_total [1-9]/);
    expect(metrics).toMatch(/dynamics365_messaging_catchup_reads_total\{outcome="read"\} [1-9]/);
    stream.close();
  });

  it('keeps both of two equal replies: the webhook takes the first, the read back the second', async () => {
    const conversation = await startConversation(t, 'cu-twice');
    await reply(conversation, { type: 'message', text: 'ok' });
    await reply(conversation, { type: 'message', text: 'ok' });
    // Without an id or a timestamp the second webhook call looks like a retry of the first; the
    // messages read back are two, and the second is stored then.
    await eventually(
      async () => (await storedTexts(t, 'cu-twice')).length === 2,
      'both replies stored',
      15_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await storedTexts(t, 'cu-twice')).toEqual(['agent.message:ok', 'agent.message:ok']);
  });

  it('closes a conversation whose end the webhook missed', async () => {
    const conversation = await startConversation(t, 'cu-end');
    const stream = await openStream(`${t.baseUrl}${HANDOFFS}/cu-end/events`, await token());
    ms.environment.messaging!.webhookFault = { kind: 'down' };
    await reply(conversation, { type: 'message', name: 'ConversationClose' });
    await stream.waitForEnd(15_000);
    expect(stream.events.map((e) => [e.event, e.data.data.reason])).toEqual([
      ['conversation.closed', 'not_active'],
    ]);
    expect((await waitForState(t, await token(), 'cu-end', ['delivered'])).dynamics.conversation_state).toBe(
      'closed',
    );
  });

  it('after a restart, reads back every open conversation: what came while down arrives once', async () => {
    const first = await startTestApp({ env, databaseUrl: t.databaseUrl });
    channel().webhookUrl = webhookOf(first);
    try {
      const conversation = await startConversation(first, 'cu-restart');
      await reply(conversation, { type: 'message', text: 'Before the restart' });
      await eventually(
        async () => (await storedTexts(first, 'cu-restart')).length === 1,
        'the first reply',
        5000,
      );
      await first.close();
      // The service is down: Microsoft's three attempts fail and it gives up.
      const missed = await reply(conversation, { type: 'message', text: 'While the service was down' });
      expect(missed.webhook).toHaveLength(3);
      expect(missed.webhook).not.toContain(200);
      const restarted = await startTestApp({
        env: { ...env, MESSAGING_CATCHUP_AFTER: '5m' },
        databaseUrl: t.databaseUrl,
      });
      try {
        channel().webhookUrl = webhookOf(restarted);
        const stream = await openStream(`${restarted.baseUrl}${HANDOFFS}/cu-restart/events`, await token());
        await stream.waitFor(2, 10_000);
        await reply(conversation, { type: 'message', text: 'After the restart' });
        await stream.waitFor(3);
        expect(stream.events.map((e) => e.data.data.text)).toEqual([
          'Before the restart',
          'While the service was down',
          'After the restart',
        ]);
        stream.close();
      } finally {
        await restarted.close();
      }
    } finally {
      channel().webhookUrl = webhookOf(t);
    }
  });
});

/** An event's text, or its reason or name. */
function label(data: Record<string, unknown>): string {
  const value = data.text ?? data.reason ?? data.name;
  return typeof value === 'string' ? value : '';
}

function rowsOf(app: TestApp, sql: string): Promise<Record<string, unknown>[]> {
  return withClient(app.databaseUrl, async (client) => (await client.query(sql)).rows);
}
