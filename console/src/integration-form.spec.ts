import { formBody, FormValues } from './integration-form.js';

const GUID = '1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b';
const empty = {
  client_id: GUID,
  client_secret: 'Abc8Q~value ',
  certificate_id: '',
  tenant_id: 'contoso.onmicrosoft.com',
  environment_url: 'https://contoso.crm.dynamics.com/',
  secret_expires_at: '',
  default_priority: '3',
  default_owner_id: '',
  default_queue_id: '',
  default_workstream_id: '',
  ticket_properties: '',
  messaging_endpoint: '',
  messaging_channel_id: '',
  messaging_organization_id: '',
  messaging_scope: '',
  messaging_webhook_audience: '',
  messaging_webhook_caller_id: '',
} satisfies FormValues;

describe('formBody', () => {
  it('makes the API body: trimmed values, the URL without its slash, the secret as typed, nulls for empty options', () => {
    const { body, problems } = formBody({ ...empty, client_id: ` ${GUID} ` }, null);
    expect(problems).toEqual({});
    expect(body).toMatchObject({
      client_id: GUID,
      client_secret: 'Abc8Q~value ',
      tenant_id: 'contoso.onmicrosoft.com',
      environment_url: 'https://contoso.crm.dynamics.com',
      default_priority: 3,
      default_owner_id: null,
      ticket_properties: null,
      messaging_endpoint: null,
    });
  });

  it('names each field the server would refuse, and sends nothing', () => {
    const { body, problems } = formBody(
      {
        ...empty,
        client_id: 'not-a-guid',
        client_secret: '',
        tenant_id: 'not a tenant',
        environment_url: 'https://contoso.crm.dynamics.com/main.aspx',
        default_queue_id: '42',
        ticket_properties: '[1]',
      },
      null,
    );
    expect(body).toBeNull();
    expect(Object.keys(problems).sort()).toEqual(
      [
        'client_id',
        'client_secret',
        'default_queue_id',
        'environment_url',
        'tenant_id',
        'ticket_properties',
      ].sort(),
    );
    expect(problems.environment_url).toMatch(/without a path/);
  });

  it('keeps the stored secret when connected and the field is left empty', () => {
    const { body, problems } = formBody({ ...empty, client_secret: '' }, 'client_secret');
    expect(problems).toEqual({});
    expect(body).not.toHaveProperty('client_secret');
  });

  it('reads the expiry date as midnight UTC and ticket properties as a JSON object', () => {
    const { body } = formBody(
      { ...empty, secret_expires_at: '2027-03-01', ticket_properties: '{"casetypecode": 1}' },
      null,
    );
    expect(body).toMatchObject({
      secret_expires_at: '2027-03-01T00:00:00.000Z',
      ticket_properties: { casetypecode: 1 },
    });
  });

  it('with a certificate: sends its id and no secret or date; keeps a stored one; asks for one otherwise', () => {
    const chosen = formBody(
      { ...empty, certificate_id: GUID, secret_expires_at: '2027-03-01' },
      null,
      'certificate',
    );
    expect(chosen.body).toMatchObject({ certificate_id: GUID });
    expect(chosen.body).not.toHaveProperty('client_secret');
    expect(chosen.body).not.toHaveProperty('secret_expires_at');
    expect(formBody({ ...empty, certificate_id: '' }, 'certificate', 'certificate').problems).toEqual({});
    expect(
      Object.keys(formBody({ ...empty, certificate_id: '' }, 'client_secret', 'certificate').problems),
    ).toEqual(['certificate_id']);
    // Back from a certificate to a secret: a secret must be pasted.
    expect(Object.keys(formBody({ ...empty, client_secret: '' }, 'certificate').problems)).toEqual([
      'client_secret',
    ]);
  });
});
