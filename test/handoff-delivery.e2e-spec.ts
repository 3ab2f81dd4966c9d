import { HandoffMaintenance } from '../src/handoff/delivery/handoff-maintenance.js';
import { startTestApp, TestApp } from './support/app.js';
import { withClient } from './support/database.js';
import {
  connect,
  HANDOFF_TEST_ENV,
  handoffBody,
  HANDOFFS,
  handoffRow,
  records,
  submit,
  waitForAttempts,
  waitForState,
} from './support/handoff.js';
import { call, credentialsOf, PATH } from './support/integration.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

/**
 * Exactly once under Microsoft's failures, and the lifecycle: held, resumed, cancelled, expired,
 * failed and retried. Faults hit only the request they name (method and path).
 */
describe('Handoff delivery: exactly once under faults, and its states', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let token: (org?: string) => Promise<string>;
  let admin: (org?: string) => Promise<string>;

  const creates = () => ({ ...ms.environment.creates });
  const createdSince = (before: Record<string, number>) =>
    Object.fromEntries(
      (['incidents', 'contacts', 'annotations', 'queueitems'] as const).map((set) => [
        set,
        ms.environment.creates[set] - before[set],
      ]),
    );

  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({
      env: {
        ...ms.env,
        ...HANDOFF_TEST_ENV,
        HANDOFF_MAX_ATTEMPTS: '3',
        VERIFY_RATE_LIMIT_PER_MINUTE: '1000',
      },
    });
    token = (org = 'acme') => t.token({ org, roles: ['handoff'] });
    admin = (org = 'acme') => t.token({ org, roles: ['admin'] });
    await connect(t, ms, 'acme');
  });
  afterEach(() => {
    ms.environment.fault = undefined;
    ms.sandbox.model.tokenFault = undefined;
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  const lostAnswers: [string, string, string][] = [
    ['the contact', 'PATCH', '/contacts('],
    ['the case', 'PATCH', '/incidents('],
    ['the note', 'PATCH', '/annotations('],
  ];
  for (const [what, method, path] of lostAnswers) {
    it(`creates ${what} once when the answer to its create is lost (carried out, then the connection reset)`, async () => {
      const session = `reset-${path.replace(/\W/g, '')}`;
      const before = creates();
      const received = ms.mark();
      ms.environment.fault = { resetAfterProcessing: true, method, path, count: 1 };
      expect((await submit(t, await token(), handoffBody(session))).status).toBe(202);
      const done = await waitForState(t, await token(), session, ['delivered']);
      // Sent again after the reset (on a fresh connection, or by the next attempt): 412 the second time.
      const sent = received().filter((r) => r.method === method && r.path.includes(path));
      expect(sent.map((r) => r.status)).toEqual([undefined, 412]);
      expect(createdSince(before)).toEqual({ incidents: 1, contacts: 1, annotations: 1, queueitems: 0 });
      const incident = records(ms, 'incidents').find((r) => r.id === done.dynamics.incident_id)!;
      expect(done.dynamics.ticket_number).toBe(incident.ticketnumber);
      // The contact made by the lost attempt is still known as made by this handoff.
      expect(done.dynamics.contact_created).toBe(true);
    });
  }

  it('queues once when the answer to AddToQueue is lost', async () => {
    const queueId = 'c0c0c0c0-0000-4000-8000-0000000000b2';
    ms.environment.records.queues.set(queueId, { id: queueId, version: 1, attributes: { name: 'Q' } });
    await connect(t, ms, 'queued', { default_queue_id: queueId });
    const before = creates();
    const received = ms.mark();
    ms.environment.fault = { resetAfterProcessing: true, method: 'POST', path: `/queues(`, count: 1 };
    await submit(t, await token('queued'), handoffBody('reset-queue'));
    const done = await waitForState(t, await token('queued'), 'reset-queue', ['delivered']);
    expect(received().filter((r) => r.method === 'POST' && r.path.includes('AddToQueue'))).toHaveLength(2);
    expect(createdSince(before)).toEqual({ incidents: 1, contacts: 1, annotations: 1, queueitems: 1 });
    const items = records(ms, 'queueitems').filter((r) => r._objectid_value === done.dynamics.incident_id);
    expect(items.map((i) => i.id)).toEqual([done.dynamics.queue_item_id]);
  });

  it('waits out 429 with its Retry-After and creates one case', async () => {
    const before = creates();
    ms.environment.fault = { status: 429, retryAfter: 1, method: 'PATCH', path: '/incidents(', count: 1 };
    const started = Date.now();
    await submit(t, await token(), handoffBody('throttled'));
    const pending = await waitForState(t, await token(), 'throttled', ['pending'], 5000).catch(
      () => undefined,
    );
    const done = await waitForState(t, await token(), 'throttled', ['delivered']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(done.attempts).toBe(2);
    expect(createdSince(before).incidents).toBe(1);
    if (pending?.attempts === 1) {
      expect(pending.last_error).toMatchObject({ stage: 'incident_create', upstream_status: 429 });
      expect(pending.next_attempt_at).not.toBeNull();
    }
  });

  it('retries 503s with backoff and creates one case', async () => {
    const before = creates();
    ms.environment.fault = { status: 503, method: 'PATCH', path: '/incidents(', count: 2 };
    await submit(t, await token(), handoffBody('unavailable'));
    const done = await waitForState(t, await token(), 'unavailable', ['delivered']);
    expect(done.attempts).toBe(3);
    expect(createdSince(before)).toMatchObject({ incidents: 1, contacts: 1, annotations: 1 });
    // The attempt history: each attempt as it ended, newest first.
    const history = await t.request('/api/v1/handoffs/unavailable/attempts', { token: await token() });
    expect(history.status).toBe(200);
    const { items } = (await history.json()) as { items: Record<string, unknown>[] };
    expect(items).toEqual([
      expect.objectContaining({ attempt: 3, outcome: 'delivered', error: null, next_attempt_at: null }),
      expect.objectContaining({
        attempt: 2,
        outcome: 'retry',
        error: expect.objectContaining({ stage: 'incident_create', upstream_status: 503 }),
        next_attempt_at: expect.any(String),
      }),
      expect.objectContaining({ attempt: 1, outcome: 'retry' }),
    ]);
  });

  it('survives a timeout on a create that Dataverse still carries out after the client gave up', async () => {
    const before = creates();
    // Longer than UPSTREAM_TIMEOUT_MS (1.5 s): the service gives up, then Dataverse creates the case.
    ms.environment.fault = { latencyMs: 2500, method: 'PATCH', path: '/incidents(', count: 1 };
    await submit(t, await token(), handoffBody('timed-out'));
    const done = await waitForState(t, await token(), 'timed-out', ['delivered']);
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    expect(createdSince(before)).toMatchObject({ incidents: 1, contacts: 1, annotations: 1 });
    expect(records(ms, 'incidents').find((r) => r.id === done.dynamics.incident_id)!.ticketnumber).toBe(
      done.dynamics.ticket_number,
    );
  });

  it('answers a 401 mid-delivery with one fresh token, in the same attempt', async () => {
    // Warm the token cache.
    await submit(t, await token(), handoffBody('warm'));
    await waitForState(t, await token(), 'warm', ['delivered']);
    const before = creates();
    const received = ms.mark();
    ms.environment.fault = { status: 401, method: 'PATCH', path: '/incidents(', count: 1 };
    await submit(t, await token(), handoffBody('expired-token'));
    const done = await waitForState(t, await token(), 'expired-token', ['delivered']);
    expect(done.attempts).toBe(1);
    expect(createdSince(before).incidents).toBe(1);
    expect(received().filter((r) => r.server === 'login')).toHaveLength(1);
  });

  it('fails a configuration error at once with a hint, and retry re-queues it once fixed', async () => {
    const { app, secret } = ms.addApp({
      privileges: ['prvReadIncident', 'prvReadContact', 'prvCreateContact'],
    });
    await connect(t, ms, 'limited', { client_id: app.clientId, client_secret: secret.value });
    await submit(t, await token('limited'), handoffBody('no-privilege'));
    const failed = await waitForState(t, await token('limited'), 'no-privilege', ['failed']);
    expect(failed).toMatchObject({
      state: 'failed',
      reason: 'configuration',
      attempts: 1,
      last_error: { stage: 'incident_create', upstream_status: 403, upstream_code: '0x80040220' },
    });
    expect(failed.last_error.hint).toMatch(
      /lacks prvAppendIncident\b.*grant Create on Case \(prvCreateIncident\), Append on Case \(prvAppendIncident\)/,
    );
    // Fixed in Dynamics: the admin retries.
    ms.sandbox.model.applicationUser('contoso', app.clientId).privileges = 'all';
    expect((await call(t, 'POST', `${HANDOFFS}/no-privilege/retry`, await token('limited'))).status).toBe(
      403,
    );
    const retried = await call(t, 'POST', `${HANDOFFS}/no-privilege/retry`, await admin('limited'));
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ state: 'pending', attempts: 0, reason: null });
    const done = await waitForState(t, await token('limited'), 'no-privilege', ['delivered']);
    expect(done.attempts).toBe(1);
  });

  it('names the missing queue and does not create the case twice when it is fixed', async () => {
    const missing = 'c0c0c0c0-0000-4000-8000-0000000000ff';
    await connect(t, ms, 'noqueue', { default_queue_id: missing });
    const before = creates();
    await submit(t, await token('noqueue'), handoffBody('no-queue'));
    const failed = await waitForState(t, await token('noqueue'), 'no-queue', ['failed']);
    expect(failed.last_error).toMatchObject({
      stage: 'add_to_queue',
      upstream_status: 404,
      upstream_code: '0x80040217',
    });
    expect(failed.last_error.hint).toContain(missing);
    ms.environment.records.queues.set(missing, { id: missing, version: 1, attributes: { name: 'Now here' } });
    await call(t, 'POST', `${HANDOFFS}/no-queue/retry`, await admin('noqueue'));
    const done = await waitForState(t, await token('noqueue'), 'no-queue', ['delivered']);
    expect(done.dynamics.queue_item_id).not.toBeNull();
    expect(createdSince(before)).toEqual({ incidents: 1, contacts: 1, annotations: 1, queueitems: 1 });
  });

  it('fails after HANDOFF_MAX_ATTEMPTS unanswered attempts, with the last error', async () => {
    ms.environment.fault = { status: 503, method: 'PATCH', path: '/incidents(' };
    await submit(t, await token(), handoffBody('exhausted'));
    const failed = await waitForState(t, await token(), 'exhausted', ['failed']);
    expect(failed).toMatchObject({
      reason: 'attempts_exhausted',
      attempts: 3,
      next_attempt_at: null,
      last_error: { stage: 'incident_create', upstream_status: 503 },
    });
    const history = await t.request('/api/v1/handoffs/exhausted/attempts', { token: await token() });
    const { items } = (await history.json()) as { items: { outcome: string; reason: string | null }[] };
    expect(items.map((a) => [a.outcome, a.reason])).toEqual([
      ['failed', 'attempts_exhausted'],
      ['retry', null],
      ['retry', null],
    ]);
    expect((await t.request('/api/v1/handoffs/nobody/attempts', { token: await token() })).status).toBe(404);
  });

  it('holds handoffs while the connection is invalid and resumes them when it is verified again', async () => {
    const { app, secret } = ms.addApp();
    await connect(t, ms, 'flaky', { client_id: app.clientId, client_secret: secret.value });
    const user = ms.sandbox.model.applicationUser('contoso', app.clientId);
    user.disabled = true;
    const verified = await call(t, 'POST', `${PATH}/verify`, await admin('flaky'));
    expect(verified.body.status).toBe('invalid');
    const before = creates();
    const accepted = await submit(t, await token('flaky'), handoffBody('held-1'));
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ state: 'held', reason: 'connection_invalid' });
    expect(accepted.body.last_error.upstream_code).toBe('0x80040225');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await waitForState(t, await token('flaky'), 'held-1', ['held'])).attempts).toBe(0);
    user.disabled = false;
    expect((await call(t, 'POST', `${PATH}/verify`, await admin('flaky'))).body.status).toBe('active');
    const done = await waitForState(t, await token('flaky'), 'held-1', ['delivered']);
    expect(done.reason).toBeNull();
    expect(createdSince(before).incidents).toBe(1);
  });

  it('holds a delivery whose token Entra ID refuses (secret revoked) until Test & Save fixes it', async () => {
    const { app, secret } = ms.addApp();
    await connect(t, ms, 'revoked', { client_id: app.clientId, client_secret: secret.value });
    ms.sandbox.model.revokeSecret(ms.tenant.id, app.clientId, secret.id);
    await submit(t, await token('revoked'), handoffBody('held-2'));
    const held = await waitForState(t, await token('revoked'), 'held-2', ['held']);
    expect(held).toMatchObject({ reason: 'connection_invalid', last_error: { stage: 'token_exchange' } });
    expect(held.last_error.hint).toBeTruthy();
    const fresh = ms.sandbox.model.addSecret(ms.tenant.id, app.clientId);
    const saved = await call(
      t,
      'PUT',
      PATH,
      await admin('revoked'),
      credentialsOf(ms, { client_id: app.clientId, client_secret: fresh.value }),
    );
    expect(saved.status).toBe(200);
    await waitForState(t, await token('revoked'), 'held-2', ['delivered']);
  });

  it('cancels what is not delivered on disconnect; records already created stay', async () => {
    await connect(t, ms, 'leaving');
    await submit(t, await token('leaving'), handoffBody('kept'));
    const kept = await waitForState(t, await token('leaving'), 'kept', ['delivered']);
    ms.environment.fault = { status: 503, method: 'PATCH', path: '/incidents(' };
    await submit(t, await token('leaving'), handoffBody('dropped'));
    await waitForState(t, await token('leaving'), 'dropped', ['pending']);
    const gone = await t.request(PATH, { method: 'DELETE', token: await admin('leaving') });
    expect(gone.status).toBe(204);
    const cancelled = await waitForState(t, await token('leaving'), 'dropped', ['cancelled']);
    expect(cancelled).toMatchObject({ reason: 'disconnected', next_attempt_at: null });
    expect((await waitForState(t, await token('leaving'), 'kept', ['delivered'])).dynamics).toEqual(
      kept.dynamics,
    );
    expect(records(ms, 'incidents').some((r) => r.id === kept.dynamics.incident_id)).toBe(true);
    // Not connected any more: new handoffs are refused, retry too.
    expect((await submit(t, await token('leaving'), handoffBody('after'))).status).toBe(409);
  });

  it('expires pending and held handoffs older than HANDOFF_MAX_AGE', async () => {
    // The first attempt fails and the second waits 30 s (Retry-After): the handoff stays pending, untouched
    // by the worker, until the maintenance pass finds it too old. (Waiting for "pending" alone raced the
    // first attempt: a handoff is pending from the moment it is accepted.)
    ms.environment.fault = { status: 503, retryAfter: 30, method: 'PATCH', path: '/incidents(', count: 1 };
    await submit(t, await token(), handoffBody('old-1'));
    await waitForAttempts(t, await token(), 'old-1', 1);
    await withClient(t.databaseUrl, (client) =>
      client.query(
        "UPDATE handoffs SET created_at = now() - interval '25 hours', next_attempt_at = now() + interval '1 hour' WHERE session_id = 'old-1'",
      ),
    );
    await t.app.get(HandoffMaintenance).runOnce();
    const expired = await waitForState(t, await token(), 'old-1', ['failed']);
    expect(expired.reason).toBe('expired');
    expect(expired.last_error).not.toBeNull();
    const row = await handoffRow(t, 'old-1');
    expect(row!.job_id).toBeNull();
  });

  it('gives a handoff whose job was lost a new one', async () => {
    // Retry-After 30 s: the next attempt's job waits, and is then lost.
    ms.environment.fault = { status: 503, retryAfter: 30, method: 'PATCH', path: '/incidents(', count: 1 };
    await submit(t, await token(), handoffBody('lost-job'));
    // The first attempt ran (attempts 1) and the second waits 30 s.
    const pending = await waitForAttempts(t, await token(), 'lost-job', 1, 5000);
    expect(pending.attempts).toBe(1);
    {
      const row = await handoffRow(t, 'lost-job');
      await withClient(t.databaseUrl, async (client) => {
        await client.query('DELETE FROM pgboss.job WHERE id = $1', [row!.job_id]);
        await client.query(
          "UPDATE handoffs SET updated_at = now() - interval '1 hour', next_attempt_at = now() - interval '1 hour' WHERE session_id = 'lost-job'",
        );
      });
      await t.app.get(HandoffMaintenance).runOnce();
    }
    const done = await waitForState(t, await token(), 'lost-job', ['delivered']);
    expect(done.dynamics.ticket_number).not.toBeNull();
  });

  it('exposes handoff metrics', async () => {
    const metrics = await (await t.request('/metrics')).text();
    expect(metrics).toMatch(/dynamics365_handoffs_total\{route="incident",outcome="delivered"\} \d+/);
    expect(metrics).toMatch(/dynamics365_handoffs_total\{route="incident",outcome="retried"\} \d+/);
    expect(metrics).toMatch(/dynamics365_handoffs_total\{route="incident",outcome="held"\} \d+/);
    expect(metrics).toMatch(/dynamics365_handoff_delivery_seconds_count\{route="incident"\} \d+/);
    expect(metrics).toMatch(/dynamics365_handoffs_pending\{state="held"\} \d+/);
  });
});
