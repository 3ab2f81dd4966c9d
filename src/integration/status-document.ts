import { messagingScopeFor } from '../microsoft/dynamics-domains.js';
import type { IntegrationSettings } from '../settings/settings.entity.js';
import { readCertificate } from '../settings/certificates.js';
import { expiryWarnings } from '../verification/status-rules.js';
import { IntegrationStatusDto } from './integration.dto.js';

/** The fields an admin sets, as the API names them (the messaging scope as stored). */
export function adminFields(row: IntegrationSettings) {
  return {
    client_id: row.clientId,
    tenant_id: row.tenantId,
    environment_url: row.environmentUrl,
    credential_type: row.credentialType,
    certificate_id: row.certificateId,
    secret_expires_at: row.secretExpiresAt?.toISOString() ?? null,
    default_priority: row.defaultPriority,
    default_owner_id: row.defaultOwnerId,
    default_queue_id: row.defaultQueueId,
    default_workstream_id: row.defaultWorkstreamId,
    ticket_properties: row.ticketProperties,
    messaging_endpoint: row.messagingEndpoint,
    messaging_channel_id: row.messagingChannelId,
    messaging_organization_id: row.messagingOrganizationId,
    messaging_scope: row.messagingScope,
    messaging_webhook_audience: row.messagingWebhookAudience,
    messaging_webhook_caller_id: row.messagingWebhookCallerId,
  };
}

function certificateSummary(pem: string) {
  const facts = readCertificate(pem);
  return {
    thumbprint: facts.thumbprint,
    subject: facts.subject,
    not_before: facts.notBefore.toISOString(),
    not_after: facts.notAfter.toISOString(),
  };
}

/** The public view of a settings row: every key present, never the secret. */
export function toStatusDocument(
  row: IntegrationSettings,
  { secretReadable = true, now = new Date() }: { secretReadable?: boolean; now?: Date } = {},
): IntegrationStatusDto {
  return {
    org_id: row.orgId,
    status: row.status,
    ...adminFields(row),
    client_secret_hint: row.clientSecretHint,
    certificate: row.certificatePem ? certificateSummary(row.certificatePem) : null,
    warnings: [
      ...expiryWarnings(row.secretExpiresAt, now, row.lastVerification?.upstream_code ?? null),
      ...(secretReadable ? [] : ['secret_undecryptable' as const]),
    ],
    // Shown as Microsoft's default for the organisation when none was stored.
    messaging_scope: row.messagingOrganizationId
      ? (row.messagingScope ?? messagingScopeFor(row.environmentUrl, row.messagingOrganizationId) ?? null)
      : null,
    last_verified_at: row.lastVerifiedAt?.toISOString() ?? null,
    last_verification: row.lastVerification,
    readiness: row.readiness,
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
