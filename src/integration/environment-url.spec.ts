import { normaliseEnvironmentUrl } from './environment-url.js';

describe('normaliseEnvironmentUrl', () => {
  it.each([
    ['https://contoso.crm.dynamics.com', 'https://contoso.crm.dynamics.com'],
    ['  HTTPS://Contoso.CRM4.Dynamics.com/  ', 'https://contoso.crm4.dynamics.com'],
    ['https://contoso.api.crm.dynamics.com', 'https://contoso.api.crm.dynamics.com'],
    ['https://org-1.crm22.dynamics.com', 'https://org-1.crm22.dynamics.com'],
    ['https://gov.crm9.dynamics.com', 'https://gov.crm9.dynamics.com'],
    ['https://high.crm.microsoftdynamics.us', 'https://high.crm.microsoftdynamics.us'],
    ['https://dod.crm.appsplatform.us', 'https://dod.crm.appsplatform.us'],
    ['https://cn.crm.dynamics.cn', 'https://cn.crm.dynamics.cn'],
    ['http://127.0.0.1:4011', 'http://127.0.0.1:4011'],
    ['http://127.0.0.1:4011/', 'http://127.0.0.1:4011'],
  ])('accepts %s', (raw, expected) => {
    expect(normaliseEnvironmentUrl(raw, ['http://127.0.0.1:4011'])).toEqual({ url: expected });
  });

  it('accepts an allowed origin only exactly (not another port on the same host)', () => {
    expect(normaliseEnvironmentUrl('http://127.0.0.1:4012', ['http://127.0.0.1:4011'])).toHaveProperty(
      'problem',
    );
  });
});
