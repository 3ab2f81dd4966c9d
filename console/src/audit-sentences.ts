// The audit log as an admin reads it: each event as one sentence, each action by a name. Pure
// functions (no DOM), so every sentence is checked in a unit test.

export interface AuditEventView {
  action: string;
  actor: { type: 'user' | 'system'; id: string | null; name: string | null };
  details: Record<string, unknown>;
}

/** Every action the log records (the API's AUDIT_ACTIONS), by the name the filter shows. */
export const ACTION_NAMES: Record<string, string> = {
  'integration.saved': 'Connection saved',
  'integration.save_rejected': 'Save refused by Microsoft',
  'integration.disconnected': 'Disconnected',
  'integration.certificate_created': 'Certificate created',
  'integration.status_changed': 'Status changed',
  'integration.readiness_changed': 'Readiness changed',
  'notifications.changed': 'Notifications changed',
  'customer_data.erased': 'Customer data erased',
};

const STAGES: Record<string, string> = {
  token_exchange: 'the token exchange with Microsoft Entra ID',
  dynamics_probe: 'the Dynamics 365 probe',
  messaging_token: 'the Messaging API token',
};
const STATUSES: Record<string, string> = { active: 'Active', invalid: 'Invalid', unreachable: 'Unreachable' };
const FIELDS: Record<string, string> = {
  client_id: 'client ID',
  client_secret: 'client secret',
  certificate: 'certificate',
  certificate_id: 'certificate',
  credential_type: 'credential type',
  tenant_id: 'tenant ID',
  environment_url: 'environment URL',
  secret_expires_at: 'secret expiry',
  default_priority: 'case priority',
  default_owner_id: 'case owner',
  default_queue_id: 'queue',
  default_workstream_id: 'workstream',
  ticket_properties: 'ticket properties',
  messaging_endpoint: 'messaging endpoint',
  messaging_channel_id: 'messaging channel',
  messaging_organization_id: 'organization ID',
  messaging_scope: 'messaging scope',
  messaging_webhook_audience: 'webhook audience',
  messaging_webhook_caller_id: 'webhook caller',
  emails: 'e-mail recipients',
  webhook_url: 'webhook',
  events: 'events',
};

/** Who did it, as the log shows it (and as the "Who" filter matches it). */
export function actorName(event: Pick<AuditEventView, 'actor'>): string {
  if (event.actor.type === 'system') return 'System';
  return event.actor.name ?? event.actor.id ?? 'Someone';
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value === undefined || value === null ? '' : JSON.stringify(value);
}

function list(values: unknown): string {
  const names = (Array.isArray(values) ? values : []).map((v) => FIELDS[text(v)] ?? text(v));
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** One sentence for an event; never a secret (the API stores none). */
export function auditSentence(event: AuditEventView): string {
  const who = actorName(event);
  const d = event.details;
  const code = d.code ? ` (${text(d.code)})` : '';
  switch (event.action) {
    case 'integration.saved':
      if (d.created) return `${who} connected Dynamics 365 (environment ${text(d.environment_url)}).`;
      if (d.secret_rotated && d.credential_type === 'certificate') {
        return d.previous_certificate_thumbprint
          ? `${who} switched to a new certificate (thumbprint ${text(d.certificate_thumbprint)}, was ${text(d.previous_certificate_thumbprint)}).`
          : `${who} switched from a client secret to a certificate (thumbprint ${text(d.certificate_thumbprint)}).`;
      }
      if (d.secret_rotated) {
        return `${who} rotated the client secret (now ${text(d.client_secret_hint)}…, was ${text(d.previous_client_secret_hint)}…).`;
      }
      return `${who} changed the connection: ${list(d.changed_fields) || 'nothing'}.`;
    case 'integration.save_rejected':
      return `${who} tried to connect ${text(d.environment_url)}; Microsoft refused at ${STAGES[text(d.stage)] ?? text(d.stage)}${code}. Nothing was saved.`;
    case 'integration.certificate_created':
      return `${who} ${d.source === 'imported' ? 'imported' : 'generated'} a certificate (thumbprint ${text(d.thumbprint)}, valid until ${text(d.not_after).slice(0, 10)}).`;
    case 'integration.disconnected':
      return `${who} disconnected Dynamics 365 (environment ${text(d.environment_url)}).`;
    case 'integration.status_changed': {
      const to = STATUSES[text(d.to)] ?? text(d.to);
      const from = STATUSES[text(d.from)] ?? text(d.from);
      const by = event.actor.type === 'system' ? 'A scheduled check' : who;
      const cause = d.to === 'active' ? '' : ` at ${STAGES[text(d.stage)] ?? text(d.stage)}${code}`;
      return `${by} found the connection ${to} (it was ${from})${cause}.`;
    }
    case 'integration.readiness_changed':
      return d.ready
        ? 'The connection became ready for handoffs.'
        : `The connection is not ready for handoffs: ${list(d.failing) || 'see the checklist'}.`;
    case 'notifications.changed':
      return `${who} changed the notifications: ${list(d.changed_fields) || 'nothing'}.`;
    case 'customer_data.erased':
      return `${who} erased a customer's data (by ${text(d.identifier)}): ${text(d.handoffs_erased)} handoffs.`;
    default:
      return `${who}: ${event.action}.`;
  }
}
