import type { Browser } from 'playwright-core';
import { startTestApp, TestApp } from './support/app.js';
import {
  buildConsole,
  collectErrors,
  everythingOnPage,
  focusedElement,
  launch,
  unnamedControls,
} from './support/browser.js';
import { call } from './support/integration.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

/**
 * The console's certificate path (#29): Configure → Certificate → Generate, the certificate
 * downloaded, the steps for the Azure portal, Test & Save refused until it is uploaded (the hint at
 * the Generate button), then saved; the card shows the thumbprint and expiry.
 */
describe('Console: connect with a certificate', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let browser: Browser;
  let admin: string;

  beforeAll(async () => {
    buildConsole();
    ms = await startMicrosoft();
    t = await startTestApp({ env: { ...ms.env, VERIFY_RATE_LIMIT_PER_MINUTE: '1000' } });
    admin = await t.token({ org: 'certs', roles: ['admin'], sub: 'alice', name: 'Alice Admin' });
    browser = await launch();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await ms?.sandbox.close();
  });

  it('generates, downloads, is refused until uploaded, then saves; the card shows the certificate', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
    const errors = collectErrors(page);
    const code = (await call(t, 'POST', '/api/v1/console/sign-in-codes', admin)).body.code as string;
    await page.goto(`${t.baseUrl}/console/#code=${code}`);
    await page.getByText('Signed in as').waitFor();
    await page.getByRole('button', { name: 'Configure' }).click();
    const dialog = page.getByRole('dialog', { name: 'Configure Dynamics 365' });
    await dialog.getByLabel('Client ID', { exact: true }).fill(ms.app.clientId);
    await dialog.getByRole('radio', { name: /Certificate/ }).check();
    expect(await dialog.getByLabel('Client Secret', { exact: true }).count()).toBe(0);
    await dialog.getByLabel('Tenant ID', { exact: true }).fill(ms.tenant.id);
    await dialog.getByLabel('Environment URL', { exact: true }).fill(ms.environment.origin);

    // Test & Save before generating: the form asks for a certificate, nothing is sent.
    await dialog.getByRole('button', { name: 'Test & Save Configuration' }).click();
    await dialog
      .getByText('Generate a certificate, upload it to the app registration, then Test & Save.')
      .waitFor();

    await dialog.getByRole('button', { name: 'Generate a certificate' }).click();
    const fresh = dialog.getByTestId('new-certificate');
    await fresh.waitFor();
    const thumbprint = /thumbprint ([0-9A-F]{40})/.exec(await fresh.innerText())![1];
    const link = dialog.getByRole('link', { name: 'Download the certificate (.cer)' });
    expect(await link.getAttribute('download')).toBe(`dynamics365-connector-${thumbprint.slice(0, 8)}.cer`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const pem = await new Response(await download.createReadStream()).text();
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    await dialog.getByText('Upload certificate', { exact: false }).first().waitFor();

    // Not uploaded yet: Microsoft's refusal, its hint under the certificate, focus on Generate.
    await dialog.getByRole('button', { name: 'Test & Save Configuration' }).click();
    await dialog
      .getByText(/AADSTS700027/)
      .first()
      .waitFor();
    await dialog.getByText(/does not have this certificate \(thumbprint/).waitFor();
    expect(await focusedElement(page)).toBe('generate-certificate');

    // Uploaded (the portal's step, here the sandbox's): saved, the modal closes, the card says so.
    ms.sandbox.model.addCertificate(ms.tenant.id, ms.app.clientId, { certificate: pem });
    await dialog.getByRole('button', { name: 'Test & Save Configuration' }).click();
    await page.getByTestId('card-announcement').getByText('Verified with Microsoft and saved').waitFor();
    expect(await dialog.isVisible()).toBe(false);
    expect(await page.getByTestId('card-certificate').innerText()).toContain(thumbprint);
    expect(await page.getByText('Certificate expires').count()).toBe(1);
    expect(await unnamedControls(page)).toEqual([]);
    expect(await everythingOnPage(page)).not.toContain('PRIVATE KEY');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('at 360 px: the certificate part of the modal and the card fit, nothing scrolls sideways', async () => {
    const page = await browser.newPage({ viewport: { width: 360, height: 800 }, timezoneId: 'UTC' });
    const errors = collectErrors(page);
    const code = (await call(t, 'POST', '/api/v1/console/sign-in-codes', admin)).body.code as string;
    await page.goto(`${t.baseUrl}/console/#code=${code}`);
    await page.getByTestId('card-certificate').waitFor();
    const fits = async () => {
      const width = await page.evaluate<number>('document.scrollingElement.scrollWidth');
      // Inside the modal too: its content may not be wider than the modal.
      const modal = await page.evaluate<number>(`(() => {
        const form = document.querySelector('dynamics365-console').shadowRoot
          .querySelector('dynamics365-integration').shadowRoot
          .querySelector('dynamics365-integration-form').shadowRoot.querySelector('dialog');
        return form && form.open ? form.scrollWidth - form.clientWidth : 0;
      })()`);
      return [width <= 360, modal <= 0];
    };
    expect(await fits()).toEqual([true, true]);
    await page.getByRole('button', { name: 'Configure' }).click();
    const dialog = page.getByRole('dialog', { name: 'Configure Dynamics 365' });
    await dialog.getByRole('button', { name: 'Generate a new certificate' }).click();
    await dialog.getByTestId('new-certificate').waitFor();
    expect(await fits()).toEqual([true, true]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
