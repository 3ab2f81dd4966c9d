import { startTestApp, TestApp } from './support/app.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

type Body = Record<string, unknown>;

describe('Test & Save input validation: 400 before any call to Microsoft', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  let token: string;
  let valid: Body;

  beforeAll(async () => {
    ms = await startMicrosoft();
    t = await startTestApp({ env: ms.env });
    token = await t.token({ org: 'validation-org' });
    valid = {
      client_id: ms.app.clientId,
      client_secret: ms.secret.value,
      tenant_id: ms.tenant.id,
      environment_url: ms.environment.origin,
    };
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  const url = (value: unknown) => (body: Body) => ({ ...body, environment_url: value });
  const set = (field: string, value: unknown) => (body: Body) => ({ ...body, [field]: value });
  const without = (field: string) => (body: Body) =>
    Object.fromEntries(Object.entries(body).filter(([k]) => k !== field));

  const corpus: [string, (body: Body) => unknown, string][] = [
    ['http scheme', url('http://contoso.crm.dynamics.com'), 'environment_url'],
    ['cloud metadata IP', url('https://169.254.169.254'), 'environment_url'],
    ['loopback IP', url('https://127.0.0.1'), 'environment_url'],
    ['IPv6 loopback', url('https://[::1]'), 'environment_url'],
    ['private IP', url('https://10.0.0.5'), 'environment_url'],
    ['decimal IP', url('https://2130706433'), 'environment_url'],
    ['hex IP', url('https://0x7f000001'), 'environment_url'],
    ['localhost', url('https://localhost'), 'environment_url'],
    ['port', url('https://contoso.crm.dynamics.com:8443'), 'environment_url'],
    ['explicit :443', url('https://contoso.crm.dynamics.com:443'), 'environment_url'],
    ['user info', url('https://user:pass@contoso.crm.dynamics.com'), 'environment_url'],
    ['user info hiding the host', url('https://contoso.crm.dynamics.com@evil.example'), 'environment_url'],
    ['suffix as subdomain', url('https://contoso.crm.dynamics.com.evil.example'), 'environment_url'],
    ['suffix in the path', url('https://evil.example/contoso.crm.dynamics.com'), 'environment_url'],
    ['path', url('https://contoso.crm.dynamics.com/main.aspx'), 'environment_url'],
    ['Web API path', url('https://contoso.crm.dynamics.com/api/data/v9.2'), 'environment_url'],
    ['query', url('https://contoso.crm.dynamics.com?x=1'), 'environment_url'],
    ['fragment', url('https://contoso.crm.dynamics.com#top'), 'environment_url'],
    ['look-alike domain', url('https://contoso.crm.dynamlcs.com'), 'environment_url'],
    ['homoglyph in the suffix', url('https://contoso.crm.dynamіcs.com'), 'environment_url'],
    ['test ring crm10', url('https://contoso.crm10.dynamics.com'), 'environment_url'],
    ['unknown region crm13', url('https://contoso.crm13.dynamics.com'), 'environment_url'],
    ['no org label', url('https://crm.dynamics.com'), 'environment_url'],
    ['discovery host', url('https://globaldisco.crm.dynamics.com'), 'environment_url'],
    ['nested label', url('https://a.b.crm.dynamics.com'), 'environment_url'],
    ['retired German cloud', url('https://contoso.crm.microsoftdynamics.de'), 'environment_url'],
    ['file URL', url('file:///etc/passwd'), 'environment_url'],
    ['javascript URL', url('javascript:alert(1)'), 'environment_url'],
    ['gopher URL', url('gopher://contoso.crm.dynamics.com'), 'environment_url'],
    ['no scheme', url('contoso.crm.dynamics.com'), 'environment_url'],
    ['loopback origin not in the allow-list', url('http://127.0.0.1:1'), 'environment_url'],
    ['empty URL', url(''), 'environment_url'],
    ['blank URL', url('   '), 'environment_url'],
    ['URL as a number', url(42), 'environment_url'],
    ['URL missing', without('environment_url'), 'environment_url'],
    ['client_id not a GUID', set('client_id', 'my-app'), 'client_id'],
    ['client_id empty GUID', set('client_id', '00000000-0000-0000-0000-000000000000'), 'client_id'],
    ['client_id as a number', set('client_id', 123), 'client_id'],
    ['client_id missing', without('client_id'), 'client_id'],
    ['tenant common', set('tenant_id', 'common'), 'tenant_id'],
    ['tenant organizations', set('tenant_id', 'organizations'), 'tenant_id'],
    ['tenant consumers', set('tenant_id', 'Consumers'), 'tenant_id'],
    ['tenant placeholder', set('tenant_id', '{{tenantid}}'), 'tenant_id'],
    ['tenant empty', set('tenant_id', ''), 'tenant_id'],
    ['tenant as an array', set('tenant_id', ['a']), 'tenant_id'],
    ['tenant empty GUID', set('tenant_id', '00000000-0000-0000-0000-000000000000'), 'tenant_id'],
    ['secret empty', set('client_secret', ''), 'client_secret'],
    ['secret as a number', set('client_secret', 12345), 'client_secret'],
    ['secret with spaces around', set('client_secret', ' abc '), 'client_secret'],
    ['priority 0', set('default_priority', 0), 'default_priority'],
    ['priority 5', set('default_priority', 5), 'default_priority'],
    ['priority as a string', set('default_priority', '2'), 'default_priority'],
    ['priority fractional', set('default_priority', 1.5), 'default_priority'],
    ['owner not a GUID', set('default_owner_id', 'dana'), 'default_owner_id'],
    ['queue as a number', set('default_queue_id', 42), 'default_queue_id'],
    ['workstream not a GUID', set('default_workstream_id', 'ws-1'), 'default_workstream_id'],
    ['ticket_properties array', set('ticket_properties', [1]), 'ticket_properties'],
    ['ticket_properties string', set('ticket_properties', '{"a":1}'), 'ticket_properties'],
    ['ticket_properties overriding the title', set('ticket_properties', { title: 'x' }), 'ticket_properties'],
    ['ticket_properties bad column name', set('ticket_properties', { 'bad key': 1 }), 'ticket_properties'],
    [
      'ticket_properties nested value',
      set('ticket_properties', { casetypecode: { value: 1 } }),
      'ticket_properties',
    ],
    ...[
      'Title',
      'owninguser@odata.bind',
      'statecode',
      'CustomerId_Account@odata.bind',
      'PriorityCode',
      'ownerid_systemuser@odata.bind',
      'StatusCode',
      'routecase',
      'caseorigincode',
    ].map(
      (key) =>
        [
          `ticket_properties setting ${key}`,
          set('ticket_properties', {
            [key]: key.endsWith('bind') ? '/systemusers(1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b)' : 1,
          }),
          'ticket_properties',
        ] as [string, (body: Body) => unknown, string],
    ),
    [
      'ticket_properties read-only lookup value',
      set('ticket_properties', { _parentcaseid_value: 'x' }),
      'ticket_properties',
    ],
    [
      'ticket_properties column in upper case',
      set('ticket_properties', { CaseTypeCode: 1 }),
      'ticket_properties',
    ],
    [
      'ticket_properties bind to a non-path',
      set('ticket_properties', { 'parentcaseid@odata.bind': 'case-1' }),
      'ticket_properties',
    ],
    [
      'ticket_properties bind as a number',
      set('ticket_properties', { 'parentcaseid@odata.bind': 7 }),
      'ticket_properties',
    ],
    [
      'ticket_properties value with NUL',
      set('ticket_properties', { new_note: 'a\u0000b' }),
      'ticket_properties.new_note',
    ],
    [
      'ticket_properties value with a lone surrogate',
      set('ticket_properties', { new_note: 'a\ud800b' }),
      'ticket_properties.new_note',
    ],
    ['ticket_properties key with NUL', set('ticket_properties', { 'a\u0000': 1 }), 'ticket_properties'],
    ['secret starting with NUL', set('client_secret', '\u0000abc'), 'client_secret'],
    ['secret with an emoji', set('client_secret', 'ab\ud83d\ude00cd'), 'client_secret'],
    ['secret with a lone surrogate', set('client_secret', 'ab\udc00cd'), 'client_secret'],
    ['secret with a newline inside', set('client_secret', 'ab\ncd'), 'client_secret'],
    ['expiry not a date', set('secret_expires_at', 'tomorrow'), 'secret_expires_at'],
    ['unknown field', set('extra', true), 'extra'],
    ['read-only field', set('client_secret_hint', 'abc'), 'client_secret_hint'],
    ['status field', set('status', 'active'), 'status'],
  ];

  it(`has at least 40 cases (${corpus.length})`, () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
  });

  it.each(corpus.map(([title, mutate, field]) => [title, field, mutate] as const))(
    '%s → 400 naming %s, nothing sent to Microsoft',
    async (_, field, mutate) => {
      const received = ms.mark();
      const response = await t.request('/api/v1/integrations/dynamics365', {
        method: 'PUT',
        token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(mutate(valid)),
      });
      const body = (await response.json()) as { error: { code: string; details: { field: string }[] } };
      expect([response.status, body.error.code]).toEqual([400, 'validation_failed']);
      expect(body.error.details.map((d) => d.field)).toContain(field);
      expect(received()).toEqual([]);
    },
  );

  it.each([
    ['malformed JSON', '{"client_id": '],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['a JSON string', '"hello"'],
  ])('%s → 400, nothing sent', async (_, raw) => {
    const received = ms.mark();
    const response = await t.request('/api/v1/integrations/dynamics365', {
      method: 'PUT',
      token,
      headers: { 'content-type': 'application/json' },
      body: raw,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    expect(received()).toEqual([]);
  });

  it('a ticket_properties value nested 5,000 deep → 400 naming it, nothing sent', async () => {
    const received = ms.mark();
    const { ticket_properties: _, ...rest } = valid;
    const raw = `${JSON.stringify(rest).slice(0, -1)},"ticket_properties":{"deep":${'['.repeat(5000)}${']'.repeat(5000)}}}`;
    const response = await t.request('/api/v1/integrations/dynamics365', {
      method: 'PUT',
      token,
      headers: { 'content-type': 'application/json' },
      body: raw,
    });
    const body = (await response.json()) as {
      error: { code: string; details: { field: string; message: string }[] };
    };
    expect([response.status, body.error.code]).toEqual([400, 'validation_failed']);
    expect(body.error.details[0].field).toMatch(/^ticket_properties\.deep(\[0\])+$/);
    expect(body.error.details[0].message).toMatch(/nested too deeply/);
    expect(received()).toEqual([]);
  });

  it('the test endpoint validates the same way', async () => {
    const received = ms.mark();
    const response = await t.request('/api/v1/integrations/dynamics365/test', {
      method: 'POST',
      token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...valid, environment_url: 'https://169.254.169.254' }),
    });
    expect(response.status).toBe(400);
    expect(received()).toEqual([]);
  });

  it('requires a secret when none is stored yet', async () => {
    const received = ms.mark();
    const response = await t.request('/api/v1/integrations/dynamics365', {
      method: 'PUT',
      token,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(without('client_secret')(valid)),
    });
    const body = (await response.json()) as { error: { details: { field: string; message: string }[] } };
    expect(response.status).toBe(400);
    expect(body.error.details).toEqual([
      {
        field: 'client_secret',
        message: 'client_secret (or certificate_id) is required: no credential is stored yet',
      },
    ]);
    expect(received()).toEqual([]);
  });
});
