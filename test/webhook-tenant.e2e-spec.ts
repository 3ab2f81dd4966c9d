// The messaging webhook of an org whose tenant is named by a domain: its GUID comes from the
// tenant's OpenID configuration — looked up once for concurrent calls, cached (failures too), and
// never for a caller whose token is not even a JWT.
import { generateKeyPair, SignJWT } from 'jose';
import { startTestApp, TestApp } from './support/app.js';
import { withClient } from './support/database.js';
import { connectMessaging, handoffBody, submit, waitForState } from './support/handoff.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

describe('Messaging webhook of a tenant named by its domain', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let conversation: string;

  const discoveries = () =>
    ms.sandbox.model.requests.filter(
      (r) => r.server === 'login' && r.path.endsWith('/.well-known/openid-configuration'),
    ).length;
  const call = (org: string, token: string) =>
    fetch(`${t.baseUrl}/webhooks/dynamics365/messaging/${org}/v3/conversations/${conversation}/activities`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ type: 'message', text: 'hi', conversation: { id: conversation } }),
    });
  /** A well-formed token no one will accept (a key of nobody's). */
  async function strangerToken(): Promise<string> {
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ tid: ms.tenant.id, azp: ms.app.clientId })
      .setProtectedHeader({ alg: 'RS256', kid: 'stranger' })
      .setIssuer(`https://login.microsoftonline.com/${ms.tenant.id}/v2.0`)
      .setAudience(ms.app.clientId)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
  }

  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({
      env: {
        ...ms.env,
        DYNAMICS_ALLOWED_ORIGINS: `${ms.environment.origin},${ms.environment.messaging!.origin}`,
      },
    });
    await connectMessaging(t, ms, 'domain', null, { tenant_id: 'contoso.onmicrosoft.com' });
    const token = await t.token({ org: 'domain', roles: ['handoff'] });
    await submit(t, token, handoffBody('domain-1', { channel: 'web' }));
    conversation = (await waitForState(t, token, 'domain-1', ['delivered'])).dynamics
      .conversation_id as string;
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it('refuses a token that is not a JWT without looking the tenant up', async () => {
    const before = discoveries();
    for (const token of ['hello', 'a.b.c', '']) expect((await call('domain', token)).status).toBe(401);
    expect(discoveries()).toBe(before);
  });

  /** An org connected, then its tenant renamed to a domain nobody knows. */
  async function orgOfUnknownTenant(org: string, domain: string): Promise<void> {
    await connectMessaging(t, ms, org, null, { tenant_id: 'contoso.onmicrosoft.com' });
    await withClient(t.databaseUrl, (client) =>
      client.query('UPDATE dynamics365_integration_settings SET tenant_id = $2 WHERE org_id = $1', [
        org,
        domain,
      ]),
    );
  }

  it('looks a tenant up once for concurrent calls', async () => {
    await orgOfUnknownTenant('crowd', 'crowd.onmicrosoft.com');
    const before = discoveries();
    const token = await strangerToken();
    const answers = await Promise.all(Array.from({ length: 6 }, () => call('crowd', token)));
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(discoveries() - before).toBe(1);
  });

  it('caches a tenant that cannot be resolved: one lookup, then 401 at once', async () => {
    await connectMessaging(t, ms, 'lost', null, { tenant_id: 'contoso.onmicrosoft.com' });
    await withClient(t.databaseUrl, (client) =>
      client.query(
        "UPDATE dynamics365_integration_settings SET tenant_id = 'gone.onmicrosoft.com' WHERE org_id = 'lost'",
      ),
    );
    const before = discoveries();
    const token = await strangerToken();
    expect((await call('lost', token)).status).toBe(401);
    expect((await call('lost', token)).status).toBe(401);
    expect(discoveries() - before).toBe(1);
  });
});
