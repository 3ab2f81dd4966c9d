import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, TestApp } from './support/app.js';
import { AlertMaintenance } from '../src/alerts/alert-maintenance.js';
import {
  buildConsole,
  collectErrors,
  everythingOnPage,
  focusedElement,
  launch,
  SCREENSHOTS,
  unnamedControls,
} from './support/browser.js';
import { connect, HANDOFF_TEST_ENV, handoffBody, submit, waitForState } from './support/handoff.js';
import { auditEvents, call, credentialsOf, PATH, settingsRow } from './support/integration.js';
import { eventually } from './support/eventually.js';
import { withClient } from './support/database.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

/** The console's screenshots that docs/console.md shows, one per view and width. */
const DOC_SCREENSHOTS = join(new URL('..', import.meta.url).pathname, 'docs', 'screenshots');

/** Waits until `read` gives `expected` (the page updates after its API calls). */
async function shows<T>(read: () => Promise<T>, expected: T): Promise<void> {
  await eventually(async () => (await read()) === expected, `the page to show ${String(expected)}`, 5000);
}

describe('Admin console in a real browser (Chromium, playwright-core)', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let browser: Browser;
  let admin: string;
  let step = 0;

  const shot = (page: Page, name: string) =>
    page.screenshot({
      path: join(SCREENSHOTS, `${String(++step).padStart(2, '0')}-${name}.png`),
      fullPage: true,
    });

  async function openConsole(width = 1280): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width, height: 900 }, timezoneId: 'UTC' });
    const errors = collectErrors(page);
    await page.goto(`${t.baseUrl}/console/#code=${await signInCode(admin)}`);
    await page.getByText('Signed in as').waitFor();
    return { page, errors };
  }

  /** A one-time sign-in code for the token, as `npm run token -- --console` gets one. */
  async function signInCode(token: string): Promise<string> {
    const answer = await t.request('/api/v1/console/sign-in-codes', { method: 'POST', token });
    expect(answer.status).toBe(201);
    return ((await answer.json()) as { code: string }).code;
  }

  /** Fills the four fields of the Configure modal (labels exactly as the original form's). */
  async function fillCredentials(
    page: Page,
    values: { client_id: string; client_secret?: string; tenant_id: string },
  ) {
    await page.getByLabel('Client ID', { exact: true }).fill(values.client_id);
    await page.getByLabel('Client Secret', { exact: true }).fill(values.client_secret ?? '');
    await page.getByLabel('Tenant ID', { exact: true }).fill(values.tenant_id);
    await page.getByLabel('Environment URL', { exact: true }).fill(ms.environment.origin);
  }

  beforeAll(async () => {
    buildConsole();
    ms = await startMicrosoft();
    t = await startTestApp({
      env: {
        ...ms.env,
        ...HANDOFF_TEST_ENV,
        VERIFY_RATE_LIMIT_PER_MINUTE: '1000',
        SMTP_URL: ms.sandbox.mail.url,
        SMTP_FROM: 'alerts@connector.example',
        NOTIFICATION_ALLOWED_ORIGINS: ms.sandbox.loginUrl,
      },
    });
    admin = await t.token({ org: 'acme', roles: ['admin'], sub: 'alice', name: 'Alice Admin' });
    browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await ms?.sandbox.close();
  });

  it('signs in with a one-time code: the address bar keeps no code, a used link signs nobody in', async () => {
    const code = await signInCode(admin);
    const page = await browser.newPage();
    collectErrors(page);
    await page.goto(`${t.baseUrl}/console/#code=${code}`);
    await page.getByText('Signed in as').waitFor();
    expect(page.url()).toBe(`${t.baseUrl}/console/`);
    expect(await page.evaluate(() => sessionStorage.getItem('dynamics365-console-token'))).toBe(admin);
    const again = await browser.newPage();
    await again.goto(`${t.baseUrl}/console/#code=${code}`);
    await again.getByText('already used or has expired').waitFor();
    await page.close();
    await again.close();
  });

  it('serves /console with a strict Content-Security-Policy and no inline script', async () => {
    const response = await fetch(`${t.baseUrl}/console/`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const page = await response.text();
    expect(page).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect((await fetch(`${t.baseUrl}/console`, { redirect: 'manual' })).headers.get('location')).toBe(
      '/console/',
    );
  });

  it('signs in from the URL fragment, configures, shows each broken app’s hint, saves, rotates and disconnects', async () => {
    const { page, errors } = await openConsole();
    expect(new URL(page.url()).hash).toBe('');
    await expect(page.getByTestId('signed-in').textContent()).resolves.toContain('Alice Admin');
    const card = page.getByRole('region', { name: 'Dynamics 365' });
    await expect(card.getByTestId('connection-status').textContent()).resolves.toBe('Not connected');
    await shot(page, 'not-connected');

    await card.getByRole('button', { name: 'Configure' }).click();
    const dialog = page.getByRole('dialog', { name: 'Configure Dynamics 365' });
    await dialog.waitFor();

    // Client-side checks first: nothing is sent for a malformed client id.
    const before = ms.mark();
    await fillCredentials(page, { client_id: 'not-a-guid', client_secret: 'x', tenant_id: ms.tenant.id });
    await dialog.getByRole('button', { name: 'Test & Save Configuration' }).click();
    await expect(dialog.getByText('Client ID must be a GUID').isVisible()).resolves.toBe(true);
    expect(before()).toEqual([]);

    // [name, values, what the alert says, the hint's words (shown once), the field at fault]
    const broken: [string, Record<string, string>, RegExp, string, string | null][] = [];
    const wrongSecret = ms.addApp();
    broken.push([
      'secret-id-pasted',
      { client_id: wrongSecret.app.clientId, client_secret: wrongSecret.secret.id, tenant_id: ms.tenant.id },
      /AADSTS7000215[\s\S]*See Client Secret/,
      'looks like the Secret ID',
      'client_secret',
    ]);
    const expired = ms.addApp();
    expired.secret.expiresAt = new Date(Date.now() - 86_400_000);
    broken.push([
      'expired-secret',
      { client_id: expired.app.clientId, client_secret: expired.secret.value, tenant_id: ms.tenant.id },
      /AADSTS7000222[\s\S]*See Client Secret/,
      'The client secret has expired',
      'client_secret',
    ]);
    broken.push([
      'unknown-tenant',
      {
        client_id: ms.app.clientId,
        client_secret: ms.secret.value,
        tenant_id: '0f0f0f0f-0000-4000-8000-0000000000aa',
      },
      /See Tenant ID/,
      'was not found',
      'tenant_id',
    ]);
    const noUser = ms.addApp({ privileges: null });
    broken.push([
      'no-application-user',
      { client_id: noUser.app.clientId, client_secret: noUser.secret.value, tenant_id: ms.tenant.id },
      /0x80072560[\s\S]*Application User/,
      'has no Application User',
      null,
    ]);
    const noPrivilege = ms.addApp({ privileges: ['prvReadContact'] });
    broken.push([
      'missing-privilege',
      {
        client_id: noPrivilege.app.clientId,
        client_secret: noPrivilege.secret.value,
        tenant_id: ms.tenant.id,
      },
      /0x80040220[\s\S]*prvReadIncident/,
      'lacks prvReadIncident',
      null,
    ]);
    const disabled = ms.addApp({ disabledUser: true });
    broken.push([
      'disabled-user',
      { client_id: disabled.app.clientId, client_secret: disabled.secret.value, tenant_id: ms.tenant.id },
      /0x80040225[\s\S]*disabled/,
      'Application User is disabled',
      null,
    ]);
    for (const [name, values, expected, hint, field] of broken) {
      await fillCredentials(page, values as { client_id: string; client_secret: string; tenant_id: string });
      await dialog.getByRole('button', { name: 'Test & Save Configuration' }).click();
      const alert = dialog.getByTestId('error');
      await alert.getByText('Failed to verify credentials').waitFor();
      expect(await alert.textContent()).toMatch(expected);
      expect(await dialog.getByTestId('stages').textContent()).toMatch(/Failed/);
      // The hint once: under the field at fault (marked and focused), else in the alert.
      const text = (await dialog.textContent()) ?? '';
      expect(text.split(hint).length - 1).toBe(1);
      if (field) {
        await eventually(async () => (await focusedElement(page)) === field, `${field} focused`, 5000);
        const input = dialog.locator(`[name="${field}"]`);
        expect(await input.getAttribute('aria-invalid')).toBe('true');
        expect(await dialog.locator(`#${field}-error`).textContent()).toContain(hint);
      } else {
        expect(await alert.textContent()).toContain(hint);
      }
      await shot(page, `broken-${name}`);
    }
    expect(await settingsRow(t, 'acme')).toBeUndefined();

    // Test only, then Test & Save with the working app.
    await fillCredentials(page, {
      client_id: ms.app.clientId,
      client_secret: ms.secret.value,
      tenant_id: ms.tenant.id,
    });
    await dialog.getByRole('button', { name: 'Test', exact: true }).click();
    await dialog.getByText('All checks passed. Nothing was saved yet.').waitFor();
    expect(await settingsRow(t, 'acme')).toBeUndefined();
    const stages = await dialog.getByTestId('stages').textContent();
    expect(stages).toMatch(/Passed\s*Token from Microsoft Entra ID/);
    expect(stages).toMatch(/Passed\s*Dynamics 365 probe/);
    expect(await dialog.getByTestId('readiness').textContent()).toContain('Ready for handoffs');
    // Test & Save: the modal closes, focus is back on Configure, and the card says what happened.
    await dialog.getByRole('button', { name: 'Test & Save Configuration' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const announcement = card.getByTestId('card-announcement');
    expect(await announcement.textContent()).toMatch(
      /Verified with Microsoft and saved[\s\S]*Ready for handoffs\./,
    );
    expect(await focusedElement(page)).toBe('Configure');
    await shot(page, 'saved');
    await expect(card.getByTestId('connection-status').textContent()).resolves.toBe('Active');
    expect(await card.textContent()).toContain(`${ms.secret.value.slice(0, 3)}…`);
    await shot(page, 'card-active');
    // The secret is nowhere on the page, the shadow roots and session storage included.
    expect(await everythingOnPage(page)).not.toContain(ms.secret.value);

    // Rotation keeping the stored secret: the field left empty, another default changed.
    await card.getByRole('button', { name: 'Configure' }).click();
    await dialog.waitFor();
    expect(await page.getByLabel('Client Secret', { exact: true }).inputValue()).toBe('');
    expect(await page.getByLabel('Client ID', { exact: true }).inputValue()).toBe(ms.app.clientId);
    // The messaging section walks the admin through the webhook, with this org's URL.
    await dialog.getByText('Advanced: Omnichannel messaging').click();
    await expect(dialog.getByTestId('webhook-url').textContent()).resolves.toBe(
      `${t.baseUrl}/webhooks/dynamics365/messaging/acme`,
    );
    expect(await dialog.getByTestId('webhook-help').textContent()).toMatch(/federated credential/);
    await dialog.getByText('Case defaults').click();
    // Dynamics' own priorities, each once, and the footer in sight with the sections open.
    const priorities = await page.getByLabel('Priority').locator('option').allTextContents();
    expect(priorities.slice(0, 3)).toEqual(['High', 'Normal', 'Low']);
    expect(new Set(priorities).size).toBe(priorities.length);
    await page.getByLabel('Priority').selectOption('1');
    const save = dialog.getByRole('button', { name: 'Test & Save Configuration' });
    expect(
      await save.evaluate((b) => {
        const box = b.getBoundingClientRect();
        return box.bottom <= (globalThis as unknown as { innerHeight: number }).innerHeight && box.top >= 0;
      }),
    ).toBe(true);
    await save.click();
    await dialog.waitFor({ state: 'hidden' });
    const kept = await settingsRow(t, 'acme');
    expect(kept).toMatchObject({ default_priority: 1, client_secret_hint: ms.secret.value.slice(0, 3) });
    // A new secret: rotated.
    const fresh = ms.sandbox.model.addSecret(ms.tenant.id, ms.app.clientId);
    await card.getByRole('button', { name: 'Configure' }).click();
    await page.getByLabel('Client Secret', { exact: true }).fill(fresh.value);
    await dialog.getByRole('button', { name: 'Test & Save Configuration' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await settingsRow(t, 'acme'))!.client_secret_hint).toBe(fresh.value.slice(0, 3));
    expect(await everythingOnPage(page)).not.toContain(fresh.value);

    // Another admin saves meanwhile: If-Match makes this one a 409 with a way out.
    await card.getByRole('button', { name: 'Configure' }).click();
    await dialog.waitFor();
    await call(t, 'PUT', PATH, admin, credentialsOf(ms, { client_secret: fresh.value, default_priority: 3 }));
    await dialog.getByRole('button', { name: 'Test & Save Configuration' }).click();
    await dialog.getByText('Someone else changed this connection').waitFor();
    await shot(page, 'conflict');
    await dialog.getByRole('button', { name: 'Reload the connection' }).click();
    await page.getByRole('button', { name: 'Cancel' }).first().click();
    await dialog.waitFor({ state: 'hidden' });

    // Disconnect, with the confirmation naming what stays in Dynamics.
    await card.getByRole('button', { name: 'Disconnect' }).click();
    const confirm = page.getByRole('dialog', { name: 'Disconnect Dynamics 365?' });
    await confirm.waitFor();
    expect(await confirm.textContent()).toMatch(/already created in\s+Dynamics 365 stay there/);
    await shot(page, 'disconnect-confirm');
    await confirm.getByRole('button', { name: 'Disconnect' }).click();
    await shows(() => card.getByTestId('connection-status').textContent(), 'Not connected');
    expect(await settingsRow(t, 'acme')).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('shows readiness: a not-ready app’s checklist with each fix, and Verify now checks again', async () => {
    const limited = ms.addApp({
      privileges: [
        'prvReadIncident',
        'prvReadContact',
        'prvReadUser',
        'prvCreateContact',
        'prvAppendToContact',
      ],
      name: 'Half a role',
    });
    const { page, errors } = await openConsole();
    const card = page.getByRole('region', { name: 'Dynamics 365' });
    await card.getByRole('button', { name: 'Configure' }).click();
    const dialog = page.getByRole('dialog', { name: 'Configure Dynamics 365' });
    await fillCredentials(page, {
      client_id: limited.app.clientId,
      client_secret: limited.secret.value,
      tenant_id: ms.tenant.id,
    });
    await dialog.getByRole('button', { name: 'Test & Save Configuration' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await card.getByTestId('card-announcement').textContent()).toMatch(
      /Verified with Microsoft and saved[\s\S]*Not ready for handoffs: \d+ items to fix/,
    );
    const checklist = card.getByTestId('card-readiness');
    expect(await checklist.textContent()).toContain('Not ready for handoffs');
    const createCase = checklist.locator('li[data-check="privilege:prvCreateIncident"]');
    expect(await createCase.textContent()).toMatch(
      /Create on Case \(prvCreateIncident\) is missing[\s\S]*Grant Create on Case[\s\S]*Without it, creating the case fails/,
    );
    await shot(page, 'readiness-not-ready');
    // The admin grants the rest of the role; Verify now finds the app ready.
    ms.sandbox.model.applicationUser('contoso', limited.app.clientId).privileges = 'all';
    await card.getByRole('button', { name: 'Verify now' }).click();
    await shows(
      async () => (await card.getByTestId('card-readiness').textContent())?.includes('Ready for handoffs'),
      true,
    );
    expect(await card.getByTestId('card-announcement').textContent()).toContain('ready for handoffs');
    await call(t, 'DELETE', PATH, admin);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('sets notifications (the webhook secret shown once), sends a test, and shows open alerts on the card', async () => {
    await connect(t, ms, 'acme', { secret_expires_at: new Date(Date.now() + 2 * 86_400_000).toISOString() });
    await t.app.get(AlertMaintenance).runOnce();
    const { page, errors } = await openConsole();
    const card = page.getByRole('region', { name: 'Dynamics 365' });
    await card.getByTestId('open-alerts').waitFor();
    expect(await card.getByTestId('open-alerts').textContent()).toMatch(
      /client secret expires within 3 days[\s\S]*New client secret/,
    );
    await page.getByRole('tab', { name: 'Notifications' }).click();
    const view = page.getByRole('region', { name: 'Notifications' });
    await view.getByLabel('E-mail recipients').fill('admin@contoso.example, oncall@contoso.example');
    await view.getByLabel('Webhook URL').fill(`${ms.sandbox.loginUrl}/_sandbox/hooks/console`);
    await view.getByRole('button', { name: 'Save notifications' }).click();
    await view.getByTestId('webhook-secret').waitFor();
    expect(await view.getByTestId('webhook-secret').textContent()).toMatch(/whsec_/);
    await shot(page, 'notifications');
    await view.getByRole('button', { name: 'Send test' }).click();
    await shows(
      async () =>
        (await view.getByTestId('notifications-status').textContent())?.includes(
          'email: sent, webhook: sent',
        ),
      true,
    );
    expect(ms.sandbox.mail.mail.some((m) => m.subject === '[Dynamics 365 · acme] Test alert')).toBe(true);
    expect(await view.getByRole('list', { name: 'Alerts' }).textContent()).toContain(
      'client secret expires within 3 days',
    );
    await call(t, 'DELETE', PATH, admin);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('shows the audit log (filters, paging, CSV export, chain check) and the handoffs (ids, errors, retry)', async () => {
    await connect(t, ms, 'acme');
    // A handoff that fails for good (the case create refused), and one delivered.
    ms.environment.fault = {
      status: 400,
      code: '0x80060891',
      message: "Invalid property 'x'.",
      method: 'PATCH',
      path: '/incidents(',
      count: 1,
    };
    await submit(t, await t.token({ org: 'acme', roles: ['handoff'] }), handoffBody('console-failed'));
    await waitForState(t, admin, 'console-failed', ['failed']);
    await submit(t, await t.token({ org: 'acme', roles: ['handoff'] }), handoffBody('console-ok'));
    await waitForState(t, admin, 'console-ok', ['delivered']);
    // The customer of one asks to be forgotten: the console shows that handoff as purged.
    await call(t, 'POST', '/api/v1/customer-data/erase', admin, { session_id: 'console-ok' });

    // Alice's save with a wrong secret, refused by Microsoft: in the log as her sentence.
    await call(t, 'PUT', PATH, admin, credentialsOf(ms, { client_secret: 'wrong-secret-value' }));

    const { page, errors } = await openConsole();
    await page.getByRole('tab', { name: 'Audit log' }).click();
    const audit = page.getByRole('region', { name: 'Audit log' });
    // Sentences an admin reads, with the time zone; no machine codes.
    await audit
      .getByText(/ connected Dynamics 365 \(environment http/)
      .first()
      .waitFor();
    const text = (await audit.textContent()) ?? '';
    expect(text).toMatch(
      /Alice Admin tried to connect .*; Microsoft refused at the token exchange with Microsoft Entra ID \(AADSTS\d+\)\. Nothing was saved\./,
    );
    expect(text).not.toMatch(/integration\.|token_exchange/);
    const firstTime = (await audit.locator('td.when').first().textContent()) ?? '';
    expect(firstTime).toMatch(/\b(UTC|GMT)/);
    // Filtered by the name shown.
    await audit.getByLabel('Who').fill('alice admin');
    await audit.getByRole('button', { name: 'Apply filters' }).click();
    await shows(
      async () => (await audit.getByRole('cell', { name: 'System', exact: true }).count()) === 0,
      true,
    );
    await audit.getByLabel('Who').fill('');
    await audit.getByLabel('What').selectOption('integration.disconnected');
    await audit.getByRole('button', { name: 'Apply filters' }).click();
    // One row per disconnect of this org so far, and nothing else.
    const disconnects = (await auditEvents(t, 'acme')).filter(
      (e) => e.action === 'integration.disconnected',
    ).length;
    await shows(() => audit.locator('tr[data-action]').count(), disconnects);
    expect(await audit.locator('tr[data-action="integration.disconnected"]').count()).toBe(disconnects);
    const download = page.waitForEvent('download');
    await audit.getByRole('button', { name: 'Export CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('dynamics365-audit-log.csv');
    await audit.getByRole('button', { name: 'Verify the chain' }).click();
    await audit.getByText('The audit chain is intact').waitFor();
    await shot(page, 'audit-log');

    await page.getByRole('tab', { name: 'Handoffs' }).click();
    const handoffs = page.getByRole('region', { name: 'Handoffs' });
    await handoffs.getByText('console-failed').waitFor();
    const failedRow = handoffs.getByRole('row', { name: /console-failed/ });
    expect(await failedRow.textContent()).toMatch(/failed[\s\S]*incident_create[\s\S]*0x80060891/);
    // Its attempts, as each ended: opened from the row, closed again.
    await failedRow.getByRole('button', { name: /attempts? of console-failed/ }).click();
    const attempts = failedRow.getByRole('list', { name: 'Attempts of console-failed' });
    await attempts.waitFor();
    expect(await attempts.textContent()).toMatch(
      /failed \(configuration\)[\s\S]*incident_create 400 0x80060891/,
    );
    await failedRow.getByRole('button', { name: /attempts? of console-failed/ }).click();
    await shows(() => attempts.count(), 0);
    const okRow = handoffs.getByRole('row', { name: /console-ok/ });
    expect(await okRow.textContent()).toMatch(/Case\s*CAS-\d{5}/);
    expect(await okRow.textContent()).toContain('content purged');
    // The case it created, opened in Dynamics 365 (Microsoft's record URL).
    const incidentId = (await call(t, 'GET', '/api/v1/handoffs/console-ok', admin)).body.dynamics.incident_id;
    expect(await okRow.getByRole('link', { name: /Open in Dynamics 365/ }).getAttribute('href')).toBe(
      `${ms.environment.origin}/main.aspx?pagetype=entityrecord&etn=incident&id=${incidentId}`,
    );
    // Found by its session id; filtered by channel.
    await handoffs.getByLabel('Session id').fill('console-ok');
    await handoffs.getByRole('button', { name: 'Find' }).click();
    await shows(() => handoffs.locator('tr[data-session]').count(), 1);
    await handoffs.getByLabel('Session id').fill('');
    await handoffs.getByLabel('Channel').selectOption('sms');
    await shows(() => handoffs.getByText('No handoffs.').count(), 1);
    await handoffs.getByLabel('Channel').selectOption('');
    await handoffs.getByText('console-failed').waitFor();
    // Two loads at once: the later filter is what shows, even when the earlier one answers last.
    let slowAnswered = false;
    await page.route('**/api/v1/handoffs?*state=failed*', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue().catch(() => undefined); // aborted by the later load
      slowAnswered = true;
    });
    await handoffs.getByLabel('State').selectOption('failed');
    await handoffs.getByLabel('State').selectOption('delivered');
    await eventually(() => slowAnswered, 'the slow answer', 5000);
    await shows(
      async () =>
        (await handoffs.locator('tr[data-session]').allTextContents()).join('|').includes('console-ok'),
      true,
    );
    const sessions = await handoffs
      .locator('tr[data-session]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-session')));
    expect(sessions).not.toContain('console-failed');
    await page.unroute('**/api/v1/handoffs?*state=failed*');
    await handoffs.getByLabel('State').selectOption('');
    await handoffs.getByText('console-failed').waitFor();
    await shot(page, 'handoffs');
    await failedRow.getByRole('button', { name: 'Retry handoff console-failed' }).click();
    await handoffs.getByText('Handoff console-failed queued again.').waitFor();
    await waitForState(t, admin, 'console-failed', ['delivered']);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('works by keyboard alone: sign in by pasting, open Configure, save, Escape returns focus', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const errors = collectErrors(page);
    await page.goto(`${t.baseUrl}/console/`);
    await page.getByLabel('API token').waitFor();
    await page.keyboard.press('Tab');
    expect(await focusedElement(page)).toBe('token');
    await page.keyboard.type(admin);
    await page.keyboard.press('Tab');
    expect(await focusedElement(page)).toBe('Sign in');
    await page.keyboard.press('Enter');
    await page.getByText('Signed in as').waitFor();
    // The views are tabs: one tab stop, the arrow keys move between them (and select).
    for (let i = 0; i < 5 && (await focusedElement(page)) !== 'tab-integration'; i++)
      await page.keyboard.press('Tab');
    expect(await focusedElement(page)).toBe('tab-integration');
    await page.keyboard.press('ArrowRight');
    expect(await focusedElement(page)).toBe('tab-audit');
    await page.getByRole('region', { name: 'Audit log' }).waitFor();
    expect(await page.getByRole('tab', { name: 'Audit log' }).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowLeft');
    expect(await focusedElement(page)).toBe('tab-integration');
    // Configure is the next tab stop after the tab list.
    for (let i = 0; i < 10 && (await focusedElement(page)) !== 'Configure'; i++)
      await page.keyboard.press('Tab');
    const focused = () => focusedElement(page);
    expect(await focused()).toBe('Configure');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Configure Dynamics 365' });
    await dialog.waitFor();
    // Focus moved into the dialog (on Client ID); the secret field is next.
    await page.keyboard.press('Tab');
    await page.keyboard.type(ms.secret.value);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await focused()).toBe('Configure');
    expect(await everythingOnPage(page)).not.toContain(ms.secret.value);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('embeds in a host page: the components module, a token provider set afterwards, the unauthorized event', async () => {
    const page = await browser.newPage();
    const errors = collectErrors(page);
    // A host page of the same origin (the service under the host's domain): an HTML page of it, replaced.
    await page.goto(`${t.baseUrl}/console/`);
    await page.setContent(
      '<script type="module" src="/console/dynamics365-components.js"></script><dynamics365-integration></dynamics365-integration>',
    );
    await page.waitForFunction("customElements.get('dynamics365-integration') !== undefined");
    await page.evaluate(
      `window.unauthorized = 0; document.addEventListener('dynamics365-unauthorized', () => window.unauthorized++);
       document.querySelector('dynamics365-integration').tokenProvider = () => ${JSON.stringify(admin)};`,
    );
    const card = page.getByRole('region', { name: 'Dynamics 365' });
    await shows(() => card.getByTestId('connection-status').textContent(), 'Active');
    // Themed by the host: Fluent's custom properties (here the brand colour) and the parts.
    await page.evaluate(`
      document.querySelector('dynamics365-integration').style.setProperty('--colorBrandBackground', 'rgb(1, 2, 3)');
      const sheet = new CSSStyleSheet();
      sheet.replaceSync('dynamics365-integration::part(card) { border-color: rgb(4, 5, 6); }');
      document.adoptedStyleSheets = [sheet];`);
    expect(
      await card
        .getByRole('button', { name: 'Configure' })
        .evaluate(
          (b) =>
            (
              globalThis as unknown as { getComputedStyle: (e: unknown) => Record<string, string> }
            ).getComputedStyle(b).backgroundColor,
        ),
    ).toBe('rgb(1, 2, 3)');
    expect(
      await card.evaluate(
        (c) =>
          (
            globalThis as unknown as { getComputedStyle: (e: unknown) => Record<string, string> }
          ).getComputedStyle(c).borderTopColor,
      ),
    ).toBe('rgb(4, 5, 6)');
    // An expired or wrong token: the host hears about it.
    await page.evaluate(
      "const el = document.querySelector('dynamics365-integration'); el.tokenProvider = () => 'wrong'; el.load();",
    );
    await shows(() => page.evaluate<number>('window.unauthorized'), 1);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('every view at 1280 and 360 px: no sideways scroll, every control named, no console error (screenshots in docs/screenshots)', async () => {
    await connect(t, ms, 'acme');
    const handoffToken = await t.token({ org: 'acme', roles: ['handoff'] });
    await submit(t, handoffToken, handoffBody('a-rather-long-session-identifier-from-the-platform-0001'));
    await waitForState(t, admin, 'a-rather-long-session-identifier-from-the-platform-0001', ['delivered']);
    for (const width of [1280, 360]) {
      const { page, errors } = await openConsole(width);
      for (const [button, region, file] of [
        ['Dynamics 365', 'Dynamics 365', 'connection'],
        ['Audit log', 'Audit log', 'audit-log'],
        ['Handoffs', 'Handoffs', 'handoffs'],
        ['Notifications', 'Notifications', 'notifications'],
      ]) {
        await page.getByRole('tab', { name: button, exact: true }).click();
        await page.getByRole('region', { name: region }).waitFor();
        await page.waitForLoadState('networkidle');
        if (region === 'Handoffs') {
          await page
            .getByRole('region', { name: 'Handoffs' })
            .getByText('Open in Dynamics 365')
            .first()
            .waitFor();
        }
        const scrollWidth = await page.evaluate<number>('document.scrollingElement.scrollWidth');
        expect([file, width, scrollWidth <= width]).toEqual([file, width, true]);
        expect([file, width, await unnamedControls(page)]).toEqual([file, width, []]);
        await page.screenshot({ path: join(DOC_SCREENSHOTS, `${file}-${width}.png`), fullPage: true });
      }
      expect(errors).toEqual([]);
      await page.close();
    }
  }, 90_000);

  it('a held handoff links to what holds it: the connection to fix', async () => {
    await connect(t, ms, 'acme');
    await withClient(t.databaseUrl, (client) =>
      client.query("UPDATE dynamics365_integration_settings SET status = 'invalid' WHERE org_id = 'acme'"),
    );
    await submit(t, await t.token({ org: 'acme', roles: ['handoff'] }), handoffBody('console-held'));
    await waitForState(t, admin, 'console-held', ['held']);
    const { page, errors } = await openConsole();
    await page.getByRole('tab', { name: 'Handoffs', exact: true }).click();
    const handoffs = page.getByRole('region', { name: 'Handoffs' });
    await handoffs.getByRole('button', { name: 'Fix the connection for console-held' }).click();
    await page.getByRole('region', { name: 'Dynamics 365' }).getByTestId('connection-status').waitFor();
    expect(
      await page.getByRole('region', { name: 'Dynamics 365' }).getByTestId('connection-status').textContent(),
    ).toBe('Invalid');
    expect(errors).toEqual([]);
    await page.close();
    await call(t, 'DELETE', PATH, admin);
  });

  it('fits a 360 px wide screen', async () => {
    const { page, errors } = await openConsole(360);
    await page
      .getByRole('region', { name: 'Dynamics 365' })
      .getByRole('button', { name: 'Configure' })
      .click();
    await page.getByRole('dialog', { name: 'Configure Dynamics 365' }).waitFor();
    const overflow = await page.evaluate<number>('document.scrollingElement.scrollWidth');
    expect(overflow).toBeLessThanOrEqual(360);
    await shot(page, 'narrow-360px');
    expect(errors).toEqual([]);
    await page.close();
  });
});
