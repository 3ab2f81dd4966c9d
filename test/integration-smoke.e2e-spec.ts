import { startTestApp, TestApp } from './support/app.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

describe('Test & Save smoke', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({ env: ms.env });
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it('saves working credentials', async () => {
    const response = await t.request('/api/v1/integrations/dynamics365', {
      method: 'PUT',
      token: await t.token(),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: ms.app.clientId,
        client_secret: ms.secret.value,
        tenant_id: ms.tenant.id,
        environment_url: ms.environment.origin,
      }),
    });
    const body = await response.json();
    expect([response.status, body]).toEqual([200, expect.objectContaining({ status: 'active' })]);
  });
});
