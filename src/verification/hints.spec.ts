import { UpstreamFailure } from '../microsoft/upstream.js';
import { fieldFor, hintFor, HintInput } from './hints.js';

const input: HintInput = {
  clientId: '1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b',
  tenantId: '7b1c3f9e-2d4a-4c8b-9e6f-0a1b2c3d4e5f',
  credential: { type: 'client_secret', secret: 'Abc8Q~value' },
  environmentUrl: 'https://contoso.crm.dynamics.com',
};
const token = (code: string, status = 400) =>
  new UpstreamFailure('token_exchange', 'rejected', status, code, 'm', 1);
const probe = (status: number | null, code: string | null, message = 'm') =>
  new UpstreamFailure('dynamics_probe', 'rejected', status, code, message, 1);

describe('hintFor', () => {
  it.each([
    ['wrong secret', token('AADSTS7000215', 401), input, /client secret is wrong.*Value/],
    [
      'Secret ID pasted',
      token('AADSTS7000215', 401),
      {
        ...input,
        credential: { type: 'client_secret' as const, secret: 'a1a1a1a1-0000-4000-8000-000000000001' },
      },
      /looks like the Secret ID.*Value column/,
    ],
    ['expired secret', token('AADSTS7000222', 401), input, /expired.*Create a new client secret/],
    ['missing secret', token('AADSTS7000216', 401), input, /No client secret was sent/],
    [
      'app not in tenant',
      token('AADSTS700016'),
      input,
      /No application with client ID 1c8f2a4e.* exists in tenant 7b1c3f9e/,
    ],
    [
      'tenant not found',
      token('AADSTS90002'),
      input,
      /Tenant 7b1c3f9e.* was not found.*not the app's Object ID/,
    ],
    [
      'tenant = client id',
      token('AADSTS90002'),
      { ...input, tenantId: input.clientId },
      /same as the client ID.*Directory \(tenant\) ID/,
    ],
    ['malformed tenant', token('AADSTS900023'), input, /tenant ID is not valid/],
    ['disabled app', token('AADSTS7000112'), input, /application is disabled/],
    ['resource not in tenant', token('AADSTS500011'), input, /does not know the resource https:\/\/contoso/],
    ['bad scope', token('AADSTS1002012'), input, /refused the requested scope/],
    ['conditional access', token('AADSTS53003'), input, /Conditional Access/],
    ['unknown AADSTS', token('AADSTS99999'), input, /rejected the credentials \(AADSTS99999\)/],
    ['no application user', probe(403, '0x80072560'), input, /no Application User.*client ID 1c8f2a4e/],
    ['disabled application user', probe(403, '0x80040225'), input, /Application User is disabled/],
    [
      'missing privilege',
      probe(
        403,
        '0x80040220',
        'Principal user (Id=x, type=8) is missing prvReadIncident privilege (Id=y) on OTC=112',
      ),
      input,
      /lacks prvReadIncident.*Manage roles/,
    ],
    ['blocked by policy', probe(403, '0x80095ffc'), input, /policy blocks/],
    ['no Web API at the URL', probe(404, '0x8006088a'), input, /does not serve the Dataverse Web API/],
    ['token rejected by Dataverse', probe(401, null), input, /did not accept the token/],
    ['environment does not exist', probe(null, null), input, /does not exist/],
  ])('%s', (_, failure, hintInput, expected) => {
    expect(hintFor(failure, hintInput)).toMatch(expected);
  });

  it('says nothing was changed when Microsoft is unreachable', () => {
    const throttled = new UpstreamFailure('dynamics_probe', 'unreachable', 429, '0x80072322', 'm', 1);
    expect(hintFor(throttled, input)).toMatch(/throttling.*Nothing was changed/);
    const timeout = new UpstreamFailure('token_exchange', 'unreachable', null, null, 'm', 1);
    expect(hintFor(timeout, input)).toMatch(/Microsoft Entra ID did not answer in time.*Nothing was changed/);
    const outage = new UpstreamFailure('dynamics_probe', 'unreachable', 503, null, 'm', 1);
    expect(hintFor(outage, input)).toMatch(/HTTP 503.*Nothing was changed/);
  });
});

describe('fieldFor', () => {
  const messaging = (code: string) => new UpstreamFailure('messaging_token', 'rejected', 400, code, 'm', 1);
  it.each([
    ['wrong secret', token('AADSTS7000215', 401), 'client_secret'],
    ['expired secret', token('AADSTS7000222', 401), 'client_secret'],
    ['app not in tenant', token('AADSTS700016'), 'client_id'],
    ['tenant not found', token('AADSTS90002'), 'tenant_id'],
    ['tenant not valid', token('AADSTS900023'), 'tenant_id'],
    ['unknown resource', token('AADSTS500011'), 'environment_url'],
    ['bad scope', token('AADSTS70011'), 'environment_url'],
    ['conditional access', token('AADSTS53003'), null],
    ['environment does not resolve', probe(null, null), 'environment_url'],
    ['token not taken', probe(401, null), 'environment_url'],
    ['no Web API there', probe(404, '0x8006088a'), 'environment_url'],
    ['no application user', probe(403, '0x80072560'), null],
    ['missing privilege', probe(403, '0x80040220'), null],
    ['messaging resource unknown', messaging('AADSTS500011'), 'messaging_organization_id'],
    ['messaging scope refused', messaging('AADSTS70011'), 'messaging_scope'],
    ['messaging: wrong secret', messaging('AADSTS7000215'), 'client_secret'],
    ['unreachable', new UpstreamFailure('token_exchange', 'unreachable', 503, null, 'm', 1), null],
  ])('%s → %s', (_name, failure, field) => {
    expect(fieldFor(failure)).toBe(field);
  });
});
