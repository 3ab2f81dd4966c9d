import { startTestApp, TestApp } from './support/app.js';
import { auditEvents, call, credentialsOf, PATH, settingsRow } from './support/integration.js';
import { withClient } from './support/database.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

const STATUS_KEYS = [
  'org_id',
  'readiness',
  'status',
  'client_id',
  'tenant_id',
  'environment_url',
  'credential_type',
  'certificate_id',
  'certificate',
  'client_secret_hint',
  'secret_expires_at',
  'warnings',
  'default_priority',
  'default_owner_id',
  'default_queue_id',
  'default_workstream_id',
  'ticket_properties',
  'messaging_endpoint',
  'messaging_channel_id',
  'messaging_organization_id',
  'messaging_scope',
  'messaging_webhook_audience',
  'messaging_webhook_caller_id',
  'last_verified_at',
  'last_verification',
  'version',
  'created_at',
  'updated_at',
].sort();

describe('Test & Save, status, rotation and disconnect', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let admin: (org?: string) => Promise<string>;

  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({ env: { ...ms.env, VERIFY_RATE_LIMIT_PER_MINUTE: '1000' } });
    admin = (org = 'acme') => t.token({ org, roles: ['admin'], sub: 'alice', name: 'Alice Admin' });
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it('verifies live with exactly the token request and probe Microsoft expects, then saves', async () => {
    const received = ms.mark();
    const saved = await call(
      t,
      'PUT',
      PATH,
      await admin('exact'),
      credentialsOf(ms, { tenant_id: ms.tenant.id.toUpperCase() }),
      {
        'user-agent': 'e2e-test/1.0',
        'x-request-id': 'save-exact-1',
      },
    );
    expect(saved.status).toBe(200);
    expect(saved.headers.get('etag')).toBe('"1"');
    expect(Object.keys(saved.body).sort()).toEqual(STATUS_KEYS);
    expect(saved.body).toMatchObject({
      org_id: 'exact',
      status: 'active',
      client_id: ms.app.clientId,
      tenant_id: ms.tenant.id,
      environment_url: ms.environment.origin,
      client_secret_hint: ms.secret.value.slice(0, 3),
      secret_expires_at: null,
      warnings: [],
      default_priority: 2,
      default_owner_id: null,
      ticket_properties: {},
      version: 1,
      last_verification: {
        stage: 'dynamics_probe',
        outcome: 'ok',
        upstream_status: 200,
        upstream_code: null,
        hint: null,
      },
    });
    expect(JSON.stringify(saved.body)).not.toContain(ms.secret.value);

    const requests = received();
    // The token, the probe, then readiness with the same token: WhoAmI and the app user's privileges.
    expect(requests.map((r) => `${r.server} ${r.method} ${r.path}`)).toEqual([
      `login POST /${ms.tenant.id}/oauth2/v2.0/token`,
      'dataverse GET /api/data/v9.2/incidents',
      'dataverse GET /api/data/v9.2/WhoAmI',
      expect.stringMatching(
        /^dataverse GET \/api\/data\/v9\.2\/systemusers\([0-9a-f-]{36}\)\/Microsoft\.Dynamics\.CRM\.RetrieveUserSetOfPrivilegesByNames\(PrivilegeNames=@p1\)$/,
      ),
    ]);
    expect(new Set(requests.slice(2).map((r) => r.headers.authorization))).toEqual(
      new Set([requests[1].headers.authorization]),
    );
    expect(saved.body.readiness).toMatchObject({ ready: true, checked_at: expect.any(String) });
    const [tokenRequest, probe] = requests;
    expect(tokenRequest.form).toEqual({
      grant_type: 'client_credentials',
      client_id: ms.app.clientId,
      client_secret: ms.secret.value,
      scope: `${ms.environment.origin}/.default`,
    });
    expect(tokenRequest.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(probe.query).toEqual({ $top: '1', $select: 'incidentid' });
    expect(probe.headers).toMatchObject({
      accept: 'application/json',
      'odata-maxversion': '4.0',
      'odata-version': '4.0',
    });
    expect(probe.headers.authorization).toMatch(/^Bearer eyJ/);
    expect(probe.status).toBe(200);

    const [event] = await auditEvents(t, 'exact');
    expect(event).toMatchObject({
      action: 'integration.saved',
      actor_type: 'user',
      actor_id: 'alice',
      actor_name: 'Alice Admin',
      request_id: saved.headers.get('x-request-id'),
      client_request_id: 'save-exact-1',
      ip: '127.0.0.1',
      user_agent: 'e2e-test/1.0',
      prev_hash: null,
    });
    expect(event.details).toMatchObject({
      created: true,
      secret_rotated: false,
      client_secret_hint: ms.secret.value.slice(0, 3),
    });
    expect(event.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('lets any member of the org read the status, but only admins write', async () => {
    await call(t, 'PUT', PATH, await admin('members'), credentialsOf(ms));
    const member = await t.token({ org: 'members', roles: [] });
    expect((await call(t, 'GET', PATH, member)).status).toBe(200);
    for (const [method, path] of [
      ['PUT', PATH],
      ['POST', `${PATH}/test`],
      ['POST', `${PATH}/verify`],
      ['DELETE', PATH],
    ]) {
      const result = await call(
        t,
        method,
        path,
        member,
        method === 'PUT' || path.endsWith('test') ? credentialsOf(ms) : undefined,
      );
      expect([method, path, result.status, result.body.error.code]).toEqual([method, path, 403, 'forbidden']);
    }
    const anonymous = await t.request(PATH);
    expect(anonymous.status).toBe(401);
  });

  it('keeps orgs apart', async () => {
    await call(t, 'PUT', PATH, await admin('org-a'), credentialsOf(ms, { default_priority: 1 }));
    const other = await admin('org-b');
    expect((await call(t, 'GET', PATH, other)).status).toBe(404);
    expect((await call(t, 'DELETE', PATH, other)).status).toBe(404);
    expect((await call(t, 'POST', `${PATH}/verify`, other)).status).toBe(404);
    const mine = await call(t, 'GET', PATH, await admin('org-a'));
    expect(mine.body).toMatchObject({ org_id: 'org-a', default_priority: 1 });
  });

  it('rotates the secret: the new one is verified and stored, the old one is gone', async () => {
    const org = 'rotation';
    const first = await call(t, 'PUT', PATH, await admin(org), credentialsOf(ms));
    expect(first.body.version).toBe(1);
    const newer = ms.sandbox.model.addSecret(ms.tenant.id, ms.app.clientId);
    const received = ms.mark();
    const rotated = await call(
      t,
      'PUT',
      PATH,
      await admin(org),
      credentialsOf(ms, { client_secret: newer.value }),
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ version: 2, client_secret_hint: newer.value.slice(0, 3) });
    expect(received()[0].form?.client_secret).toBe(newer.value);

    ms.sandbox.model.revokeSecret(
      ms.tenant.id,
      ms.app.clientId,
      newer.id === ms.secret.id ? '' : ms.secret.id,
    );
    try {
      const verified = await call(t, 'POST', `${PATH}/verify`, await admin(org));
      expect(verified.body).toMatchObject({ status: 'active', last_verification: { outcome: 'ok' } });
    } finally {
      ms.sandbox.model
        .app(ms.tenant.id, ms.app.clientId)
        .secrets.find((s) => s.id === ms.secret.id)!.revoked = false;
    }
    const events = await auditEvents(t, org);
    expect(events.map((e) => e.action)).toEqual(['integration.saved', 'integration.saved']);
    expect(events[1].details).toMatchObject({
      created: false,
      secret_rotated: true,
      changed_fields: ['client_secret'],
      client_secret_hint: newer.value.slice(0, 3),
      previous_client_secret_hint: ms.secret.value.slice(0, 3),
    });
    expect(events[1].prev_hash).toBe(events[0].hash);
  });

  it('keeps the stored secret and optional settings when omitted, and clears them with null', async () => {
    const org = 'keep';
    const owner = 'c0c0c0c0-0000-4000-8000-00000000000a';
    await call(
      t,
      'PUT',
      PATH,
      await admin(org),
      credentialsOf(ms, {
        default_owner_id: owner,
        ticket_properties: { casetypecode: 1 },
        default_priority: 3,
      }),
    );
    const { client_secret: _omitted, ...withoutSecret } = credentialsOf(ms);
    const received = ms.mark();
    const kept = await call(t, 'PUT', PATH, await admin(org), withoutSecret);
    expect(kept.status).toBe(200);
    expect(received()[0].form?.client_secret).toBe(ms.secret.value);
    expect(kept.body).toMatchObject({
      default_owner_id: owner,
      ticket_properties: { casetypecode: 1 },
      default_priority: 3,
      version: 2,
    });
    const cleared = await call(t, 'PUT', PATH, await admin(org), {
      ...withoutSecret,
      default_owner_id: null,
      ticket_properties: null,
    });
    expect(cleared.body).toMatchObject({
      default_owner_id: null,
      ticket_properties: {},
      default_priority: 3,
    });
    const events = await auditEvents(t, org);
    expect(events[1].details).toMatchObject({ secret_rotated: false, changed_fields: [] });
    expect(events[2].details.changed_fields.sort()).toEqual(['default_owner_id', 'ticket_properties']);
  });

  it('409 on a stale If-Match, before calling Microsoft; saves on the current one', async () => {
    const org = 'if-match';
    await call(t, 'PUT', PATH, await admin(org), credentialsOf(ms));
    await call(t, 'PUT', PATH, await admin(org), credentialsOf(ms, { default_priority: 1 }));
    const received = ms.mark();
    const stale = await call(t, 'PUT', PATH, await admin(org), credentialsOf(ms), { 'if-match': '"1"' });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('conflict');
    expect(received()).toEqual([]);
    const current = await call(t, 'PUT', PATH, await admin(org), credentialsOf(ms, { default_priority: 4 }), {
      'if-match': '"2"',
    });
    expect([current.status, current.body.version]).toEqual([200, 3]);
    const onNew = await call(t, 'PUT', PATH, await admin('if-match-new'), credentialsOf(ms), {
      'if-match': '"1"',
    });
    expect(onNew.status).toBe(409);
  });

  it('disconnects once: 204, then 404; the secret is gone from the database', async () => {
    const org = 'disconnect';
    await call(t, 'PUT', PATH, await admin(org), credentialsOf(ms));
    expect((await call(t, 'DELETE', PATH, await admin(org))).status).toBe(204);
    expect(await settingsRow(t, org)).toBeUndefined();
    const again = await call(t, 'DELETE', PATH, await admin(org));
    expect([again.status, again.body.error.code]).toEqual([404, 'not_found']);
    expect((await call(t, 'GET', PATH, await admin(org))).status).toBe(404);
    const events = await auditEvents(t, org);
    expect(events.map((e) => e.action)).toEqual(['integration.saved', 'integration.disconnected']);
    expect(events[1].details).toEqual({
      client_id: ms.app.clientId,
      tenant_id: ms.tenant.id,
      environment_url: ms.environment.origin,
      credential_type: 'client_secret',
      client_secret_hint: ms.secret.value.slice(0, 3),
    });
  });

  it('disconnect honours If-Match and accepts an empty JSON body', async () => {
    const org = 'disconnect-if-match';
    await call(t, 'PUT', PATH, await admin(org), credentialsOf(ms));
    await call(t, 'PUT', PATH, await admin(org), credentialsOf(ms, { default_priority: 1 }));
    const stale = await call(t, 'DELETE', PATH, await admin(org), undefined, { 'if-match': '"1"' });
    expect([stale.status, stale.body.error.code]).toEqual([409, 'conflict']);
    expect(await settingsRow(t, org)).toBeDefined();
    const response = await t.request(PATH, {
      method: 'DELETE',
      token: await admin(org),
      headers: { 'content-type': 'application/json', 'if-match': '"2"' },
    });
    expect(response.status).toBe(204);
    expect(await settingsRow(t, org)).toBeUndefined();
  });

  it('resets default_priority to 2 with null, and keeps status documents out of caches', async () => {
    const org = 'priority-null';
    await call(t, 'PUT', PATH, await admin(org), credentialsOf(ms, { default_priority: 4 }));
    const reset = await call(t, 'PUT', PATH, await admin(org), credentialsOf(ms, { default_priority: null }));
    expect([reset.status, reset.body.default_priority]).toEqual([200, 2]);
    expect(reset.headers.get('cache-control')).toBe('no-store');
    const status = await call(t, 'GET', PATH, await admin(org));
    expect(status.headers.get('cache-control')).toBe('no-store');
    const audit = await call(t, 'GET', '/api/v1/audit-events', await admin(org));
    expect(audit.headers.get('cache-control')).toBe('no-store');
  });

  it('of two saves with the same If-Match at once, one wins and one gets 409', async () => {
    const org = 'race';
    await call(t, 'PUT', PATH, await admin(org), credentialsOf(ms));
    // Both pass the early If-Match check, then wait on Dataverse; only the re-check under the
    // row lock inside the save transaction can tell them apart.
    ms.environment.latencyMs = 150;
    try {
      const token = await admin(org);
      const results = await Promise.all(
        [1, 3].map((priority) =>
          call(t, 'PUT', PATH, token, credentialsOf(ms, { default_priority: priority }), {
            'if-match': '"1"',
          }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      const winner = results.find((r) => r.status === 200)!;
      expect((await call(t, 'GET', PATH, token)).body).toMatchObject({
        version: 2,
        default_priority: winner.body.default_priority,
      });
      expect((await auditEvents(t, org)).map((e) => e.action)).toEqual([
        'integration.saved',
        'integration.saved',
      ]);
    } finally {
      ms.environment.latencyMs = 0;
    }
  });

  it('serialises two first saves at once: one creates the row, the other updates it', async () => {
    const org = 'first-race';
    // Both wait on Dataverse, then reach the save transaction together with no row to lock yet.
    ms.environment.latencyMs = 150;
    try {
      const token = await admin(org);
      const results = await Promise.all(
        [1, 3].map((priority) =>
          call(t, 'PUT', PATH, token, credentialsOf(ms, { default_priority: priority })),
        ),
      );
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      expect(results.map((r) => r.body.version).sort()).toEqual([1, 2]);
      const events = await auditEvents(t, org);
      expect(events.map((e) => [e.action, e.details.created, e.details.version])).toEqual([
        ['integration.saved', true, 1],
        ['integration.saved', false, 2],
      ]);
    } finally {
      ms.environment.latencyMs = 0;
    }
  });

  it('leaves no audit event behind when the save transaction fails after recording it', async () => {
    const org = 'fail-at-commit';
    // A deferred trigger fails the save's transaction at COMMIT, after the audit event was written.
    await withClient(t.databaseUrl, (c) =>
      c.query(`
        CREATE FUNCTION fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.org_id = 'fail-at-commit' THEN RAISE EXCEPTION 'injected failure at commit'; END IF;
          RETURN NEW;
        END $$;
        CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT OR UPDATE ON dynamics365_integration_settings
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_at_commit();`),
    );
    try {
      const result = await call(t, 'PUT', PATH, await admin(org), credentialsOf(ms));
      expect([result.status, result.body.error.code]).toEqual([500, 'internal_error']);
      expect(await settingsRow(t, org)).toBeUndefined();
      expect(await auditEvents(t, org)).toEqual([]);
    } finally {
      await withClient(t.databaseUrl, (c) =>
        c.query(
          'DROP TRIGGER fail_at_commit ON dynamics365_integration_settings; DROP FUNCTION fail_at_commit()',
        ),
      );
    }
  });

  it('keeps reading and saving after a migration adds a column (prepared statements name their columns)', async () => {
    const org = 'rolling-deploy';
    const token = await admin(org);
    expect((await call(t, 'PUT', PATH, token, credentialsOf(ms))).status).toBe(200);
    // Sequential requests reuse the pool's connections, which have now prepared the status read,
    // the lock and the save. Another instance's migration adds a column meanwhile:
    for (let i = 0; i < 3; i++) expect((await call(t, 'GET', PATH, token)).status).toBe(200);
    await withClient(t.databaseUrl, (c) =>
      c.query('ALTER TABLE dynamics365_integration_settings ADD COLUMN added_by_a_later_release text'),
    );
    try {
      for (let i = 0; i < 3; i++) expect((await call(t, 'GET', PATH, token)).status).toBe(200);
      const saved = await call(t, 'PUT', PATH, token, credentialsOf(ms, { default_priority: 4 }));
      expect([saved.status, saved.body.default_priority]).toEqual([200, 4]);
    } finally {
      await withClient(t.databaseUrl, (c) =>
        c.query('ALTER TABLE dynamics365_integration_settings DROP COLUMN added_by_a_later_release'),
      );
    }
  });

  it('tests without saving anything', async () => {
    const org = 'test-only';
    const result = await call(t, 'POST', `${PATH}/test`, await admin(org), credentialsOf(ms));
    expect(result.status).toBe(200);
    expect(result.body.ok).toBe(true);
    expect(
      result.body.stages.map((s: { stage: string; outcome: string }) => `${s.stage}:${s.outcome}`),
    ).toEqual(['token_exchange:ok', 'dynamics_probe:ok']);
    expect(await settingsRow(t, org)).toBeUndefined();
    expect(await auditEvents(t, org)).toEqual([]);
  });

  it('warns about secrets that expire within 14 days or have expired', async () => {
    const soon = new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString();
    const past = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    const a = await call(
      t,
      'PUT',
      PATH,
      await admin('warn-soon'),
      credentialsOf(ms, { secret_expires_at: soon }),
    );
    expect(a.body.warnings).toEqual(['secret_expires_soon']);
    const b = await call(
      t,
      'PUT',
      PATH,
      await admin('warn-past'),
      credentialsOf(ms, { secret_expires_at: past }),
    );
    expect(b.body.warnings).toEqual(['secret_expired']);
  });
});

describe('verification rate limit', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({ env: { ...ms.env, VERIFY_RATE_LIMIT_PER_MINUTE: '2' } });
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it('allows N attempts per org per minute, not counting refused input, then 429 with Retry-After', async () => {
    const token = await t.token({ org: 'limited' });
    for (let i = 0; i < 3; i++) {
      expect(
        (await call(t, 'PUT', PATH, token, credentialsOf(ms, { environment_url: 'https://127.0.0.1' })))
          .status,
      ).toBe(400);
    }
    expect((await call(t, 'POST', `${PATH}/test`, token, credentialsOf(ms))).status).toBe(200);
    expect((await call(t, 'PUT', PATH, token, credentialsOf(ms))).status).toBe(200);
    const received = ms.mark();
    const limited = await call(t, 'POST', `${PATH}/verify`, token);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(received()).toEqual([]);
    expect(
      (await call(t, 'POST', `${PATH}/test`, await t.token({ org: 'other-org' }), credentialsOf(ms))).status,
    ).toBe(200);
  });

  const setAttempts = (org: string, secondsAgo: number[]) =>
    withClient(t.databaseUrl, (c) =>
      c.query(
        `INSERT INTO verification_rate_limits (org_id, attempts)
         SELECT $1, ARRAY(SELECT now() - make_interval(secs => s) FROM unnest($2::int[]) s)
         ON CONFLICT (org_id) DO UPDATE SET attempts = EXCLUDED.attempts`,
        [org, secondsAgo],
      ),
    );

  it('counts over any rolling minute, not per calendar minute', async () => {
    const token = await t.token({ org: 'rolling' });
    await call(t, 'PUT', PATH, token, credentialsOf(ms));
    // Two attempts 30 s ago (say at :58, with now at :28 of the next minute): still counted.
    await setAttempts('rolling', [30, 30]);
    const received = ms.mark();
    const limited = await call(t, 'POST', `${PATH}/verify`, token);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(29);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(31);
    expect(received()).toEqual([]);
    // One of them 61 s ago: it has left the window, one slot is free.
    await setAttempts('rolling', [61, 30]);
    expect((await call(t, 'POST', `${PATH}/verify`, token)).status).toBe(200);
    expect((await call(t, 'POST', `${PATH}/verify`, token)).status).toBe(429);
  });

  it('lets exactly N concurrent attempts through to Microsoft', async () => {
    const token = await t.token({ org: 'burst' });
    const received = ms.mark();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => call(t, 'POST', `${PATH}/test`, token, credentialsOf(ms))),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, ...Array(8).fill(429)]);
    expect(received().filter((r) => r.server === 'login')).toHaveLength(2);
  });
});
