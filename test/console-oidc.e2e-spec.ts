import type { Browser } from 'playwright-core';
import { startSandbox, Sandbox } from '../sandbox/server.js';
import { PLATFORM_AUDIENCE } from '../sandbox/platform-idp.js';
import { startTestApp, TestApp } from './support/app.js';
import { buildConsole, collectErrors, everythingOnPage, launch, unnamedControls } from './support/browser.js';

/**
 * Production sign-in: the service verifies tokens from the platform's identity provider
 * (AUTH_JWKS_URL, AUTH_ISSUER) and the console signs admins in there with OpenID Connect
 * (CONSOLE_OIDC_CLIENT_ID) — the sandbox's minimal OpenID provider, in Chromium.
 */
describe('Console sign-in with OpenID Connect (authorization code + PKCE)', () => {
  let sandbox: Sandbox;
  let t: TestApp;
  let browser: Browser;
  let issuer: string;
  const clientId = 'dynamics365-console';

  beforeAll(async () => {
    buildConsole();
    sandbox = await startSandbox();
    issuer = sandbox.platformIdp.issuer;
    t = await startTestApp({
      env: {
        AUTH_JWT_SECRET: undefined,
        AUTH_JWKS_URL: `${issuer}/keys`,
        AUTH_ISSUER: issuer,
        AUTH_AUDIENCE: PLATFORM_AUDIENCE,
        CONSOLE_OIDC_CLIENT_ID: clientId,
      },
    });
    sandbox.platformIdp.setClient({ clientId, redirectUris: [`${t.baseUrl}/console/`] });
    sandbox.platformIdp.setUser({
      username: 'alice@acme.example',
      name: 'Alice Admin',
      orgId: 'acme',
      roles: ['admin'],
    });
    browser = await launch();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await sandbox?.close();
  });

  it('tells the console where to sign in, and lets it reach only that provider besides itself', async () => {
    const options = await t.request('/api/v1/console/sign-in-options');
    expect(options.status).toBe(200);
    expect(await options.json()).toEqual({ oidc: { issuer, client_id: clientId, scope: 'openid profile' } });
    const page = await t.request('/console/');
    expect(page.headers.get('content-security-policy')).toContain(
      `connect-src 'self' ${new URL(issuer).origin};`,
    );
  });

  it('signs an admin in at the provider and back, with no code or token left in the address or history', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = collectErrors(page);
    await page.goto(`${t.baseUrl}/console/`);
    await page.getByRole('button', { name: 'Sign in with your organisation account' }).click();
    // The provider's page (another origin): pick the user.
    await page.waitForURL((url) => url.href.startsWith(`${issuer}/authorize`));
    const authorize = new URL(page.url());
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${t.baseUrl}/console/`);
    await page.getByRole('button', { name: /Alice Admin/ }).click();
    await page.getByText('Signed in as').waitFor();
    expect(await page.getByTestId('signed-in').innerText()).toBe('Signed in as Alice Admin (acme)');
    expect(page.url()).toBe(`${t.baseUrl}/console/`);
    // The views work with the provider's access token.
    await page.getByRole('tab', { name: 'Audit log' }).click();
    await page.getByRole('tab', { name: 'Dynamics 365' }).click();
    await page.getByText('Not connected').first().waitFor();
    expect(await unnamedControls(page)).toEqual([]);
    expect(errors).toEqual([]);
    // Back through the history: the provider's page, never an address with the code in it.
    await page.goBack();
    expect(page.url()).not.toContain('code=');
    await page.goForward();
    expect(page.url()).toBe(`${t.baseUrl}/console/`);
    // A reload keeps the session (sessionStorage); signing out forgets it.
    await page.reload();
    await page.getByText('Signed in as').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in with your organisation account' }).waitFor();
    expect(await everythingOnPage(page)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    await page.close();
  });

  it('refuses a callback it did not start and shows the provider’s own refusal', async () => {
    const page = await browser.newPage();
    const errors = collectErrors(page);
    // A forged callback: no sign-in was started in this tab.
    await page.goto(`${t.baseUrl}/console/?code=forged&state=forged`);
    await page.getByText('That sign-in was not started here, or was already used. Sign in again.').waitFor();
    expect(page.url()).toBe(`${t.baseUrl}/console/`);

    // The provider refuses (an unknown scope): its code and words are shown.
    await page.goto(`${t.baseUrl}/console/`);
    await page.getByRole('button', { name: 'Sign in with your organisation account' }).waitFor();
    await page.evaluate(() => sessionStorage.clear());
    await page.getByRole('button', { name: 'Sign in with your organisation account' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${issuer}/authorize`));
    const refused = new URL(page.url());
    refused.searchParams.set('scope', 'openid payroll');
    await page.goto(refused.href);
    await page.getByText(/did not sign you in \(invalid_scope\): Unknown scope: payroll/).waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the provider checks PKCE, the redirect URI and single use of the code (RFC 6749, RFC 7636)', async () => {
    const verifier = 'v'.repeat(43);
    const challenge = (await import('node:crypto')).createHash('sha256').update(verifier).digest('base64url');
    const redirectUri = `${t.baseUrl}/console/`;
    const authorize = async (extra: Record<string, string> = {}) => {
      const answer = await fetch(`${issuer}/authorize`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: clientId,
          redirect_uri: redirectUri,
          response_type: 'code',
          scope: 'openid',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          state: 's',
          username: 'alice@acme.example',
          ...extra,
        }),
      });
      return answer;
    };
    const token = (form: Record<string, string>) =>
      fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: clientId,
          redirect_uri: redirectUri,
          ...form,
        }),
      });
    const codeOf = async (answer: Response) =>
      new URL(answer.headers.get('location')!).searchParams.get('code')!;

    // An unregistered redirect URI is never redirected to.
    const elsewhere = await authorize({ redirect_uri: 'https://attacker.example/' });
    expect(elsewhere.status).toBe(400);
    // Without PKCE: an error sent back to the client.
    const noPkce = await authorize({ code_challenge: '' });
    expect(new URL(noPkce.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');

    const wrongVerifier = await token({
      code: await codeOf(await authorize()),
      code_verifier: 'w'.repeat(43),
    });
    expect(wrongVerifier.status).toBe(400);
    expect(((await wrongVerifier.json()) as { error: string }).error).toBe('invalid_grant');

    const code = await codeOf(await authorize());
    const first = await token({ code, code_verifier: verifier });
    expect(first.status).toBe(200);
    const tokens = (await first.json()) as { access_token: string };
    const replay = await token({ code, code_verifier: verifier });
    expect(((await replay.json()) as { error: string }).error).toBe('invalid_grant');

    // The service accepts the provider's access token.
    const me = await t.request('/api/v1/me', { token: tokens.access_token });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      sub: 'platform|alice@acme.example',
      org_id: 'acme',
      roles: ['admin'],
    });
  });
});
