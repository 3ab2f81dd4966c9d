// Guarantees that other paths used to mask: each test switches the masking path off or outruns it
// (a maintenance pass a minute apart, an instance with no workers, a token with the right tenant
// but the wrong issuer), so it fails when the guarantee itself is broken.
import { startTestApp, TestApp } from './support/app.js';
import { withClient } from './support/database.js';
import { eventually } from './support/eventually.js';
import {
  connect,
  connectMessaging,
  HANDOFFS,
  handoffBody,
  MESSAGING_CHANNEL,
  submit,
  waitForState,
} from './support/handoff.js';
import { call, PATH } from './support/integration.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';
import { representativeActivity, webhookToken } from '../sandbox/messaging-webhook.js';

describe('Guarantees no other path masks', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  const env = () => ({
    ...ms.env,
    HANDOFF_RETRY_BASE_MS: '20',
    UPSTREAM_TIMEOUT_MS: '1500',
    // The maintenance pass (which also resumes held handoffs) runs a minute apart: longer than any wait here.
    HANDOFF_ATTEMPT_TIMEOUT: '60s',
    DYNAMICS_ALLOWED_ORIGINS: `${ms.environment.origin},${ms.environment.messaging!.origin}`,
    ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 5).toString('base64')}`,
    AUTH_JWT_SECRET: 'guarantees-test-jwt-secret-of-32-characters',
  });
  const handoffToken = (org: string) => t.token({ org, roles: ['handoff'] });

  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({ env: env() });
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it('a verification that passes resumes held handoffs at once (not at the next maintenance pass)', async () => {
    const { app, secret } = ms.addApp();
    await connect(t, ms, 'resumes', { client_id: app.clientId, client_secret: secret.value });
    const user = ms.sandbox.model.applicationUser('contoso', app.clientId);
    user.disabled = true;
    expect((await call(t, 'POST', `${PATH}/verify`, await t.token({ org: 'resumes' }))).body.status).toBe(
      'invalid',
    );
    await submit(t, await handoffToken('resumes'), handoffBody('resume-now'));
    await waitForState(t, await handoffToken('resumes'), 'resume-now', ['held']);
    user.disabled = false;
    expect((await call(t, 'POST', `${PATH}/verify`, await t.token({ org: 'resumes' }))).body.status).toBe(
      'active',
    );
    await waitForState(t, await handoffToken('resumes'), 'resume-now', ['delivered'], 10_000);
  });

  it('refuses a webhook token of the right tenant from another issuer', async () => {
    await connectMessaging(t, ms, 'issuer', `${t.baseUrl}/webhooks/dynamics365/messaging/issuer`);
    await submit(t, await handoffToken('issuer'), handoffBody('issuer-1', { channel: 'web' }));
    const conversation = (await waitForState(t, await handoffToken('issuer'), 'issuer-1', ['delivered']))
      .dynamics.conversation_id as string;
    const url = `${t.baseUrl}/webhooks/dynamics365/messaging/issuer/v3/conversations/${conversation}/activities`;
    const post = (token: string) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-ms-token': token },
        body: JSON.stringify({ type: 'message', text: 'hi', conversation: { id: conversation } }),
      });
    // Same tenant (tid), same keys, same audience: only the issuer is wrong.
    const wrongIssuer = await webhookToken(ms.sandbox.key, ms.tenant.id, ms.app.clientId, {
      issuer: `https://issuer.example/${ms.tenant.id}/v2.0`,
    });
    expect((await post(wrongIssuer)).status).toBe(401);
    expect((await post(await webhookToken(ms.sandbox.key, ms.tenant.id, ms.app.clientId))).status).toBe(200);
  });

  it('the row and its job commit together: concurrent duplicates leave one handoff and one job', async () => {
    const accepting = await startTestApp({ env: { ...env(), HANDOFF_CONCURRENCY: '0' } });
    try {
      await connect(accepting, ms, 'duplicates');
      const token = await accepting.token({ org: 'duplicates', roles: ['handoff'] });
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => submit(accepting, token, handoffBody('same-session'))),
      );
      expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
      expect(answers.every((a) => a.status === 202 || a.status === 200)).toBe(true);
      const jobs = await withClient(accepting.databaseUrl, async (client) => {
        const rows = await client.query<{ n: number; orphans: number }>(
          `SELECT count(*)::int AS n,
                  count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.id::text = j.data->>'handoff_id'))::int AS orphans
             FROM pgboss.job j WHERE j.name = 'handoff-delivery'`,
        );
        return rows.rows[0];
      });
      expect(jobs).toEqual({ n: 1, orphans: 0 });
    } finally {
      await accepting.close();
    }
  });

  it('a disconnect cancels open handoffs itself, with no worker to notice', async () => {
    const accepting = await startTestApp({ env: { ...env(), HANDOFF_CONCURRENCY: '0' } });
    try {
      await connect(accepting, ms, 'leaving');
      const token = await accepting.token({ org: 'leaving', roles: ['handoff'] });
      for (const session of ['left-1', 'left-2']) {
        expect((await submit(accepting, token, handoffBody(session))).body.state).toBe('pending');
      }
      const gone = await accepting.request(PATH, {
        method: 'DELETE',
        token: await accepting.token({ org: 'leaving' }),
      });
      expect(gone.status).toBe(204);
      for (const session of ['left-1', 'left-2']) {
        const doc = await call(accepting, 'GET', `${HANDOFFS}/${session}`, token);
        expect(doc.body).toMatchObject({ state: 'cancelled', reason: 'disconnected' });
      }
    } finally {
      await accepting.close();
    }
  });

  it('never relays a customer message queued before the conversation closed', async () => {
    const conversation = await (async () => {
      await connectMessaging(t, ms, 'closing', null);
      await submit(t, await handoffToken('closing'), handoffBody('closing-1', { channel: 'sms' }));
      return (await waitForState(t, await handoffToken('closing'), 'closing-1', ['delivered'])).dynamics
        .conversation_id as string;
    })();
    // An instance that only accepts queues the message; the conversation closes before any worker runs.
    const accepting = await startTestApp({
      env: { ...env(), HANDOFF_CONCURRENCY: '0' },
      databaseUrl: t.databaseUrl,
    });
    let worker: TestApp | undefined;
    try {
      ms.environment.messaging!.channels.get(MESSAGING_CHANNEL)!.webhookUrl =
        `${accepting.baseUrl}/webhooks/dynamics365/messaging/closing`;
      const token = await accepting.token({ org: 'closing', roles: ['handoff'] });
      await t.close();
      const queued = await call(accepting, 'POST', `${HANDOFFS}/closing-1/messages`, token, {
        text: 'Too late',
      });
      expect(queued.status).toBe(202);
      await representativeActivity(ms.sandbox.model, ms.sandbox.key, ms.environment, conversation, {
        type: 'event',
        name: 'ConversationClosed',
      });
      expect(
        (await call(accepting, 'GET', `${HANDOFFS}/closing-1`, token)).body.dynamics.conversation_state,
      ).toBe('closed');
      const sentBefore = messagesTo(conversation);
      worker = await startTestApp({ env: env(), databaseUrl: accepting.databaseUrl });
      await eventually(
        () =>
          withClient(accepting.databaseUrl, async (client) => {
            const { rows } = await client.query<{ state: string }>(
              "SELECT state::text FROM pgboss.job WHERE name = 'handoff-message' AND data->>'message_id' = $1",
              [queued.body.message_id],
            );
            return rows[0]?.state === 'completed';
          }),
        'the relay job to finish',
      );
      expect(messagesTo(conversation)).toBe(sentBefore);
    } finally {
      await worker?.close();
      await accepting.close();
      t = await startTestApp({ env: env(), databaseUrl: accepting.databaseUrl });
    }
  });

  /** POSTs the service made to the conversation (its messages and follow-ups). */
  function messagesTo(conversation: string): number {
    return ms.sandbox.model.requests.filter(
      (r) =>
        r.server === 'messaging' && r.method === 'POST' && r.path.endsWith(`/conversation/${conversation}`),
    ).length;
  }

  it('one contact for one e-mail address whatever its case, even when two handoffs race', async () => {
    await connect(t, ms, 'casing');
    // Creating a contact takes a second: both deliveries look the address up before either creates it.
    ms.environment.fault = { latencyMs: 1000, method: 'PATCH', path: '/contacts(' };
    try {
      const token = await handoffToken('casing');
      const before = ms.environment.creates.contacts;
      await Promise.all([
        submit(
          t,
          token,
          handoffBody('case-1', { customer: { name: 'Ada', email: 'Ada.Lovelace@Example.com' } }),
        ),
        submit(
          t,
          token,
          handoffBody('case-2', { customer: { name: 'Ada', email: 'ada.lovelace@example.com' } }),
        ),
      ]);
      const [one, two] = await Promise.all([
        waitForState(t, token, 'case-1', ['delivered']),
        waitForState(t, token, 'case-2', ['delivered']),
      ]);
      expect(ms.environment.creates.contacts - before).toBe(1);
      expect(one.dynamics.contact_id).toBe(two.dynamics.contact_id);
    } finally {
      ms.environment.fault = undefined;
    }
  });
});
