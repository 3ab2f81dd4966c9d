import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfidentialClientApplication,
  INetworkModule,
  NetworkRequestOptions,
  NetworkResponse,
} from '@azure/msal-node';
import { DynamicsWebApi } from 'dynamics-web-api';
import { decodeJwt } from 'jose';
import { startWorld, testCertificate, World } from './testing.js';

/**
 * The sandbox's proof of fidelity: Microsoft's own client libraries — MSAL Node for Entra ID and
 * dynamics-web-api for Dataverse — run against it and see what they see from Microsoft.
 */

/**
 * MSAL Node's documented way to run offline: its own authority (login.microsoftonline.com, whose
 * metadata MSAL knows, so it sends exactly one POST) and a network client that reaches the
 * sandbox instead. Answers are parsed as MSAL's own client parses them.
 */
function sandboxNetwork(loginUrl: string): INetworkModule {
  const send = async (
    url: string,
    method: 'GET' | 'POST',
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<any>> => {
    const target = url.replace('https://login.microsoftonline.com', loginUrl);
    const response = await fetch(target, {
      method,
      headers: options?.headers,
      body: method === 'POST' ? options?.body : undefined,
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw Object.assign(new Error(`Failed to parse response: ${(error as Error).message}`), {
        errorCode: 'token_parsing_error',
      });
    }
    return { headers, body, status: response.status };
  };
  return {
    sendGetRequestAsync: (url, options) => send(url, 'GET', options),
    sendPostRequestAsync: (url, options) => send(url, 'POST', options),
  };
}

describe('conformance with Microsoft’s client libraries', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.sandbox.close());

  describe('MSAL Node (@azure/msal-node) against the token endpoint', () => {
    const msal = (clientId: string, clientSecret: string, tenant = w.tenant.id) =>
      new ConfidentialClientApplication({
        auth: { clientId, clientSecret, authority: `https://login.microsoftonline.com/${tenant}` },
        system: { networkClient: sandboxNetwork(w.sandbox.loginUrl) },
      });
    const scopes = () => [`${w.environment.origin}/.default`];
    const failure = async (client: ConfidentialClientApplication, scopeList = scopes()) => {
      const error = await client.acquireTokenByClientCredential({ scopes: scopeList, skipCache: true }).then(
        () => undefined,
        (e: unknown) => e as Record<string, unknown>,
      );
      expect(error).toBeDefined();
      return error!;
    };

    it('acquires a token Dataverse accepts, and serves the second call from its cache', async () => {
      const client = msal(w.app.clientId, w.secret.value);
      const first = await client.acquireTokenByClientCredential({ scopes: scopes() });
      expect(first).toMatchObject({ tokenType: 'Bearer', fromCache: false });
      expect(first!.expiresOn!.getTime()).toBeGreaterThan(Date.now() + 3000 * 1000);
      const whoami = await fetch(`${w.environment.origin}/api/data/v9.2/WhoAmI`, {
        headers: { authorization: `Bearer ${first!.accessToken}` },
      });
      expect(whoami.status).toBe(200);
      const received = w.sandbox.model.requests.length;
      const second = await client.acquireTokenByClientCredential({ scopes: scopes() });
      expect([second!.fromCache, w.sandbox.model.requests.length]).toEqual([true, received]);
    });

    const expired = () => {
      const app = w.sandbox.model.createApp(w.tenant.id);
      const secret = w.sandbox.model.addSecret(w.tenant.id, app.clientId, {
        expiresAt: new Date(Date.now() - 1000),
      });
      return msal(app.clientId, secret.value);
    };
    const disabled = () => {
      const app = w.sandbox.model.createApp(w.tenant.id, { disabled: true });
      const secret = w.sandbox.model.addSecret(w.tenant.id, app.clientId);
      return msal(app.clientId, secret.value);
    };

    const tenant = (id: string) => () => msal(w.app.clientId, w.secret.value, id);
    it.each([
      {
        label: 'a wrong secret',
        client: () => msal(w.app.clientId, 'wrong-secret'),
        errorCode: 'invalid_client',
        errorNo: 7000215,
        status: 401,
      },
      {
        label: 'the Secret ID instead of the value',
        client: () => msal(w.app.clientId, w.secret.id),
        errorCode: 'invalid_client',
        errorNo: 7000215,
        status: 401,
      },
      {
        label: 'an expired secret',
        client: expired,
        errorCode: 'invalid_client',
        errorNo: 7000222,
        status: 401,
      },
      {
        label: 'an app not in the tenant',
        client: () => msal(randomUUID(), 'x'),
        errorCode: 'unauthorized_client',
        errorNo: 700016,
        status: 400,
      },
      {
        label: 'a disabled app',
        client: disabled,
        errorCode: 'unauthorized_client',
        errorNo: 7000112,
        status: 400,
      },
      {
        label: 'an unknown tenant',
        client: tenant(randomUUID()),
        errorCode: 'invalid_request',
        errorNo: 90002,
        status: 400,
      },
      {
        label: 'an empty-GUID tenant',
        client: tenant('00000000-0000-0000-0000-000000000000'),
        errorCode: 'invalid_request',
        errorNo: 90002,
        status: 400,
      },
      {
        label: 'a tenant that is no valid name',
        client: tenant('not_a_tenant'),
        errorCode: 'invalid_request',
        errorNo: 900023,
        status: 400,
      },
    ])(
      '$label → ServerError $errorCode (AADSTS$errorNo, HTTP $status)',
      async ({ client, errorCode, errorNo, status }) => {
        const error = await failure(client());
        expect(error).toMatchObject({ name: 'ServerError', errorCode, errorNo, status });
        expect(String(error.errorMessage)).toContain(`AADSTS${errorNo}:`);
      },
    );

    it('a resource the tenant does not have → invalid_resource AADSTS500011; a scope without /.default → AADSTS1002012', async () => {
      const client = msal(w.app.clientId, w.secret.value);
      expect(await failure(client, ['https://nowhere.crm.dynamics.com/.default'])).toMatchObject({
        errorCode: 'invalid_resource',
        errorNo: 500011,
        status: 400,
      });
      expect(await failure(client, [`${w.environment.origin}/user_impersonation`])).toMatchObject({
        errorCode: 'invalid_scope',
        errorNo: 1002012,
      });
    });

    it('refuses the multi-tenant words itself, before any call', async () => {
      const before = w.sandbox.model.requests.length;
      const error = await failure(msal(w.app.clientId, w.secret.value, 'common'));
      expect(error.errorCode).toBe('missing_tenant_id_error');
      expect(w.sandbox.model.requests.length).toBe(before);
    });

    it('a throttled (429, Retry-After) or failing (503) token endpoint reaches MSAL as Microsoft sends it', async () => {
      w.sandbox.model.settings.throttleBody = 'json';
      w.sandbox.model.tokenFault = { status: 429, retryAfter: 7, count: 1 };
      const throttled = await failure(msal(w.app.clientId, w.secret.value));
      expect(throttled).toMatchObject({
        name: 'ServerError',
        status: 429,
        errorCode: 'temporarily_unavailable',
      });
      w.sandbox.model.settings.throttleBody = 'text';
      w.sandbox.model.tokenFault = { status: 503, count: 1 };
      expect(await failure(msal(w.app.clientId, w.secret.value))).toMatchObject({
        errorCode: 'temporarily_unavailable',
        status: 503,
      });
    });
  });

  describe('MSAL Node with a certificate (clientCertificate: PS256, x5t#S256)', () => {
    const certificateClient = (clientId: string, pair: { certificatePem: string; privateKeyPem: string }) =>
      new ConfidentialClientApplication({
        auth: {
          clientId,
          authority: `https://login.microsoftonline.com/${w.tenant.id}`,
          clientCertificate: {
            thumbprintSha256: createHash('sha256')
              .update(new X509Certificate(pair.certificatePem).raw)
              .digest('hex'),
            privateKey: pair.privateKeyPem,
          },
        },
        system: { networkClient: sandboxNetwork(w.sandbox.loginUrl) },
      });
    const scopes = () => [`${w.environment.origin}/.default`];
    const refusal = async (client: ConfidentialClientApplication) =>
      (await client.acquireTokenByClientCredential({ scopes: scopes(), skipCache: true }).then(
        () => undefined,
        (e: unknown) => e as Record<string, unknown>,
      ))!;

    it('gets a certificate token (appidacr 2) Dataverse accepts; its reused assertion is accepted and counted', async () => {
      const pair = await testCertificate();
      w.sandbox.model.addCertificate(w.tenant.id, w.app.clientId, { certificate: pair.certificatePem });
      const client = certificateClient(w.app.clientId, pair);
      const first = await client.acquireTokenByClientCredential({ scopes: scopes() });
      expect(decodeJwt(first!.accessToken)).toMatchObject({ appid: w.app.clientId, appidacr: '2' });
      const whoami = await fetch(`${w.environment.origin}/api/data/v9.2/WhoAmI`, {
        headers: { authorization: `Bearer ${first!.accessToken}` },
      });
      expect(whoami.status).toBe(200);
      // MSAL Node signs one assertion and sends it again for 10 minutes; Entra accepts that.
      const reuses = w.sandbox.model.assertionReuses;
      const again = await client.acquireTokenByClientCredential({ scopes: scopes(), skipCache: true });
      expect(again!.fromCache).toBe(false);
      expect(w.sandbox.model.assertionReuses).toBe(reuses + 1);
    });

    it('a certificate not uploaded → AADSTS700027; one past its validity → AADSTS7000274 (invalid_client, 401)', async () => {
      const app = w.sandbox.model.createApp(w.tenant.id);
      const pair = await testCertificate();
      expect(await refusal(certificateClient(app.clientId, pair))).toMatchObject({
        errorCode: 'invalid_client',
        errorNo: 700027,
        status: 401,
      });
      w.sandbox.model.addCertificate(w.tenant.id, app.clientId, {
        certificate: pair.certificatePem,
        endDate: new Date(Date.now() - 1000),
      });
      const expired = await refusal(certificateClient(app.clientId, pair));
      expect(expired).toMatchObject({ errorCode: 'invalid_client', errorNo: 7000274, status: 401 });
    });

    it('the key of another certificate under a registered thumbprint → AADSTS700027, an invalid signature', async () => {
      const app = w.sandbox.model.createApp(w.tenant.id);
      const registered = await testCertificate();
      const other = await testCertificate();
      w.sandbox.model.addCertificate(w.tenant.id, app.clientId, { certificate: registered.certificatePem });
      const error = await refusal(
        certificateClient(app.clientId, {
          certificatePem: registered.certificatePem,
          privateKeyPem: other.privateKeyPem,
        }),
      );
      expect(error).toMatchObject({ errorCode: 'invalid_client', errorNo: 700027 });
      expect(String(error.errorMessage)).toContain('Client assertion contains an invalid signature');
    });
  });

  describe('MSAL Node through a TLS front, with its own network client', () => {
    it('discovers the authority from documents built from the Host it was reached at, and gets a token', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sandbox-tls-'));
      try {
        execFileSync(
          'openssl',
          [
            ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'],
            ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
            ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
          ],
          { stdio: 'ignore' },
        );
        // Asynchronously: the sandbox answering the child lives in this process.
        const child = spawn(process.execPath, [new URL('./msal-tls-front.mjs', import.meta.url).pathname], {
          env: {
            PATH: process.env.PATH,
            NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem'),
            SANDBOX_LOGIN_URL: w.sandbox.loginUrl,
            TENANT: w.tenant.id,
            CLIENT_ID: w.app.clientId,
            CLIENT_SECRET: w.secret.value,
            SCOPE: `${w.environment.origin}/.default`,
            CERT_FILE: join(dir, 'cert.pem'),
            KEY_FILE: join(dir, 'key.pem'),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        let errors = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
        const code = await new Promise((resolve) => child.on('exit', resolve));
        expect([code, errors]).toEqual([0, '']);
        expect(JSON.parse(output)).toEqual({
          token: { ok: true, tokenType: 'Bearer' },
          wrongSecret: { name: 'ServerError', errorCode: 'invalid_client', errorNo: 7000215, status: 401 },
        });
        const discovery = w.sandbox.model.requests.filter((r) =>
          r.path.endsWith('/.well-known/openid-configuration'),
        );
        expect(discovery.length).toBeGreaterThan(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 30000);
  });

  describe('dynamics-web-api against Dataverse', () => {
    let api: DynamicsWebApi;
    let token: string;
    const expectDataverseError = async (promise: Promise<unknown>, status: number, code?: string) => {
      const error = (await promise.then(
        () => undefined,
        (e: unknown) => e,
      )) as Record<string, unknown> | undefined;
      expect(error).toMatchObject({ status, ...(code ? { code } : {}) });
      return error!;
    };

    beforeAll(async () => {
      token = await w.accessToken();
      api = new DynamicsWebApi({
        serverUrl: w.environment.origin,
        onTokenRefresh: async () => token,
        propagateErrors: true,
      });
    });

    it('creates, retrieves, updates, upserts and deletes', async () => {
      const id = await api.create<{ lastname: string }, string>({
        collection: 'contacts',
        data: { lastname: 'Hopper' },
      });
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const read = await api.retrieve({ collection: 'contacts', key: id, select: ['fullname', 'lastname'] });
      expect(read).toMatchObject({ contactid: id, lastname: 'Hopper', fullname: 'Hopper' });
      const updated = await api.update({
        collection: 'contacts',
        key: id,
        data: { firstname: 'Grace' },
        returnRepresentation: true,
        select: ['fullname'],
      });
      expect(updated).toMatchObject({ fullname: 'Grace Hopper' });
      const key = randomUUID();
      await api.upsert({ collection: 'contacts', key, data: { lastname: 'Lovelace' }, ifnonematch: '*' });
      await expectDataverseError(
        api.upsert({ collection: 'contacts', key, data: { lastname: 'Again' }, ifnonematch: '*' }),
        412,
        '0x80040237',
      );
      await api.deleteRecord({ collection: 'contacts', key });
      await expectDataverseError(api.retrieve({ collection: 'contacts', key }), 404, '0x80040217');
    });

    it('pages through everything with retrieveAll, counts with the $count segment, orders', async () => {
      const tag = `page-${randomUUID().slice(0, 6)}`;
      for (let i = 0; i < 7; i++) {
        await api.create({
          collection: 'contacts',
          data: { lastname: `${tag}-${i}`, firstname: String(7 - i) },
        });
      }
      const all = await api.retrieveAll<{ lastname: string }>({
        collection: 'contacts',
        select: ['lastname'],
        filter: `startswith(lastname,'${tag}')`,
        maxPageSize: 3,
      });
      expect(all.value.map((c) => c.lastname).sort()).toEqual(
        Array.from({ length: 7 }, (_, i) => `${tag}-${i}`),
      );
      expect(await api.count({ collection: 'contacts', filter: `startswith(lastname,'${tag}')` })).toBe(7);
      const ordered = await api.retrieveMultiple<{ firstname: string }>({
        collection: 'contacts',
        select: ['firstname'],
        filter: `startswith(lastname,'${tag}')`,
        orderBy: ['firstname desc'],
      });
      expect(ordered.value.map((c) => c.firstname)).toEqual(['7', '6', '5', '4', '3', '2', '1']);
    });

    it('turns a GET longer than 2,000 characters into a $batch by itself, and reads the answer', async () => {
      const tag = `batch-${randomUUID().slice(0, 6)}`;
      await api.create({ collection: 'contacts', data: { lastname: tag } });
      const decoys = Array.from({ length: 60 }, () => `lastname eq '${randomUUID()}'`).join(' or ');
      const result = await api.retrieveMultiple<{ lastname: string }>({
        collection: 'contacts',
        select: ['lastname'],
        filter: `${decoys} or lastname eq '${tag}'`,
      });
      expect(result.value.map((c) => c.lastname)).toEqual([tag]);
      const batches = w.sandbox.model.requests.filter((r) => r.path.endsWith('/$batch'));
      expect(batches.length).toBeGreaterThan(0);
      expect(w.sandbox.model.requests.some((r) => r.inBatch && r.method === 'GET')).toBe(true);
    });

    it('calls AddToQueue as a bound action', async () => {
      const queueId = randomUUID();
      w.sandbox.model
        .environment('contoso')
        .records.queues.set(queueId, { id: queueId, version: 1, attributes: { name: 'Support' } });
      const contactId = await api.create<object, string>({
        collection: 'contacts',
        data: { lastname: 'Queue' },
      });
      const caseId = await api.create<object, string>({
        collection: 'incidents',
        data: { title: 'Queued', 'customerid_contact@odata.bind': `contacts(${contactId})` },
      });
      const result = await api.callAction<{ QueueItemId: string }>({
        collection: 'queues',
        key: queueId,
        actionName: 'Microsoft.Dynamics.CRM.AddToQueue',
        action: { Target: { incidentid: caseId, '@odata.type': 'Microsoft.Dynamics.CRM.incident' } },
      });
      expect(result.QueueItemId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it("calls WhoAmI and RetrieveUserSetOfPrivilegesByNames as functions, with Microsoft's documented answer", async () => {
      const me = await api.callFunction<{ UserId: string; BusinessUnitId: string }>({ name: 'WhoAmI' });
      expect(me.UserId).toMatch(/^[0-9a-f-]{36}$/);
      const user = w.sandbox.model.addApplicationUser('contoso', {
        clientId: randomUUID(),
        privileges: ['prvReadIncident', 'prvReadContact'],
        depths: { prvReadContact: 'Basic' },
      });
      // RetrieveUserSetOfPrivilegesByNamesResponse: RolePrivileges, each a RolePrivilege
      // {Depth (PrivilegeDepth), PrivilegeId, BusinessUnitId, PrivilegeName}; names not held are absent.
      const held = await api.callFunction<{ RolePrivileges: Record<string, unknown>[] }>({
        collection: 'systemusers',
        key: user.systemUserId,
        name: 'Microsoft.Dynamics.CRM.RetrieveUserSetOfPrivilegesByNames',
        parameters: { PrivilegeNames: ['prvReadIncident', 'prvReadContact', 'prvCreateIncident'] },
      });
      expect(held.RolePrivileges).toEqual([
        {
          Depth: 'Global',
          PrivilegeId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          BusinessUnitId: me.BusinessUnitId,
          PrivilegeName: 'prvReadIncident',
        },
        expect.objectContaining({ Depth: 'Basic', PrivilegeName: 'prvReadContact' }),
      ]);
      // A System Administrator holds every privilege, at organization depth.
      const mine = await api.callFunction<{ RolePrivileges: { PrivilegeName: string; Depth: string }[] }>({
        collection: 'systemusers',
        key: me.UserId,
        name: 'Microsoft.Dynamics.CRM.RetrieveUserSetOfPrivilegesByNames',
        parameters: { PrivilegeNames: ['prvCreateIncident', 'prvAssignIncident'] },
      });
      expect(mine.RolePrivileges.map((p) => [p.PrivilegeName, p.Depth])).toEqual([
        ['prvCreateIncident', 'Global'],
        ['prvAssignIncident', 'Global'],
      ]);
    });

    it('reads FormattedValue and lookup annotations', async () => {
      const contactId = await api.create<object, string>({
        collection: 'contacts',
        data: { firstname: 'Ann', lastname: 'Otated' },
      });
      const caseId = await api.create<object, string>({
        collection: 'incidents',
        data: {
          title: 'Annotated',
          prioritycode: 3,
          'customerid_contact@odata.bind': `contacts(${contactId})`,
        },
      });
      const read = await api.retrieve({
        collection: 'incidents',
        key: caseId,
        select: ['prioritycode', '_customerid_value'],
        includeAnnotations: '*',
      });
      expect(read).toMatchObject({
        prioritycode_Formatted: 'Low',
        _customerid_value_Formatted: 'Ann Otated',
        _customerid_value_LogicalName: 'contact',
        _customerid_value_NavigationProperty: 'customerid_contact',
      });
    });

    it('reports each documented error with status and code', async () => {
      const bad = new DynamicsWebApi({
        serverUrl: w.environment.origin,
        onTokenRefresh: async () => 'not-a-token',
      });
      const unauthorized = await expectDataverseError(
        bad.retrieveMultiple({ collection: 'incidents', top: 1 }),
        401,
      );
      expect(unauthorized.message).toBe('Unexpected Error');

      const stranger = w.sandbox.model.createApp(w.tenant.id);
      const strangerSecret = w.sandbox.model.addSecret(w.tenant.id, stranger.clientId);
      const strangerToken = (
        (await (
          await w.requestToken({ client_id: stranger.clientId, client_secret: strangerSecret.value })
        ).json()) as { access_token: string }
      ).access_token;
      const noUser = new DynamicsWebApi({
        serverUrl: w.environment.origin,
        onTokenRefresh: async () => strangerToken,
      });
      await expectDataverseError(
        noUser.retrieveMultiple({ collection: 'incidents', top: 1 }),
        403,
        '0x80072560',
      );

      w.sandbox.model.addApplicationUser('contoso', { clientId: stranger.clientId, privileges: [] });
      const denied = await expectDataverseError(
        noUser.retrieveMultiple({ collection: 'incidents', top: 1 }),
        403,
        '0x80040220',
      );
      expect(String(denied.message)).toContain('prvReadIncident');

      await expectDataverseError(
        api.retrieve({ collection: 'incidents', key: randomUUID() }),
        404,
        '0x80040217',
      );
      await expectDataverseError(
        api.create({ collection: 'contacts', data: { lastname: 'x'.repeat(51) } }),
        400,
        '0x80044331',
      );

      w.sandbox.model.environment('contoso').fault = { status: 429, retryAfter: 3, count: 1 };
      const throttled = await expectDataverseError(
        api.retrieveMultiple({ collection: 'incidents', top: 1 }),
        429,
        '0x80072322',
      );
      expect((throttled.headers as Record<string, string>)['retry-after']).toBe('3');
    });
  });
});
