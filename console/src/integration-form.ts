// The Configure form as the API's body: every value read as typed, checked as the server will check
// it again (GUIDs, the tenant, the environment URL, JSON). Pure — no DOM — and unit tested.

export type Field =
  | 'client_id'
  | 'client_secret'
  | 'certificate_id'
  | 'tenant_id'
  | 'environment_url'
  | 'secret_expires_at'
  | 'default_priority'
  | 'default_owner_id'
  | 'default_queue_id'
  | 'default_workstream_id'
  | 'ticket_properties'
  | 'messaging_endpoint'
  | 'messaging_channel_id'
  | 'messaging_organization_id'
  | 'messaging_scope'
  | 'messaging_webhook_audience'
  | 'messaging_webhook_caller_id';

/** The form's values as typed (the select and the textarea's too), by field. */
export type FormValues = Record<Field, string>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** How the app proves itself: a client secret, or a certificate made in the console. */
export type Credential = 'client_secret' | 'certificate';

/**
 * The body of `PUT …/dynamics365` (or `POST …/test`) and the problems found, by field; `body` is
 * null when there is any. `stored`: the credential the connection has (null: none yet), kept when
 * the same kind is chosen and its field left empty; `credential`: the kind chosen in the form.
 */
export function formBody(
  values: FormValues,
  stored: Credential | null,
  credential: Credential = 'client_secret',
): { body: Record<string, unknown> | null; problems: Partial<Record<Field, string>> } {
  const value = (name: Field) => values[name].trim();
  const problems: Partial<Record<Field, string>> = {};
  const body: Record<string, unknown> = {
    client_id: value('client_id'),
    tenant_id: value('tenant_id'),
    environment_url: value('environment_url').replace(/\/+$/, ''),
  };
  if (!GUID.test(body.client_id as string))
    problems.client_id = 'Client ID must be a GUID such as 1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b.';
  if (!GUID.test(body.tenant_id as string) && !DOMAIN.test(body.tenant_id as string)) {
    problems.tenant_id =
      'Tenant ID must be the Directory (tenant) ID (a GUID) or a domain such as contoso.onmicrosoft.com.';
  }
  const url = body.environment_url as string;
  if (!URL.canParse(url))
    problems.environment_url = 'Environment URL must be a URL such as https://yourorg.crm.dynamics.com.';
  else {
    const parsed = new URL(url);
    if (parsed.pathname !== '/' || parsed.search || parsed.hash) {
      problems.environment_url = 'Environment URL must be only the address, without a path.';
    }
  }
  if (credential === 'certificate') {
    // A certificate's expiry is its own: no date is sent.
    const id = value('certificate_id');
    if (id) body.certificate_id = id;
    else if (stored !== 'certificate') {
      problems.certificate_id =
        'Generate a certificate, upload it to the app registration, then Test & Save.';
    }
  } else {
    // The secret as typed, never trimmed: it is Microsoft's to judge.
    const secret = values.client_secret;
    if (secret) body.client_secret = secret;
    else if (stored !== 'client_secret') problems.client_secret = "Paste the client secret's Value.";
    const expires = value('secret_expires_at');
    body.secret_expires_at = expires ? new Date(`${expires}T00:00:00Z`).toISOString() : null;
  }
  body.default_priority = Number(value('default_priority') || 2);
  for (const name of [
    'default_owner_id',
    'default_queue_id',
    'default_workstream_id',
    'messaging_channel_id',
    'messaging_organization_id',
    'messaging_webhook_caller_id',
  ] as const) {
    const v = value(name);
    if (v && !GUID.test(v)) problems[name] = 'Must be a GUID.';
    body[name] = v || null;
  }
  body.messaging_endpoint = value('messaging_endpoint') || null;
  body.messaging_scope = value('messaging_scope') || null;
  body.messaging_webhook_audience = value('messaging_webhook_audience') || null;
  const properties = value('ticket_properties');
  if (properties) {
    try {
      const parsed = JSON.parse(properties) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
      body.ticket_properties = parsed;
    } catch {
      problems.ticket_properties = 'Ticket properties must be a JSON object, e.g. {"casetypecode": 1}.';
    }
  } else {
    body.ticket_properties = null;
  }
  return { body: Object.keys(problems).length ? null : body, problems };
}
