import { messagingScopeFor } from '../microsoft/dynamics-domains.js';
import { normaliseEnvironmentUrl, normaliseMessagingEndpoint } from './environment-url.js';

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

  it.each([
    ['http scheme', 'http://contoso.crm.dynamics.com', /https/],
    [
      'suffix as a subdomain',
      'https://contoso.crm.dynamics.com.evil.example',
      /Dynamics 365 environment address/,
    ],
    ['suffix in the path', 'https://evil.example/contoso.crm.dynamics.com', /path/],
    ['user info hiding the host', 'https://contoso.crm.dynamics.com@evil.example', /user info/],
    ['port', 'https://contoso.crm.dynamics.com:8443', /port/],
    ['explicit :443', 'https://contoso.crm.dynamics.com:443', /port/],
    ['query', 'https://contoso.crm.dynamics.com?x=1', /query/],
    ['fragment', 'https://contoso.crm.dynamics.com#x', /fragment/],
    ['path', 'https://contoso.crm.dynamics.com/main.aspx', /path/],
    ['IPv4 literal', 'https://169.254.169.254', /IP address/],
    ['decimal IP', 'https://2130706433', /IP address/],
    ['hex IP', 'https://0x7f000001', /IP address/],
    ['IPv6 literal', 'https://[::1]', /IP address/],
    ['look-alike suffix', 'https://contoso.crm.dynamlcs.com', /Dynamics 365 environment address/],
    ['test ring', 'https://contoso.crm10.dynamics.com', /Dynamics 365 environment address/],
    ['discovery host', 'https://globaldisco.crm.dynamics.com', /Dynamics 365 environment address/],
    ['nested label', 'https://a.b.crm.dynamics.com', /Dynamics 365 environment address/],
    ['bare suffix', 'https://crm.dynamics.com', /Dynamics 365 environment address/],
    ['not a URL', 'contoso.crm.dynamics.com', /must be a URL/],
    ['allowed origin with a path', 'http://127.0.0.1:4011/api', /https/],
  ])('refuses %s', (_, raw, problem) => {
    const result = normaliseEnvironmentUrl(raw, ['http://127.0.0.1:4011']);
    expect(result).toHaveProperty('problem');
    expect((result as { problem: string }).problem).toMatch(problem);
  });
});

describe('normaliseMessagingEndpoint', () => {
  const guid = '1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b';
  it.each([
    [
      `https://m-${guid}.us.omnichannelengagementhub.com`,
      `https://m-${guid}.us.omnichannelengagementhub.com`,
    ],
    [
      `HTTPS://M-${guid.replace(/-/g, '')}.EU.omnichannelengagementhub.com/`,
      `https://m-${guid.replace(/-/g, '')}.eu.omnichannelengagementhub.com`,
    ],
    ['http://127.0.0.1:4012', 'http://127.0.0.1:4012'],
  ])('accepts %s', (raw, url) => {
    expect(normaliseMessagingEndpoint(raw, ['http://127.0.0.1:4012'])).toEqual({ url });
  });
  it.each([
    ['another host', 'https://m-x.us.example.com'],
    ['no organization id', 'https://m-contoso.us.omnichannelengagementhub.com'],
    ['http', `http://m-${guid}.us.omnichannelengagementhub.com`],
    ['a path', `https://m-${guid}.us.omnichannelengagementhub.com/api/v1.0`],
    ['a port', `https://m-${guid}.us.omnichannelengagementhub.com:8443`],
  ])('refuses %s', (_, raw) => {
    expect(normaliseMessagingEndpoint(raw, [])).toHaveProperty('problem');
  });
});

describe('messagingScopeFor', () => {
  const org = '1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b';
  it('derives the scope in the public cloud from the region and the organization id', () => {
    expect(messagingScopeFor('https://contoso.crm4.dynamics.com', org)).toBe(
      'https://1c8f2a4e3b5d4e6f8a9b0c1d2e3f4a5b-c.crm4.dynamics.com/.default',
    );
    expect(messagingScopeFor('https://contoso.api.crm.dynamics.com', org)).toBe(
      'https://1c8f2a4e3b5d4e6f8a9b0c1d2e3f4a5b-c.crm.dynamics.com/.default',
    );
  });
  it('does not guess for other clouds or other origins', () => {
    expect(messagingScopeFor('https://contoso.crm.microsoftdynamics.us', org)).toBeUndefined();
    expect(messagingScopeFor('http://127.0.0.1:4011', org)).toBeUndefined();
  });
});
