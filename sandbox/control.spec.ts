import { DEMO, seedDemo } from './demo.js';
import { Sandbox, startSandbox } from './server.js';

describe('sandbox control API', () => {
  let sandbox: Sandbox;
  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sandbox.loginUrl}/_sandbox${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
  };
  const token = (tenant: string, clientId: string, secret: string, origin: string) =>
    fetch(`${sandbox.loginUrl}/${tenant}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: secret,
        scope: `${origin}/.default`,
      }),
    });
  const probe = (origin: string, accessToken: string) =>
    fetch(`${origin}/api/data/v9.2/incidents?$top=1&$select=incidentid`, {
      headers: {
        authorization: `Bearer ${accessToken}`,
        accept: 'application/json',
        'odata-version': '4.0',
        'odata-maxversion': '4.0',
      },
    });

  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());

  it('sets up a tenant, app, secret, environment and application user over HTTP, then breaks them', async () => {
    const tenant = await control('POST', '/tenants', {
      name: 'Northwind',
      domains: ['northwind.onmicrosoft.com'],
    });
    expect(tenant.status).toBe(201);
    const tenantId = tenant.body!.id as string;
    const app = await control('POST', `/tenants/${tenantId}/apps`, { name: 'Connector' });
    const clientId = app.body!.client_id as string;
    const secret = await control('POST', `/tenants/${tenantId}/apps/${clientId}/secrets`, {
      expires_at: '2099-01-01T00:00:00Z',
    });
    expect(secret.body).toMatchObject({ hint: (secret.body!.value as string).slice(0, 3) });
    const environment = await control('POST', '/environments', { name: 'northwind', tenant_id: tenantId });
    const origin = environment.body!.origin as string;
    expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(
      (
        await control('POST', '/environments/northwind/users', {
          client_id: clientId,
          privileges: ['prvReadIncident'],
        })
      ).status,
    ).toBe(201);

    const granted = await token(tenantId, clientId, secret.body!.value as string, origin);
    expect(granted.status).toBe(200);
    const accessToken = ((await granted.json()) as { access_token: string }).access_token;
    expect((await probe(origin, accessToken)).status).toBe(200);

    expect(
      (await control('PATCH', '/environments/northwind/users/' + clientId, { privileges: [] })).status,
    ).toBe(200);
    expect((await probe(origin, accessToken)).status).toBe(403);
    expect((await control('DELETE', '/environments/northwind/users/' + clientId)).status).toBe(204);
    const noUser = await probe(origin, accessToken);
    expect(((await noUser.json()) as { error: { code: string } }).error.code).toBe('0x80072560');

    expect(
      (await control('DELETE', `/tenants/${tenantId}/apps/${clientId}/secrets/${secret.body!.id as string}`))
        .status,
    ).toBe(204);
    const revoked = await token(tenantId, clientId, secret.body!.value as string, origin);
    expect(((await revoked.json()) as { error_codes: number[] }).error_codes).toEqual([7000215]);

    await control('PATCH', `/tenants/${tenantId}/apps/${clientId}`, { disabled: true });
    const fresh = await control('POST', `/tenants/${tenantId}/apps/${clientId}/secrets`, {});
    const disabled = await token(tenantId, clientId, fresh.body!.value as string, origin);
    expect(((await disabled.json()) as { error_codes: number[] }).error_codes).toEqual([7000112]);

    const state = await control('GET', '/state');
    expect(state.body!.tenants.find((t: { id: string }) => t.id === tenantId).apps[0]).toMatchObject({
      client_id: clientId,
      disabled: true,
    });
    expect(JSON.stringify(state.body)).not.toContain(secret.body!.value as string);
  });

  it('injects and clears faults, sets latency and limits, and reads usage and the request log', async () => {
    const tenant = await control('POST', '/tenants', { name: 'Faulty' });
    const tenantId = tenant.body!.id as string;
    const clientId = (await control('POST', `/tenants/${tenantId}/apps`, {})).body!.client_id as string;
    const secret = (await control('POST', `/tenants/${tenantId}/apps/${clientId}/secrets`, {})).body!
      .value as string;
    const origin = (await control('POST', '/environments', { name: 'faulty', tenant_id: tenantId })).body!
      .origin as string;
    await control('POST', '/environments/faulty/users', { client_id: clientId });

    expect((await control('PUT', '/faults/token', { status: 503, retryAfer: 1 })).status).toBe(400);
    await control('PUT', '/faults/token', { status: 503, count: 1 });
    expect((await token(tenantId, clientId, secret, origin)).status).toBe(503);
    const accessToken = (
      (await (await token(tenantId, clientId, secret, origin)).json()) as { access_token: string }
    ).access_token;

    await control('PUT', '/environments/faulty/fault', { status: 500 });
    expect((await probe(origin, accessToken)).status).toBe(500);
    expect((await control('DELETE', '/environments/faulty/fault')).status).toBe(204);
    expect((await probe(origin, accessToken)).status).toBe(200);

    // A fault for one method and path leaves every other request alone.
    expect((await control('PUT', '/environments/faulty/fault', { status: 503, method: 7 })).status).toBe(400);
    await control('PUT', '/environments/faulty/fault', {
      status: 503,
      method: 'PATCH',
      path: '/incidents(',
      count: 1,
    });
    expect((await probe(origin, accessToken)).status).toBe(200);
    const patch = (path: string) =>
      fetch(`${origin}/api/data/v9.2${path}`, {
        method: 'PATCH',
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json',
          'if-none-match': '*',
        },
        body: JSON.stringify({ lastname: 'Fault' }),
      });
    expect((await patch('/contacts(1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b)')).status).toBe(204);
    expect((await patch('/incidents(1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5c)')).status).toBe(503);
    const state = await control('GET', '/state');
    const faulty = (state.body!.environments as { name: string; records: any; fault: unknown }[]).find(
      (e) => e.name === 'faulty',
    )!;
    expect(faulty.fault).toBeNull();
    expect(faulty.records.contacts).toMatchObject({ count: 1, latest: [{ lastname: 'Fault' }] });
    expect(faulty.records.incidents.count).toBe(0);

    const latency = await control('PUT', '/latency', { token_ms: 5, environments: { faulty: 10 } });
    expect(latency.body).toMatchObject({ token_ms: 5, environments: { faulty: 10 } });
    await control('PUT', '/latency', { token_ms: 0, environments: { faulty: 0 } });

    await control('PUT', '/environments/faulty/limits', { requestsPerWindow: 1 });
    expect((await probe(origin, accessToken)).status).toBe(200);
    expect((await probe(origin, accessToken)).status).toBe(429);
    const usage = await control('GET', '/environments/faulty/usage');
    expect(usage.body![clientId]).toMatchObject({ requests_in_window: 1, in_flight: 0 });

    const log = await control('GET', `/requests?server=dataverse&origin=${encodeURIComponent(origin)}`);
    expect((log.body as unknown as { status: number }[]).map((r) => r.status)).toEqual([
      500, 200, 200, 204, 503, 200, 429,
    ]);
    expect((await control('GET', '/environments/nowhere/usage')).status).toBe(404);
  });
});

describe('sandbox settings for facts the reference leaves unconfirmed', () => {
  it('changes the status of AADSTS700016 and the answer for unknown resources over HTTP', async () => {
    const sandbox = await startSandbox();
    try {
      const tenant = sandbox.model.createTenant();
      const put = (settings: Record<string, unknown>) =>
        fetch(`${sandbox.loginUrl}/_sandbox/settings`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(settings),
        });
      const request = (clientId: string, secret: string, scope: string) =>
        fetch(`${sandbox.loginUrl}/${tenant.id}/oauth2/v2.0/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: clientId,
            client_secret: secret,
            scope,
          }),
        });
      expect((await put({ appNotFoundStatus: 401 })).status).toBe(200);
      expect(
        (await request('9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', 'x', 'https://a.crm.dynamics.com/.default'))
          .status,
      ).toBe(401);
      const app = sandbox.model.createApp(tenant.id);
      const secret = sandbox.model.addSecret(tenant.id, app.clientId);
      expect((await request(app.clientId, secret.value, 'https://a.crm.dynamics.com/.default')).status).toBe(
        400,
      );
      await put({ unknownResource: 'issue_token' });
      expect((await request(app.clientId, secret.value, 'https://a.crm.dynamics.com/.default')).status).toBe(
        200,
      );
    } finally {
      await sandbox.close();
    }
  });
});

