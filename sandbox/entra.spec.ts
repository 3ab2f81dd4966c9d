import { createPrivateKey, randomUUID } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { startWorld, testCertificate, World } from './testing.js';

interface EntraError {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function expectEntraError(
  response: Response,
  status: number,
  error: string,
  code: number,
  messageStart: string,
) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
  const body = (await response.json()) as EntraError;
  expect(body.error).toBe(error);
  expect(body.error_codes).toEqual([code]);
  expect(body.error_description.startsWith(`AADSTS${code}: ${messageStart}`)).toBe(true);
  expect(body.error_description).toMatch(
    /\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/,
  );
  expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  expect(body.trace_id).toMatch(GUID);
  expect(response.headers.get('x-ms-request-id')).toBe(body.trace_id);
  expect(body.error_description).toContain(`Trace ID: ${body.trace_id}`);
  expect(body.error_uri).toMatch(new RegExp(`/error\\?code=${code}$`));
  return body;
}

describe('Entra ID token endpoint', () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(() => w.sandbox.close());
  afterEach(() => {
    w.sandbox.model.tokenFault = undefined;
    w.sandbox.model.settings = {
      ...w.sandbox.model.settings,
      unknownResource: 'invalid_resource',
      throttleBody: 'text',
    };
  });

  it('issues a v1-style RS256 access token verifiable with the published keys', async () => {
    const response = await w.requestToken({});
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store, no-cache');
    expect(response.headers.get('pragma')).toBe('no-cache');
    expect(response.headers.get('x-ms-request-id')).toMatch(GUID);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'ext_expires_in', 'token_type']);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599 });

    const token = body.access_token as string;
    expect(decodeProtectedHeader(token)).toMatchObject({ typ: 'JWT', alg: 'RS256' });
    const jwks = createRemoteJWKSet(new URL(`${w.sandbox.loginUrl}/common/discovery/v2.0/keys`));
    const { payload } = await jwtVerify(token, jwks, {
      issuer: `https://sts.windows.net/${w.tenant.id}/`,
      audience: w.environment.origin,
    });
    expect(payload).toMatchObject({
      tid: w.tenant.id,
      appid: w.app.clientId,
      appidacr: '1',
      oid: w.app.objectId,
      sub: w.app.objectId,
      ver: '1.0',
      idp: `https://sts.windows.net/${w.tenant.id}/`,
    });
    expect(payload.exp! - payload.iat!).toBe(3599);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.roles).toBeUndefined();
  });

  it('has a configurable token lifetime', async () => {
    w.sandbox.model.settings.tokenLifetimeSeconds = 4500;
    try {
      const body = (await (await w.requestToken({})).json()) as { expires_in: number };
      expect(body.expires_in).toBe(4500);
    } finally {
      w.sandbox.model.settings.tokenLifetimeSeconds = 3599;
    }
  });

  it('accepts the tenant by verified domain and the scope with a trailing slash before /.default', async () => {
    expect((await w.requestToken({}, 'contoso.onmicrosoft.com')).status).toBe(200);
    expect((await w.requestToken({ scope: `${w.environment.origin}//.default` })).status).toBe(200);
  });

  it('ignores unknown form fields (MSAL telemetry) and echoes client-request-id as the correlation id', async () => {
    const correlation = '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
    const ok = await w.requestToken({
      'x-client-SKU': 'msal.js.node',
      'x-client-VER': '7.2.1',
      'client-request-id': correlation,
    });
    expect(ok.status).toBe(200);
    const failed = await w.requestToken({ client_secret: 'wrong', 'client-request-id': correlation });
    expect(((await failed.json()) as EntraError).correlation_id).toBe(correlation);
  });

  it.each([
    [
      'unknown tenant',
      { tenant: '0d7e1f5a-1111-4222-8333-944455556666' },
      400,
      'invalid_request',
      90002,
      "Tenant '0d7e1f5a-1111-4222-8333-944455556666' not found. Check to make sure you have the correct tenant ID",
    ],
    [
      'unknown tenant domain',
      { tenant: 'fabrikam.onmicrosoft.com' },
      400,
      'invalid_request',
      90002,
      "Tenant 'fabrikam.onmicrosoft.com' not found.",
    ],
    [
      'empty GUID tenant',
      { tenant: '00000000-0000-0000-0000-000000000000' },
      400,
      'invalid_request',
      90002,
      "Requested tenant identifier '00000000-0000-0000-0000-000000000000' is not valid. Tenant identifiers may not be an empty GUID.",
    ],
    [
      'malformed tenant',
      { tenant: '{{tenantid}}' },
      400,
      'invalid_request',
      900023,
      "Specified tenant identifier '{{tenantid}}' is neither a valid DNS name, nor a valid external domain.",
    ],
    [
      'reserved tenant',
      { tenant: 'organizations' },
      400,
      'invalid_request',
      50059,
      'No tenant-identifying information found',
    ],
    [
      'missing grant_type',
      { fields: { grant_type: undefined } },
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'grant_type'.",
    ],
    [
      'missing client_id',
      { fields: { client_id: undefined } },
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'client_id'.",
    ],
    [
      'missing scope',
      { fields: { scope: undefined } },
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'scope'.",
    ],
    [
      'missing secret',
      { fields: { client_secret: undefined } },
      401,
      'invalid_client',
      7000216,
      "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
    ],
    [
      'unknown client',
      { fields: { client_id: '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a' } },
      400,
      'unauthorized_client',
      700016,
      "Application with identifier '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a' was not found in the directory 'Contoso'.",
    ],
    [
      'wrong secret',
      { fields: { client_secret: 'not-the-secret' } },
      401,
      'invalid_client',
      7000215,
      'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID',
    ],
    [
      'scope without /.default',
      { fields: { scope: 'SCOPE/user_impersonation' } },
      400,
      'invalid_scope',
      1002012,
      'The provided value for scope',
    ],
    [
      'unknown resource',
      { fields: { scope: 'https://nowhere.crm.dynamics.com/.default' } },
      400,
      'invalid_resource',
      500011,
      'The resource principal named https://nowhere.crm.dynamics.com was not found in the tenant named Contoso.',
    ],
  ])('%s', async (_, input, status, error, code, message) => {
    const { tenant, fields } = input as { tenant?: string; fields?: Record<string, string | undefined> };
    const resolved = Object.fromEntries(
      Object.entries(fields ?? {}).map(([k, v]) => [k, v?.replace('SCOPE', w.environment.origin)]),
    );
    await expectEntraError(await w.requestToken(resolved, tenant), status, error, code, message);
  });

  it('tells a pasted Secret ID from the value only by the same 7000215 (as Entra does)', async () => {
    await expectEntraError(
      await w.requestToken({ client_secret: w.secret.id }),
      401,
      'invalid_client',
      7000215,
      'Invalid client secret provided.',
    );
  });

  it('7000222 for an expired secret, 7000215 for a revoked one', async () => {
    const expired = w.sandbox.model.addSecret(w.tenant.id, w.app.clientId, {
      expiresAt: new Date(Date.now() - 1000),
    });
    await expectEntraError(
      await w.requestToken({ client_secret: expired.value }),
      401,
      'invalid_client',
      7000222,
      `The provided client secret keys for app '${w.app.clientId}' are expired.`,
    );
    const revoked = w.sandbox.model.addSecret(w.tenant.id, w.app.clientId);
    expect((await w.requestToken({ client_secret: revoked.value })).status).toBe(200);
    w.sandbox.model.revokeSecret(w.tenant.id, w.app.clientId, revoked.id);
    await expectEntraError(
      await w.requestToken({ client_secret: revoked.value }),
      401,
      'invalid_client',
      7000215,
      'Invalid client secret provided.',
    );
  });

  it('7000112 for a disabled application', async () => {
    const disabled = w.sandbox.model.createApp(w.tenant.id, { name: 'Old App', disabled: true });
    const secret = w.sandbox.model.addSecret(w.tenant.id, disabled.clientId);
    await expectEntraError(
      await w.requestToken({ client_id: disabled.clientId, client_secret: secret.value }),
      400,
      'unauthorized_client',
      7000112,
      `Application '${disabled.clientId}'(Old App) is disabled.`,
    );
  });

  it('700016 when the app exists only in another tenant', async () => {
    const other = w.sandbox.model.createTenant({ name: 'Fabrikam' });
    await expectEntraError(
      await w.requestToken({}, other.id),
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${w.app.clientId}' was not found in the directory 'Fabrikam'.`,
    );
  });

  it('can be set to issue tokens for unknown resources (unconfirmed behaviour)', async () => {
    w.sandbox.model.settings.unknownResource = 'issue_token';
    expect((await w.requestToken({ scope: 'https://nowhere.crm.dynamics.com/.default' })).status).toBe(200);
  });

  it('throttles with 429 + Retry-After and a plain-text body (observed), or JSON when configured', async () => {
    w.sandbox.model.tokenFault = { status: 429, retryAfter: 7, count: 1 };
    const throttled = await w.requestToken({});
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(await throttled.text()).toBe('Too Many Requests');
    expect((await w.requestToken({})).status).toBe(200); // count: 1 → cleared

    w.sandbox.model.settings.throttleBody = 'json';
    w.sandbox.model.tokenFault = { status: 429, retryAfter: 3, count: 1 };
    const json = await w.requestToken({});
    expect(json.status).toBe(429);
    expect(((await json.json()) as EntraError).error).toBe('temporarily_unavailable');
  });

  it('answers 503 temporarily_unavailable when the service is down', async () => {
    w.sandbox.model.tokenFault = { status: 503, retryAfter: 2, count: 1 };
    const response = await w.requestToken({});
    expect(response.headers.get('retry-after')).toBe('2');
    await expectEntraError(
      response,
      503,
      'temporarily_unavailable',
      50033,
      'A transient error has occurred.',
    );
  });

  it('adds latency, hangs and resets connections on demand', async () => {
    w.sandbox.model.tokenFault = { latencyMs: 150, count: 1 };
    const started = Date.now();
    expect((await w.requestToken({})).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    w.sandbox.model.tokenFault = { reset: true, count: 1 };
    await expect(w.requestToken({})).rejects.toThrow();

    w.sandbox.model.tokenFault = { hang: true, count: 1 };
    await expect(
      fetch(w.tokenUrl(), {
        method: 'POST',
        body: 'grant_type=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toThrow(/timeout|aborted/i);
  });

  it('logs every token request with its form fields and outcome', async () => {
    const before = w.sandbox.model.requests.length;
    await w.requestToken({ client_secret: 'logged-secret' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const entry = w.sandbox.model.requests.slice(before).find((r) => r.server === 'login');
    expect(entry).toMatchObject({
      method: 'POST',
      path: `/${w.tenant.id}/oauth2/v2.0/token`,
      status: 401,
      tenant: w.tenant.id,
      clientId: w.app.clientId,
      form: {
        grant_type: 'client_credentials',
        client_secret: 'logged-secret',
        scope: `${w.environment.origin}/.default`,
      },
    });
  });

  describe('certificate client assertions', () => {
    const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
    let pair: { certificatePem: string; privateKeyPem: string };
    let sha256: string;
    let sha1: string;
    beforeAll(async () => {
      pair = await testCertificate();
      const uploaded = w.sandbox.model.addCertificate(w.tenant.id, w.app.clientId, {
        certificate: pair.certificatePem,
      });
      sha256 = uploaded.thumbprintSha256;
      sha1 = Buffer.from(uploaded.thumbprint, 'hex').toString('base64url');
    });
    const assertion = async (
      options: {
        alg?: string;
        header?: Record<string, unknown>;
        claims?: Record<string, unknown>;
        key?: string;
      } = {},
    ) => {
      const now = Math.floor(Date.now() / 1000);
      const alg = options.alg ?? 'PS256';
      return new SignJWT({
        aud: w.tokenUrl(),
        iss: w.app.clientId,
        sub: w.app.clientId,
        jti: randomUUID(),
        nbf: now,
        exp: now + 300,
        ...options.claims,
      })
        .setProtectedHeader({ alg, typ: 'JWT', 'x5t#S256': sha256, ...options.header })
        .sign(createPrivateKey(options.key ?? pair.privateKeyPem));
    };
    const send = async (jwt: string, extra: Record<string, string | undefined> = {}) =>
      w.requestToken({
        client_secret: undefined,
        client_assertion_type: JWT_BEARER,
        client_assertion: jwt,
        ...extra,
      });

    it('accepts PS256 with x5t#S256 and RS256 with the SHA-1 x5t (MSAL’s older form)', async () => {
      expect((await send(await assertion())).status).toBe(200);
      const sha1Form = await assertion({ alg: 'RS256', header: { 'x5t#S256': undefined, x5t: sha1 } });
      expect((await send(sha1Form)).status).toBe(200);
    });

    it('answers each broken assertion with Microsoft’s code', async () => {
      const now = Math.floor(Date.now() / 1000);
      await expectEntraError(
        await send(await assertion({ claims: { aud: 'https://elsewhere/token' } })),
        401,
        'invalid_client',
        700023,
        'Client assertion audience claim does not match',
      );
      await expectEntraError(
        await send(await assertion({ claims: { iss: randomUUID() } })),
        401,
        'invalid_client',
        700021,
        "Client assertion application identifier doesn't match 'client_id'",
      );
      await expectEntraError(
        await send(await assertion({ claims: { nbf: now - 3600, exp: now - 1800 } })),
        401,
        'invalid_client',
        700024,
        'Client assertion is not within its valid time range. Current time: ',
      );
      await expectEntraError(
        await send(await assertion({ header: { 'x5t#S256': undefined } })),
        401,
        'invalid_client',
        5002723,
        'Invalid JWT token. No certificate SHA-1 thumbprint',
      );
      const hs256 = await new SignJWT({ aud: w.tokenUrl() })
        .setProtectedHeader({ alg: 'HS256', 'x5t#S256': sha256 })
        .sign(new Uint8Array(32));
      await expectEntraError(
        await send(hs256),
        401,
        'invalid_client',
        5002738,
        "Invalid JWT token. 'HS256' is not a supported signature algorithm.",
      );
      await expectEntraError(
        await send(await assertion({ claims: { aud: undefined } })),
        400,
        'invalid_request',
        90014,
        "The required field 'aud' is missing",
      );
      await expectEntraError(
        await send('not-a-jwt'),
        401,
        'invalid_client',
        50027,
        'JWT token is invalid or malformed.',
      );
      await expectEntraError(
        await send(await assertion(), { client_assertion_type: 'jwt' }),
        400,
        'invalid_request',
        9002313,
        'Invalid request.',
      );
      await expectEntraError(
        await send(await assertion(), { client_secret: w.secret.value }),
        400,
        'invalid_request',
        9002313,
        'Invalid request.',
      );
    });
  });
});
