import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from './support/app.js';
import { auditEvents, call, credentialsOf, PATH, settingsRow } from './support/integration.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

const TIMEOUT_MS = 800;

describe('failed verifications: clear answers, nothing saved', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let otherOrigin: string;
  let admin: string;
  const org = 'failures';

  beforeAll(async () => {
    ms = await startMicrosoft();
    const otherTenant = ms.sandbox.model.createTenant({ name: 'Fabrikam' });
    otherOrigin = (await ms.sandbox.addEnvironment({ name: 'fabrikam', tenantId: otherTenant.id })).origin;
    t = await startTestApp({
      env: {
        ...ms.env,
        DYNAMICS_ALLOWED_ORIGINS: `${ms.environment.origin},${otherOrigin}`,
        UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
        VERIFY_RATE_LIMIT_PER_MINUTE: '1000',
      },
    });
    admin = await t.token({ org });
    const first = await call(t, 'PUT', PATH, admin, credentialsOf(ms, { default_priority: 3 }));
    expect(first.status).toBe(200);
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });
  afterEach(() => {
    ms.sandbox.model.tokenFault = undefined;
    ms.environment.fault = undefined;
    ms.environment.usage.clear();
    ms.sandbox.model.settings.unknownResource = 'invalid_resource';
  });

  /** Saves the case's credentials and checks the answer, the untouched row and the audit event. */
  async function expectRejectedSave(
    body: Record<string, unknown>,
    expected: {
      status: number;
      code: string;
      stage: string;
      outcome: string;
      upstreamStatus: number | null;
      upstreamCode: string | null;
      hint: RegExp;
    },
  ) {
    const before = await settingsRow(t, org);
    const eventsBefore = (await auditEvents(t, org)).length;
    const result = await call(t, 'PUT', PATH, admin, body);
    expect([result.status, result.body.error.code]).toEqual([expected.status, expected.code]);
    expect(result.body.error.verification).toMatchObject({
      stage: expected.stage,
      outcome: expected.outcome,
      upstream_status: expected.upstreamStatus,
      upstream_code: expected.upstreamCode,
    });
    expect(result.body.error.verification.hint).toMatch(expected.hint);
    expect(result.body.error.message).toMatch(
      expected.stage === 'token_exchange' ? /token exchange/ : /Dynamics 365 probe/,
    );
    expect(result.body.error.message).toMatch(/Nothing was saved\./);
    expect(await settingsRow(t, org)).toEqual(before);
    const events = await auditEvents(t, org);
    expect(events).toHaveLength(eventsBefore + 1);
    expect(events[events.length - 1]).toMatchObject({
      action: 'integration.save_rejected',
      details: { stage: expected.stage, outcome: expected.outcome, code: expected.upstreamCode },
    });
    expect(JSON.stringify(result.body)).not.toContain(String(body.client_secret));
    return result.body.error.verification as { message: string; hint: string; duration_ms: number };
  }

  const rejected = (
    stage: string,
    upstreamStatus: number | null,
    upstreamCode: string | null,
    hint: RegExp,
  ) => ({
    status: 422,
    code: 'verification_failed',
    stage,
    outcome: 'rejected',
    upstreamStatus,
    upstreamCode,
    hint,
  });

  it('wrong secret → AADSTS7000215', async () => {
    const v = await expectRejectedSave(
      credentialsOf(ms, { client_secret: 'Xyz8Q~wrong' }),
      rejected('token_exchange', 401, 'AADSTS7000215', /client secret is wrong/),
    );
    expect(v.message).toMatch(/^AADSTS7000215: Invalid client secret provided\./);
    expect(v.message).not.toMatch(/Trace ID/);
  });

  it('the Secret ID pasted as the secret → says so', async () => {
    await expectRejectedSave(
      credentialsOf(ms, { client_secret: ms.secret.id }),
      rejected('token_exchange', 401, 'AADSTS7000215', /looks like the Secret ID/),
    );
  });

  it('expired secret → AADSTS7000222', async () => {
    const expired = ms.sandbox.model.addSecret(ms.tenant.id, ms.app.clientId, {
      expiresAt: new Date(Date.now() - 60000),
    });
    await expectRejectedSave(
      credentialsOf(ms, { client_secret: expired.value }),
      rejected('token_exchange', 401, 'AADSTS7000222', /has expired/),
    );
  });

  it('app not in the tenant → AADSTS700016', async () => {
    await expectRejectedSave(
      credentialsOf(ms, { client_id: randomUUID() }),
      rejected('token_exchange', 400, 'AADSTS700016', /No application with client ID/),
    );
  });

  it('tenant not found → AADSTS90002, mentioning the Object ID mix-up', async () => {
    await expectRejectedSave(
      credentialsOf(ms, { tenant_id: randomUUID() }),
      rejected('token_exchange', 400, 'AADSTS90002', /not the app's Object ID/),
    );
  });

  it('tenant ID that is the client ID → says so', async () => {
    await expectRejectedSave(
      credentialsOf(ms, { tenant_id: ms.app.clientId }),
      rejected('token_exchange', 400, 'AADSTS90002', /same as the client ID/),
    );
  });

  it('disabled application → AADSTS7000112', async () => {
    const { app, secret } = ms.addApp();
    app.disabled = true;
    await expectRejectedSave(
      credentialsOf(ms, { client_id: app.clientId, client_secret: secret.value }),
      rejected('token_exchange', 400, 'AADSTS7000112', /disabled/),
    );
  });

  it('environment of another tenant → AADSTS500011', async () => {
    await expectRejectedSave(
      credentialsOf(ms, { environment_url: otherOrigin }),
      rejected('token_exchange', 400, 'AADSTS500011', /does not know the resource/),
    );
  });

  it('no application user → 403 0x80072560', async () => {
    const { app, secret } = ms.addApp({ privileges: null });
    await expectRejectedSave(
      credentialsOf(ms, { client_id: app.clientId, client_secret: secret.value }),
      rejected('dynamics_probe', 403, '0x80072560', /no Application User.*New app user/),
    );
  });

  it('disabled application user → 403 0x80040225', async () => {
    const { app, secret } = ms.addApp({ disabledUser: true });
    await expectRejectedSave(
      credentialsOf(ms, { client_id: app.clientId, client_secret: secret.value }),
      rejected('dynamics_probe', 403, '0x80040225', /Activate it/),
    );
  });

  it('role without the Case privilege → 403 0x80040220 naming prvReadIncident', async () => {
    const { app, secret } = ms.addApp({ privileges: ['prvReadContact'] });
    const v = await expectRejectedSave(
      credentialsOf(ms, { client_id: app.clientId, client_secret: secret.value }),
      rejected('dynamics_probe', 403, '0x80040220', /lacks prvReadIncident/),
    );
    expect(v.message).toMatch(/is missing prvReadIncident privilege/);
  });

  it('token Dataverse does not accept → 401', async () => {
    ms.sandbox.model.settings.unknownResource = 'issue_token';
    await expectRejectedSave(
      credentialsOf(ms, { environment_url: otherOrigin }),
      rejected('dynamics_probe', 401, null, /did not accept the token/),
    );
  });

  const unreachable = (stage: string, upstreamStatus: number | null, hint: RegExp) => ({
    status: 502,
    code: 'upstream_unavailable',
    stage,
    outcome: 'unreachable',
    upstreamStatus,
    upstreamCode: null,
    hint,
  });

  it('environment answering 503 → retried a bounded number of times, then 502', async () => {
    ms.environment.fault = { status: 503 };
    const received = ms.mark();
    await expectRejectedSave(credentialsOf(ms), {
      ...unreachable('dynamics_probe', 503, /HTTP 503.*Nothing was changed/),
      upstreamCode: '0x80040216',
    });
    expect(received().filter((r) => r.server === 'dataverse')).toHaveLength(3);
  });

  it('throttled probe with Retry-After → waits, retries and saves', async () => {
    ms.environment.fault = { status: 429, retryAfter: 1, count: 1 };
    const received = ms.mark();
    const saved = await call(t, 'PUT', PATH, admin, credentialsOf(ms, { default_priority: 3 }));
    expect(saved.status).toBe(200);
    const probes = received().filter((r) => r.server === 'dataverse' && r.path.endsWith('/incidents'));
    expect(probes.map((r) => r.status)).toEqual([429, 200]);
    expect(Date.parse(probes[1].at) - Date.parse(probes[0].at)).toBeGreaterThanOrEqual(900);
  });

  it('token endpoint down → 502 at the token exchange', async () => {
    ms.sandbox.model.tokenFault = { status: 503 };
    await expectRejectedSave(credentialsOf(ms), {
      ...unreachable('token_exchange', 503, /Microsoft Entra ID is having problems/),
      upstreamCode: 'AADSTS50033',
    });
  });

  it('hanging environment → 502 once UPSTREAM_TIMEOUT_MS passes, without retrying the timeout', async () => {
    ms.environment.fault = { hang: true };
    const received = ms.mark();
    const started = Date.now();
    const v = await expectRejectedSave(
      credentialsOf(ms),
      unreachable('dynamics_probe', null, /did not answer in time/),
    );
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 5000);
    expect(v.message).toMatch(new RegExp(`no answer within ${TIMEOUT_MS} ms`));
    expect(received().filter((r) => r.server === 'dataverse')).toHaveLength(1);
  });

  it('connection reset → 502', async () => {
    ms.environment.fault = { reset: true };
    await expectRejectedSave(credentialsOf(ms), unreachable('dynamics_probe', null, /could not be reached/));
  });

  it('the test endpoint answers the same way and writes nothing', async () => {
    const eventsBefore = (await auditEvents(t, org)).length;
    const result = await call(t, 'POST', `${PATH}/test`, admin, credentialsOf(ms, { client_secret: 'nope' }));
    expect([result.status, result.body.error.verification.upstream_code]).toEqual([422, 'AADSTS7000215']);
    expect(await auditEvents(t, org)).toHaveLength(eventsBefore);
  });

  it('the earlier row still verifies after all of this', async () => {
    const row = await call(t, 'GET', PATH, admin);
    expect(row.body).toMatchObject({ status: 'active', default_priority: 3, client_id: ms.app.clientId });
  });
});