describe('demo tenant (npm run sandbox)', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());

  it('has one working app registration and broken ones that fail exactly as printed', async () => {
    const cases = await seedDemo(sandbox);
    const outcomes: string[] = [];
    for (const c of cases) {
      const tokenResponse = await fetch(`${sandbox.loginUrl}/${c.tenant_id}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: c.client_id,
          client_secret: c.client_secret,
          scope: `${c.environment_url}/.default`,
        }),
      });
      if (tokenResponse.status !== 200) {
        const body = (await tokenResponse.json()) as { error_codes: number[] };
        outcomes.push(`token exchange rejected: AADSTS${body.error_codes[0]}`);
        continue;
      }
      const { access_token } = (await tokenResponse.json()) as { access_token: string };
      const probe = await fetch(`${c.environment_url}/api/data/v9.2/incidents?$top=1&$select=incidentid`, {
        headers: { authorization: `Bearer ${access_token}` },
      });
      if (probe.status === 200) {
        outcomes.push('Test & Save succeeds');
        continue;
      }
      const { error } = (await probe.json()) as { error: { code: string; message: string } };
      const privilege = /is missing (prv\w+) privilege/.exec(error.message)?.[1];
      outcomes.push(
        `Dynamics probe rejected: ${probe.status} ${error.code}${privilege ? ` ${privilege}` : ''}`,
      );
    }
    // What the probe decides; readiness (what follows it) is the service's: test/readiness.e2e-spec.ts.
    expect(outcomes).toEqual(cases.map((c) => c.expect.split(';')[0]));
    expect(cases[0]).toMatchObject({ client_id: DEMO.apps.working.clientId, tenant_id: DEMO.tenantId });
  });
});
