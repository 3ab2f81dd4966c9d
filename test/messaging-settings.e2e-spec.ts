import { startTestApp, TestApp } from './support/app.js';
import { auditEvents, call, credentialsOf, PATH, settingsRow } from './support/integration.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

describe('Omnichannel messaging settings: validated, verified with a third stage, stored', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let admin: (org: string) => Promise<string>;
  let messaging: Record<string, string>;

  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({ env: { ...ms.env, VERIFY_RATE_LIMIT_PER_MINUTE: '1000' } });
    admin = (org) => t.token({ org, roles: ['admin'] });
    messaging = {
      messaging_endpoint: `https://m-${ms.environment.organizationId}.us.omnichannelengagementhub.com`,
      messaging_channel_id: '0e5f6a7b-1c2d-4e3f-8a9b-0c1d2e3f4a5b',
      messaging_organization_id: ms.environment.organizationId,
      messaging_scope: `${ms.environment.messagingResource}/.default`,
    };
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it('verifies a token for the Messaging API scope as a third stage and stores the settings', async () => {
    const received = ms.mark();
    const saved = await call(t, 'PUT', PATH, await admin('chat'), credentialsOf(ms, messaging));
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({
      messaging_endpoint: messaging.messaging_endpoint,
      messaging_channel_id: messaging.messaging_channel_id,
      messaging_organization_id: messaging.messaging_organization_id,
      messaging_scope: messaging.messaging_scope,
      last_verification: { stage: 'messaging_token', outcome: 'ok' },
    });
    const scopes = received()
      .filter((r) => r.server === 'login')
      .map((r) => r.form?.scope);
    expect(scopes).toEqual([`${ms.environment.origin}/.default`, messaging.messaging_scope]);
    const test = await call(t, 'POST', `${PATH}/test`, await admin('chat'), credentialsOf(ms, messaging));
    expect(test.body.stages.map((s: { stage: string }) => s.stage)).toEqual([
      'token_exchange',
      'dynamics_probe',
      'messaging_token',
    ]);
    const audit = await auditEvents(t, 'chat');
    expect(audit[audit.length - 1].details.changed_fields).toEqual(
      expect.arrayContaining(['messaging_endpoint', 'messaging_channel_id', 'messaging_organization_id']),
    );
    // Verify and the sweep check the third stage too.
    const verified = await call(t, 'POST', `${PATH}/verify`, await admin('chat'));
    expect(verified.body.last_verification.stage).toBe('messaging_token');
  });

  it('stores who may call the webhook (audience, caller), validated, only with the other messaging settings', async () => {
    const identity = {
      messaging_webhook_audience: 'api://contoso-webhook',
      messaging_webhook_caller_id: '2E3F4A5B-6C7D-4E8F-9A0B-1C2D3E4F5A6B',
    };
    const saved = await call(
      t,
      'PUT',
      PATH,
      await admin('identity'),
      credentialsOf(ms, { ...messaging, ...identity }),
    );
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({
      messaging_webhook_audience: 'api://contoso-webhook',
      messaging_webhook_caller_id: '2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b',
    });
    const bad: [Record<string, unknown>, string][] = [
      [{ ...messaging, messaging_webhook_audience: 'contoso webhook' }, 'messaging_webhook_audience'],
      [{ ...messaging, messaging_webhook_caller_id: 'not-a-guid' }, 'messaging_webhook_caller_id'],
      [{ messaging_webhook_audience: 'api://alone' }, 'messaging_webhook_audience'],
    ];
    for (const [body, field] of bad) {
      const refused = await call(t, 'PUT', PATH, await admin('identity-bad'), credentialsOf(ms, body));
      expect([refused.status, refused.body.error.details.map((d: { field: string }) => d.field)]).toEqual([
        400,
        [field],
      ]);
    }
  });

  it('refuses a scope Entra ID does not know at the messaging_token stage, with a hint, saving nothing', async () => {
    const wrong = `https://${'0'.repeat(31)}1-c.crm.dynamics.com/.default`;
    const refused = await call(
      t,
      'PUT',
      PATH,
      await admin('wrongscope'),
      credentialsOf(ms, { ...messaging, messaging_scope: wrong }),
    );
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toMatch(/token for the Omnichannel Messaging API \(AADSTS500011\)/);
    expect(refused.body.error.verification).toMatchObject({
      stage: 'messaging_token',
      outcome: 'rejected',
      upstream_code: 'AADSTS500011',
    });
    expect(refused.body.error.verification.hint).toMatch(/messaging_organization_id/);
    expect(await settingsRow(t, 'wrongscope')).toBeUndefined();
  });

  it('takes the messaging settings all together or not at all; keeps them when omitted, clears them with null', async () => {
    const token = await admin('partial');
    const partial = await call(
      t,
      'PUT',
      PATH,
      token,
      credentialsOf(ms, { messaging_endpoint: messaging.messaging_endpoint }),
    );
    expect(partial.status).toBe(400);
    expect(partial.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'messaging_channel_id',
      'messaging_organization_id',
    ]);
    const badHost = await call(
      t,
      'PUT',
      PATH,
      token,
      credentialsOf(ms, { ...messaging, messaging_endpoint: 'https://evil.example.com' }),
    );
    expect(badHost.status).toBe(400);
    expect(badHost.body.error.details[0].field).toBe('messaging_endpoint');
    const noScope = await call(
      t,
      'PUT',
      PATH,
      token,
      credentialsOf(ms, { ...messaging, messaging_scope: null }),
    );
    expect(noScope.status).toBe(400);
    expect(noScope.body.error.details[0]).toMatchObject({ field: 'messaging_scope' });
    expect(noScope.body.error.details[0].message).toMatch(/cannot be derived/);
    const badScope = await call(
      t,
      'PUT',
      PATH,
      token,
      credentialsOf(ms, { ...messaging, messaging_scope: 'https://x.crm.dynamics.com' }),
    );
    expect(badScope.status).toBe(400);

    expect((await call(t, 'PUT', PATH, token, credentialsOf(ms, messaging))).status).toBe(200);
    const kept = await call(t, 'PUT', PATH, token, credentialsOf(ms, { default_priority: 1 }));
    expect(kept.body.messaging_channel_id).toBe(messaging.messaging_channel_id);
    const cleared = await call(
      t,
      'PUT',
      PATH,
      token,
      credentialsOf(ms, {
        messaging_endpoint: null,
        messaging_channel_id: null,
        messaging_organization_id: null,
        messaging_scope: null,
      }),
    );
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({
      messaging_endpoint: null,
      messaging_channel_id: null,
      messaging_organization_id: null,
      messaging_scope: null,
      last_verification: { stage: 'dynamics_probe' },
    });
  });
});
