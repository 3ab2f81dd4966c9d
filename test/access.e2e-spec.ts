import { createServer, Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startTestApp, TestApp } from './support/app.js';
import { withClient } from './support/database.js';
import { ProbeModule } from './support/probe.module.js';

async function expectError(
  response: Response,
  status: number,
  code: string,
): Promise<Record<string, unknown>> {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: Record<string, unknown> };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.request_id).toBe('string');
  return body.error;
}

describe('API bearer tokens (HS256)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ extraModules: [ProbeModule] });
  });
  afterAll(() => t.close());

  it('accepts a valid token and exposes the principal', async () => {
    const response = await t.request('/api/v1/me', { token: await t.token({ name: 'Alice' }) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ sub: 'alice', org_id: 'acme', roles: ['admin'], name: 'Alice' });
  });

  it('401 without a token, with a challenge header', async () => {
    const response = await t.request('/api/v1/me');
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    await expectError(response, 401, 'unauthorized');
  });

  it('401 for a non-bearer Authorization header', async () => {
    await expectError(
      await t.request('/api/v1/me', { headers: { authorization: 'Basic YTpi' } }),
      401,
      'unauthorized',
    );
  });

  it('401 for a bad signature', async () => {
    const forged = await new SignJWT({ org_id: 'acme', roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('another-secret-that-is-32-chars-long!!'));
    await expectError(await t.request('/api/v1/me', { token: forged }), 401, 'unauthorized');
  });

  it('401 for an unsigned (alg none) token', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'm', org_id: 'acme', roles: ['admin'] })).toString(
      'base64url',
    );
    await expectError(await t.request('/api/v1/me', { token: `${header}.${payload}.` }), 401, 'unauthorized');
  });

  it('401 for an expired token, saying so', async () => {
    const expired = await new SignJWT({ org_id: 'acme', roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign((t.config.auth as { secret: Uint8Array }).secret);
    const error = await expectError(await t.request('/api/v1/me', { token: expired }), 401, 'unauthorized');
    expect(error.message).toMatch(/expired/);
  });

  it('401 when org_id is missing or malformed', async () => {
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('alice')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign((t.config.auth as { secret: Uint8Array }).secret);
    for (const claims of [
      { roles: ['admin'] },
      { org_id: '', roles: [] },
      { org_id: 'a b/../c' },
      { org_id: 42 },
    ]) {
      const error = await expectError(
        await t.request('/api/v1/me', { token: await sign(claims) }),
        401,
        'unauthorized',
      );
      expect(error.message).toMatch(/org_id/);
    }
  });

  it('401 when roles is not an array of strings', async () => {
    const token = await new SignJWT({ org_id: 'acme', roles: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign((t.config.auth as { secret: Uint8Array }).secret);
    await expectError(await t.request('/api/v1/me', { token }), 401, 'unauthorized');
  });

  it('401 for a token without exp or iat, or living longer than AUTH_MAX_TOKEN_AGE', async () => {
    const secret = (t.config.auth as { secret: Uint8Array }).secret;
    const now = Math.floor(Date.now() / 1000);
    const sign = (times: { iat?: number; exp?: number }) => {
      let jwt = new SignJWT({ org_id: 'acme', roles: ['admin'] })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('a');
      if (times.iat !== undefined) jwt = jwt.setIssuedAt(times.iat);
      if (times.exp !== undefined) jwt = jwt.setExpirationTime(times.exp);
      return jwt.sign(secret);
    };
    const cases: [string, { iat?: number; exp?: number }, RegExp][] = [
      ['no exp', { iat: now }, /"exp" claim/],
      ['no iat', { exp: now + 60 }, /"iat" claim/],
      ['exp 1e300', { iat: now, exp: 1e300 }, /lives longer than the 86400 s/],
      ['a 25-hour lifetime', { iat: now, exp: now + 25 * 3600 }, /lives longer than the 86400 s/],
      [
        'issued 25 hours ago, still valid',
        { iat: now - 25 * 3600, exp: now + 60 },
        /"iat" claim|expired|lives longer/,
      ],
    ];
    for (const [label, times, message] of cases) {
      const response = await t.request('/api/v1/me', { token: await sign(times) });
      const error = await expectError(response, 401, 'unauthorized');
      expect([label, message.test(String(error.message))]).toEqual([label, true]);
    }
    expect(
      (await t.request('/api/v1/me', { token: await sign({ iat: now, exp: now + 23 * 3600 }) })).status,
    ).toBe(200);
  });

  it('401 for a sub the audit log cannot keep; a long name is cut', async () => {
    const secret = (t.config.auth as { secret: Uint8Array }).secret;
    const sign = (sub: string, name?: string) =>
      new SignJWT({ org_id: 'acme', roles: ['admin'], ...(name === undefined ? {} : { name }) })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(secret);
    for (const token of [
      await sign('x'.repeat(257)),
      await sign('a\u0000b'),
      await sign('ok', 'bad\u0000name'),
    ]) {
      await expectError(await t.request('/api/v1/me', { token }), 401, 'unauthorized');
    }
    const me = await t.request('/api/v1/me', { token: await sign('x'.repeat(256), 'n'.repeat(9000)) });
    expect(me.status).toBe(200);
    const body = (await me.json()) as { sub: string; name: string };
    expect([body.sub.length, body.name.length]).toEqual([256, 256]);
  });

  it('403 for a valid token without the required role', async () => {
    const member = await t.token({ roles: ['member'] });
    const error = await expectError(
      await t.request('/api/v1/_probe/admin', { token: member }),
      403,
      'forbidden',
    );
    expect(error.message).toMatch(/admin/);
    const admin = await t.token({ roles: ['admin'] });
    expect((await t.request('/api/v1/_probe/admin', { token: admin })).status).toBe(200);
  });

  it('checks authentication before validating the body', async () => {
    const response = await t.request('/api/v1/_probe/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ unknown: true }),
    });
    await expectError(response, 401, 'unauthorized');
  });

  it('signs the console in with a one-time code for a token, so the token is never in a URL', async () => {
    const token = await t.token({ org: 'acme', roles: ['admin'] });
    const issued = await t.request('/api/v1/console/sign-in-codes', { method: 'POST', token });
    expect(issued.status).toBe(201);
    const { code, expires_at } = (await issued.json()) as { code: string; expires_at: string };
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(expires_at) - Date.now()).toBeLessThanOrEqual(60_000);
    const redeem = (body: unknown) =>
      t.request('/api/v1/console/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const first = await redeem({ code });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ token });
    // Once only; an unknown code alike; a malformed one is a 400; no code without a token.
    expect((await redeem({ code })).status).toBe(401);
    expect((await redeem({ code: 'A'.repeat(43) })).status).toBe(401);
    expect((await redeem({ code: 'short' })).status).toBe(400);
    expect((await t.request('/api/v1/console/sign-in-codes', { method: 'POST' })).status).toBe(401);
    // The token is stored encrypted while it waits, never in plain text.
    const pending = (await (
      await t.request('/api/v1/console/sign-in-codes', { method: 'POST', token })
    ).json()) as {
      code: string;
    };
    const stored = await withClient(t.databaseUrl, async (c) =>
      (await c.query('SELECT code_hash, token_ciphertext FROM console_sign_in_codes')).rows.map((r) =>
        JSON.stringify(r),
      ),
    );
    expect(stored.join()).not.toContain(token);
    expect(stored.join()).not.toContain(pending.code);
  });

  it('serves /docs with a Content-Security-Policy that runs only its own scripts', async () => {
    for (const path of ['/docs', '/docs/swagger-ui-init.js', '/docs/openapi.json']) {
      const response = await t.request(path);
      expect(response.status).toBe(200);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    }
    const page = await (await t.request('/docs')).text();
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });

  it('leaves health, metrics and docs public', async () => {
    for (const path of ['/health/live', '/health/ready', '/metrics', '/docs', '/docs/openapi.json']) {
      expect([path, (await t.request(path)).status]).toEqual([path, 200]);
    }
  });
});

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

describe('API bearer tokens (JWKS)', () => {
  let t: TestApp;
  let jwks: Server;
  let privateKey: PrivateKey;
  let otherKey: PrivateKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const address = jwks.address() as { port: number };
    t = await startTestApp({
      env: {
        AUTH_JWT_SECRET: undefined,
        AUTH_JWKS_URL: `http://127.0.0.1:${address.port}/jwks.json`,
        AUTH_ISSUER: 'https://idp.test/',
        AUTH_AUDIENCE: 'd365-connector',
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => jwks.close(resolve));
  });

  const sign = (key: PrivateKey, claims: { iss?: string; aud?: string } = {}) =>
    new SignJWT({ org_id: 'contoso', roles: ['admin'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('bob')
      .setIssuer(claims.iss ?? 'https://idp.test/')
      .setAudience(claims.aud ?? 'd365-connector')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);

  it('accepts a token signed by a key of the JWKS with the right issuer and audience', async () => {
    const response = await t.request('/api/v1/me', { token: await sign(privateKey) });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: 'bob', org_id: 'contoso' });
  });

  it('rejects another key, another issuer and another audience', async () => {
    for (const token of [
      await sign(otherKey),
      await sign(privateKey, { iss: 'https://evil.test/' }),
      await sign(privateKey, { aud: 'someone-else' }),
    ]) {
      await expectError(await t.request('/api/v1/me', { token }), 401, 'unauthorized');
    }
  });

  it('rejects HS256 tokens when JWKS is configured', async () => {
    const token = await new SignJWT({ org_id: 'contoso' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bob')
      .setIssuer('https://idp.test/')
      .setAudience('d365-connector')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    await expectError(await t.request('/api/v1/me', { token }), 401, 'unauthorized');
  });
});
