import { randomUUID } from 'node:crypto';
import { startWorld, World } from './testing.js';

interface DataverseError {
  error: { code: string; message: string };
}

describe('Dataverse Web API', () => {
  let w: World;
  let token: string;
  const api = (path: string, init: RequestInit & { bearer?: string | null } = {}) => {
    const { bearer, ...rest } = init;
    const headers = new Headers(rest.headers);
    headers.set('accept', 'application/json');
    headers.set('odata-maxversion', '4.0');
    headers.set('odata-version', '4.0');
    if (bearer !== null) headers.set('authorization', `Bearer ${bearer ?? token}`);
    return fetch(`${w.environment.origin}/api/data/v9.2/${path}`, { ...rest, headers });
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    api(path, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    });
  const expectError = async (response: Response, status: number, code: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/json; odata.metadata=minimal');
    const body = (await response.json()) as DataverseError;
    expect(body.error.code).toBe(code);
    return body.error.message;
  };

  beforeAll(async () => {
    w = await startWorld();
    token = await w.accessToken();
  });
  afterAll(() => w.sandbox.close());

  describe('the probe and queries', () => {
    it('answers the Test & Save probe with an OData collection', async () => {
      const response = await api('incidents?$top=1&$select=incidentid');
      expect(response.status).toBe(200);
      expect(response.headers.get('odata-version')).toBe('4.0');
      expect(response.headers.get('content-type')).toBe('application/json; odata.metadata=minimal');
      expect(response.headers.get('x-ms-ratelimit-burst-remaining-xrm-requests')).toMatch(/^\d+$/);
      expect(response.headers.get('req_id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(await response.json()).toEqual({
        '@odata.context': `${w.environment.origin}/api/data/v9.2/$metadata#incidents(incidentid)`,
        value: [],
      });
    });

    it('answers WhoAmI with the application user', async () => {
      const response = await api('WhoAmI');
      expect(response.status).toBe(200);
      const body = (await response.json()) as Record<string, string>;
      expect(body).toEqual({
        '@odata.context': `${w.environment.origin}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
        BusinessUnitId: w.environment.businessUnitId,
        UserId: w.sandbox.model.applicationUser('contoso', w.app.clientId).systemUserId,
        OrganizationId: w.environment.organizationId,
      });
      expect((await api('WhoAmI()')).status).toBe(200);
    });

    it('filters with eq (case-insensitive, doubled quotes), and, $select, $top and etags', async () => {
      const created: { contactid: string }[] = [];
      for (const [first, email] of [
        ['Aoife', "a.o'brien@example.com"],
        ['Bea', 'bea@example.com'],
        ['Cai', 'cai@example.com'],
      ]) {
        const response = await post(
          'contacts',
          { firstname: first, lastname: 'Test', emailaddress1: email },
          { prefer: 'return=representation' },
        );
        created.push((await response.json()) as { contactid: string });
      }
      const filter = encodeURIComponent("emailaddress1 eq 'A.O''BRIEN@example.com' and lastname eq 'test'");
      const found = (await (
        await api(`contacts?$select=contactid,fullname&$filter=${filter}&$top=1`)
      ).json()) as {
        '@odata.context': string;
        value: Record<string, unknown>[];
      };
      expect(found['@odata.context']).toBe(
        `${w.environment.origin}/api/data/v9.2/$metadata#contacts(contactid,fullname)`,
      );
      expect(found.value).toHaveLength(1);
      expect(found.value[0]).toEqual({
        '@odata.etag': expect.stringMatching(/^W\/"\d+"$/),
        contactid: created[0].contactid,
        fullname: 'Aoife Test',
      });

      const top = (await (await api('contacts?$select=firstname&$top=2')).json()) as { value: unknown[] };
      expect(top.value).toHaveLength(2);
      const none = (await (
        await api(`contacts?$filter=${encodeURIComponent("emailaddress1 eq 'nobody@example.com'")}`)
      ).json()) as { value: unknown[] };
      expect(none.value).toEqual([]);
    });

    it('400 for an unterminated literal, an unknown column and an unsupported option', async () => {
      const unterminated = await expectError(
        await api(`contacts?$filter=${encodeURIComponent("lastname eq 'O'Bryan'")}`),
        400,
        '0x80060888',
      );
      expect(unterminated).toBe(
        "There is an unterminated literal at position 21 in 'lastname eq 'O'Bryan''.",
      );
      expect(await expectError(await api('incidents?$select=nosuchcolumn'), 400, '0x80060888')).toBe(
        "Could not find a property named 'nosuchcolumn' on type 'Microsoft.Dynamics.CRM.incident'.",
      );
      expect(await expectError(await api('incidents?$skip=5'), 400, '0x80060888')).toBe(
        'The query parameter $skip is not supported',
      );
    });

    it('404 0x8006088a for an unknown segment or API version, 404 0x80040217 for a missing record', async () => {
      expect(await expectError(await api('incidentss'), 404, '0x8006088a')).toBe(
        "Resource not found for the segment 'incidentss'.",
      );
      const wrongVersion = await fetch(`${w.environment.origin}/api/data/v9.9/incidents`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(await expectError(wrongVersion, 404, '0x8006088a')).toBe(
        "Resource not found for the segment 'v9.9'.",
      );
      const id = randomUUID();
      expect(await expectError(await api(`incidents(${id})`), 404, '0x80040217')).toBe(
        `incident With Id = ${id} Does Not Exist`,
      );
    });
  });

  describe('authorization', () => {
    const expectUnauthorized = async (response: Response) => {
      expect(response.status).toBe(401);
      expect(await response.text()).toBe('');
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer authorization_uri=${w.sandbox.loginUrl}/${w.tenant.id}/oauth2/authorize, resource_id=${w.environment.origin}/`,
      );
    };

    it('401 with an empty body and WWW-Authenticate: missing, malformed, expired, wrong audience, other tenant', async () => {
      await expectUnauthorized(await api('incidents', { bearer: null }));
      await expectUnauthorized(await api('incidents', { bearer: 'not-a-jwt' }));
      const base = { tenantId: w.tenant.id, clientId: w.app.clientId, objectId: w.app.objectId };
      const expired = await w.sandbox.key.accessToken({
        ...base,
        resource: w.environment.origin,
        lifetimeSeconds: -60,
      });
      await expectUnauthorized(await api('incidents', { bearer: expired.token }));
      const otherAudience = await w.sandbox.key.accessToken({
        ...base,
        resource: 'http://127.0.0.1:1',
        lifetimeSeconds: 600,
      });
      await expectUnauthorized(await api('incidents', { bearer: otherAudience.token }));
      const otherTenant = await w.sandbox.key.accessToken({
        ...base,
        tenantId: randomUUID(),
        resource: w.environment.origin,
        lifetimeSeconds: 600,
      });
      await expectUnauthorized(await api('incidents', { bearer: otherTenant.token }));
    });

    it('403 0x80072560 when the app has no application user', async () => {
      const app = w.sandbox.model.createApp(w.tenant.id);
      const base = {
        tenantId: w.tenant.id,
        clientId: app.clientId,
        objectId: app.objectId,
        resource: w.environment.origin,
        lifetimeSeconds: 600,
      };
      const { token: bearer } = await w.sandbox.key.accessToken(base);
      expect(await expectError(await api('incidents', { bearer }), 403, '0x80072560')).toBe(
        'The user is not a member of the organization.',
      );
    });

    it('403 0x80040225 when the application user is disabled', async () => {
      const app = w.sandbox.model.createApp(w.tenant.id);
      w.sandbox.model.addApplicationUser('contoso', { clientId: app.clientId, disabled: true });
      const { token: bearer } = await w.sandbox.key.accessToken({
        tenantId: w.tenant.id,
        clientId: app.clientId,
        objectId: app.objectId,
        resource: w.environment.origin,
        lifetimeSeconds: 600,
      });
      expect(await expectError(await api('WhoAmI', { bearer }), 403, '0x80040225')).toBe(
        'The specified user is disabled.',
      );
    });

    it('403 0x80040220 naming the missing privilege, per entity and action', async () => {
      const app = w.sandbox.model.createApp(w.tenant.id);
      const user = w.sandbox.model.addApplicationUser('contoso', {
        clientId: app.clientId,
        privileges: ['prvReadContact', 'prvReadIncident'],
      });
      const { token: bearer } = await w.sandbox.key.accessToken({
        tenantId: w.tenant.id,
        clientId: app.clientId,
        objectId: app.objectId,
        resource: w.environment.origin,
        lifetimeSeconds: 600,
      });
      expect((await api('incidents?$top=1', { bearer })).status).toBe(200);
      const queues = await expectError(await api('queues', { bearer }), 403, '0x80040220');
      expect(queues).toMatch(
        /is missing prvReadQueue privilege \(Id=[0-9a-f-]{36}\) on OTC=2020 for entity 'queue' \(LocalizedName='Queue'\)/,
      );
      const create = await fetch(`${w.environment.origin}/api/data/v9.2/incidents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'x' }),
      });
      const message = await expectError(create, 403, '0x80040220');
      expect(message).toMatch(
        new RegExp(
          `^Principal user \\(Id=${user.systemUserId}, type=8, roleCount=1, privilegeCount=2, accessMode='4 Non-interactive', AADObjectId='${app.objectId}', .*\\), is missing prvCreateIncident privilege \\(Id=[0-9a-f-]{36}\\) on OTC=112 for entity 'incident' \\(LocalizedName='Case'\\)\\. context\\.Caller=${user.systemUserId}\\. Consider adding missed privilege to one of the principal \\(user/team\\) roles\\.$`,
        ),
      );
    });
  });

  describe('creating records', () => {
    let contactId: string;
    beforeAll(async () => {
      const response = await post('contacts', {
        firstname: 'Ada',
        lastname: 'Lovelace',
        emailaddress1: 'ada@example.com',
      });
      expect(response.status).toBe(204);
      const entityId = response.headers.get('odata-entityid');
      expect(entityId).toMatch(
        new RegExp(`^${w.environment.origin}/api/data/v9.2/contacts\\([0-9a-f-]{36}\\)$`),
      );
      contactId = /\(([^)]+)\)/.exec(entityId!)![1];
    });

    it('creates an incident: 204 + OData-EntityId without Prefer', async () => {
      const response = await post('incidents', {
        title: 'Printer on fire',
        'customerid_contact@odata.bind': `/contacts(${contactId})`,
      });
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
      expect(response.headers.get('odata-entityid')).toMatch(/\/incidents\([0-9a-f-]{36}\)$/);
    });

    it('creates an incident with return=representation: 201, Preference-Applied, ticket number', async () => {
      w.sandbox.model.addCustomColumn('contoso', 'incidents', 'new_channel', {
        type: 'string',
        maxLength: 20,
      });
      const response = await post(
        'incidents?$select=incidentid,ticketnumber,title',
        {
          title: 'Help',
          prioritycode: 1,
          new_channel: 'web',
          'customerid_contact@odata.bind': `contacts(${contactId})`,
        },
        { prefer: 'return=representation' },
      );
      expect(response.status).toBe(201);
      expect(response.headers.get('preference-applied')).toBe('return=representation');
      expect(response.headers.get('odata-entityid')).toBeNull();
      const body = (await response.json()) as Record<string, string>;
      expect(body['@odata.context']).toBe(
        `${w.environment.origin}/api/data/v9.2/$metadata#incidents(incidentid,ticketnumber,title)/$entity`,
      );
      expect(body.ticketnumber).toMatch(/^CAS-\d{5}-[A-Z0-9]{6}$/);
      expect(body.title).toBe('Help');
      const read = (await (
        await api(`incidents(${body.incidentid})?$select=_customerid_value,prioritycode,new_channel`)
      ).json()) as Record<string, unknown>;
      expect(read).toMatchObject({ _customerid_value: contactId, prioritycode: 1, new_channel: 'web' });
    });

    it('accepts absolute bind URLs and validates bind targets', async () => {
      const absolute = await post('incidents', {
        title: 'A',
        'customerid_contact@odata.bind': `${w.environment.origin}/api/data/v9.2/contacts(${contactId})`,
      });
      expect(absolute.status).toBe(204);
      const missing = randomUUID();
      expect(
        await expectError(
          await post('incidents', { title: 'B', 'customerid_contact@odata.bind': `/contacts(${missing})` }),
          404,
          '0x80040217',
        ),
      ).toBe(`contact With Id = ${missing} Does Not Exist`);
      const ownerMissing = randomUUID();
      await expectError(
        await post('incidents', {
          title: 'C',
          'customerid_contact@odata.bind': `/contacts(${contactId})`,
          'ownerid@odata.bind': `/systemusers(${ownerMissing})`,
        }),
        404,
        '0x80040217',
      );
      await expectError(
        await post('incidents', { title: 'D', 'customerid_contact@odata.bind': `/queues(${contactId})` }),
        400,
        '0x80060888',
      );
    });

    it('400 for a case without customer, an unknown column or an unknown navigation property', async () => {
      expect(await expectError(await post('incidents', { title: 'No customer' }), 400, '0x80044410')).toBe(
        'You should specify a parent contact or account.',
      );
      expect(
        await expectError(await post('contacts', { lastname: 'X', shoesize: 44 }), 400, '0x80060891'),
      ).toBe("Invalid property 'shoesize' was found in entity 'Microsoft.Dynamics.CRM.contact'.");
      await expectError(
        await post('incidents', { 'queueid@odata.bind': '/queues(00000000-0000-0000-0000-000000000001)' }),
        400,
        '0x80060888',
      );
    });

    it('requires Append on the case and AppendTo on the bound record', async () => {
      const app = w.sandbox.model.createApp(w.tenant.id);
      w.sandbox.model.addApplicationUser('contoso', {
        clientId: app.clientId,
        privileges: ['prvCreateIncident', 'prvAppendIncident'],
      });
      const { token: bearer } = await w.sandbox.key.accessToken({
        tenantId: w.tenant.id,
        clientId: app.clientId,
        objectId: app.objectId,
        resource: w.environment.origin,
        lifetimeSeconds: 600,
      });
      const response = await fetch(`${w.environment.origin}/api/data/v9.2/incidents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'x', 'customerid_contact@odata.bind': `/contacts(${contactId})` }),
      });
      expect(await expectError(response, 403, '0x80040220')).toContain(
        'is missing prvAppendToContact privilege',
      );
    });
  });

  describe('service protection limits and faults', () => {
    let env: World['environment'];
    let bearer: string;
    beforeAll(async () => {
      env = await w.sandbox.addEnvironment({ name: 'limited', tenantId: w.tenant.id });
      w.sandbox.model.addApplicationUser('limited', { clientId: w.app.clientId });
      bearer = (
        (await (await w.requestToken({ scope: `${env.origin}/.default` })).json()) as { access_token: string }
      ).access_token;
    });
    const call = (path = 'WhoAmI') =>
      fetch(`${env.origin}/api/data/v9.2/${path}`, { headers: { authorization: `Bearer ${bearer}` } });
    beforeEach(() => {
      env.usage.clear();
      env.fault = undefined;
      env.latencyMs = 0;
      env.limits = {
        windowSeconds: 300,
        requestsPerWindow: 6000,
        executionTimeMsPerWindow: 1_200_000,
        concurrentRequests: 52,
      };
    });

    it('429 0x80072322 with Retry-After once the requests-per-window counter is exceeded', async () => {
      env.limits.requestsPerWindow = 3;
      for (let i = 0; i < 3; i++) expect((await call()).status).toBe(200);
      const response = await call();
      expect(response.status).toBe(429);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(299);
      expect(await expectError(response, 429, '0x80072322')).toBe(
        'Number of requests exceeded the limit of 3 over time window of 300 seconds.',
      );
      expect(env.usage.get(w.app.clientId)?.arrivals).toHaveLength(3);
    });

    it('extends the wait of a client that keeps sending while throttled', async () => {
      env.limits = { ...env.limits, windowSeconds: 2, requestsPerWindow: 2, throttlePenaltyMs: 1000 };
      for (let i = 0; i < 2; i++) expect((await call()).status).toBe(200);
      const first = await call();
      const waited = Number(first.headers.get('retry-after'));
      expect([first.status, waited]).toEqual([429, 2]);
      // Three more while throttled: each one pushes the end a second further.
      for (let i = 0; i < 3; i++) await call();
      const later = await call();
      await expectError(later, 429, '0x80072322');
      expect(Number(later.headers.get('retry-after'))).toBeGreaterThanOrEqual(waited + 3);
      // A client that honours Retry-After is let through once it has passed.
      await new Promise((resolve) =>
        setTimeout(resolve, Number(later.headers.get('retry-after')) * 1000 + 50),
      );
      expect((await call()).status).toBe(200);
    }, 15_000);

    it('429 0x80072326 when concurrent requests exceed the limit', async () => {
      env.limits.concurrentRequests = 2;
      env.latencyMs = 150;
      const responses = await Promise.all([call(), call(), call()]);
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 429]);
      const throttled = responses.find((r) => r.status === 429)!;
      expect(throttled.headers.get('retry-after')).toBe('1');
      expect(await expectError(throttled, 429, '0x80072326')).toBe(
        'Number of concurrent requests exceeded the limit of 2.',
      );
    });

    it('429 0x80072321 once combined execution time exceeds the limit', async () => {
      env.limits.executionTimeMsPerWindow = 100;
      env.latencyMs = 60;
      expect((await call()).status).toBe(200);
      expect((await call()).status).toBe(200);
      await expectError(await call(), 429, '0x80072321');
    });

    it('injects status faults for a number of requests, then recovers', async () => {
      env.fault = { status: 503, count: 2 };
      expect(await expectError(await call(), 503, '0x80040216')).toBe('An unexpected error occurred.');
      await expectError(await call(), 503, '0x80040216');
      expect((await call()).status).toBe(200);
      env.fault = { status: 429, retryAfter: 9, count: 1 };
      const throttled = await call();
      expect(throttled.headers.get('retry-after')).toBe('9');
      await expectError(throttled, 429, '0x80072322');
    });

    it('hangs and resets connections on demand', async () => {
      env.fault = { reset: true, count: 1 };
      await expect(call()).rejects.toThrow();
      env.fault = { hang: true, count: 1 };
      await expect(
        fetch(`${env.origin}/api/data/v9.2/WhoAmI`, { signal: AbortSignal.timeout(200) }),
      ).rejects.toThrow(/timeout|aborted/i);
      expect((await call()).status).toBe(200);
    });

    it('logs every Dataverse request with its origin, headers and status', async () => {
      const before = w.sandbox.model.requests.length;
      await call('incidents?$top=1&$select=incidentid');
      await new Promise((resolve) => setTimeout(resolve, 20));
      const entry = w.sandbox.model.requests.slice(before).find((r) => r.server === 'dataverse');
      expect(entry).toMatchObject({
        origin: env.origin,
        method: 'GET',
        path: '/api/data/v9.2/incidents',
        query: { $top: '1', $select: 'incidentid' },
        status: 200,
      });
      expect(entry?.headers.authorization).toBe(`Bearer ${bearer}`);
    });
  });
});
