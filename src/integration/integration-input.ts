import { AppError } from '../common/errors.js';
import type { IntegrationSettings } from '../settings/settings.entity.js';
import type { Credentials } from '../verification/credential-verifier.js';
import type { AppCredential } from '../microsoft/auth/entra-token.client.js';
import type { CertificateFacts } from '../settings/certificates.js';
import { messagingScopeFor } from '../microsoft/dynamics-domains.js';
import { normaliseEnvironmentUrl, normaliseMessagingEndpoint } from './environment-url.js';
import type { IntegrationCredentialsDto } from './integration.dto.js';

/** A certificate named by `certificate_id`: made for this org and not saved yet, or the stored one. */
export interface NamedCertificate {
  id: string;
  privateKeyPem: string;
  facts: CertificateFacts;
  /** pending: from POST …/certificate (deleted once saved); stored: the connection's own. */
  source: 'pending' | 'stored';
}

/** The normalised credentials to verify, and the optional settings as they will be stored. */
export interface ResolvedInput {
  credentials: Credentials;
  /** The credential the request gave (null: the stored one is kept). */
  credentialGiven: { type: 'client_secret' } | { type: 'certificate'; certificate: NamedCertificate } | null;
  secretExpiresAt: Date | null;
  defaultPriority: number;
  defaultOwnerId: string | null;
  defaultQueueId: string | null;
  defaultWorkstreamId: string | null;
  ticketProperties: Record<string, unknown>;
  /** Omnichannel messaging as stored (`scope` null: derived), or none. */
  messaging: MessagingInput | null;
}

interface MessagingInput {
  endpoint: string;
  channelId: string;
  organizationId: string;
  scope: string | null;
  /** Who may call the messaging webhook (null: api://<client_id>, and the org's client id). */
  webhookAudience: string | null;
  webhookCallerId: string | null;
}

/**
 * Checks what class-validator cannot (the environment URL against the configured origins, a
 * secret to use) and fills omitted fields from the stored row: omitted keeps, null clears.
 * Throws 400 validation_failed before anything reaches Microsoft.
 */
export function resolveInput(
  dto: IntegrationCredentialsDto,
  existing: IntegrationSettings | null,
  storedCredential: () => AppCredential,
  certificate: NamedCertificate | null,
  allowedOrigins: string[],
): ResolvedInput {
  const problems: { field: string; message: string }[] = [];
  const environment = normaliseEnvironmentUrl(dto.environment_url, allowedOrigins);
  if ('problem' in environment)
    problems.push({ field: 'environment_url', message: `environment_url ${environment.problem}` });
  if (dto.client_secret !== undefined && dto.certificate_id !== undefined) {
    problems.push({
      field: 'certificate_id',
      message: 'send client_secret or certificate_id, not both: a connection uses one credential',
    });
  } else if (dto.client_secret === undefined && dto.certificate_id === undefined && !existing) {
    problems.push({
      field: 'client_secret',
      message: 'client_secret (or certificate_id) is required: no credential is stored yet',
    });
  }
  const usesCertificate =
    dto.certificate_id !== undefined ||
    (dto.client_secret === undefined && existing?.credentialType === 'certificate');
  if (usesCertificate && dto.secret_expires_at !== undefined && dto.secret_expires_at !== null) {
    problems.push({
      field: 'secret_expires_at',
      message: 'secret_expires_at does not apply to a certificate: its expiry is read from the certificate',
    });
  }
  if (problems.length > 0 || 'problem' in environment) throw AppError.validation(problems);
  const messaging = resolveMessaging(dto, existing, environment.url, allowedOrigins);

  const keep = <K extends keyof IntegrationCredentialsDto, V>(
    key: K,
    stored: V,
    fallback: V,
    map: (v: NonNullable<IntegrationCredentialsDto[K]>) => V,
  ): V => {
    const value = dto[key];
    if (value === undefined) return existing ? stored : fallback;
    if (value === null) return fallback;
    return map(value);
  };

  const defaultOwnerId = keep('default_owner_id', existing?.defaultOwnerId ?? null, null, (v) =>
    v.toLowerCase(),
  );
  const defaultQueueId = keep('default_queue_id', existing?.defaultQueueId ?? null, null, (v) =>
    v.toLowerCase(),
  );
  const defaultWorkstreamId = keep(
    'default_workstream_id',
    existing?.defaultWorkstreamId ?? null,
    null,
    (v) => v.toLowerCase(),
  );
  const credential: AppCredential = certificate
    ? {
        type: 'certificate',
        privateKeyPem: certificate.privateKeyPem,
        thumbprintSha256: certificate.facts.thumbprintSha256,
        thumbprint: certificate.facts.thumbprint,
      }
    : dto.client_secret !== undefined
      ? { type: 'client_secret', secret: dto.client_secret }
      : storedCredential();
  return {
    credentials: {
      clientId: dto.client_id.trim().toLowerCase(),
      credential,
      tenantId: dto.tenant_id.trim().toLowerCase(),
      environmentUrl: environment.url,
      messagingScope: messaging
        ? (messaging.scope ?? messagingScopeFor(environment.url, messaging.organizationId))
        : undefined,
      readiness: {
        defaultOwnerId,
        defaultQueueId,
        defaultWorkstreamId,
        messaging: messaging
          ? {
              endpoint: messaging.endpoint,
              channelId: messaging.channelId,
              organizationId: messaging.organizationId,
            }
          : null,
      },
    },
    credentialGiven: certificate
      ? { type: 'certificate', certificate }
      : dto.client_secret !== undefined
        ? { type: 'client_secret' }
        : null,
    secretExpiresAt: usesCertificate
      ? (certificate?.facts.notAfter ?? existing?.secretExpiresAt ?? null)
      : keep(
          'secret_expires_at',
          existing?.credentialType !== 'certificate' ? (existing?.secretExpiresAt ?? null) : null,
          null,
          (v) => new Date(v),
        ),
    defaultPriority: keep('default_priority', existing?.defaultPriority ?? 2, 2, (v) => v),
    defaultOwnerId,
    defaultQueueId,
    defaultWorkstreamId,
    ticketProperties: keep('ticket_properties', existing?.ticketProperties ?? {}, {}, (v) => v),
    messaging,
  };
}

/**
 * The messaging fields: each omitted keeps its stored value, null clears it; the endpoint, the
 * channel and the organization go together (all or none); the scope is derived when not given,
 * where Microsoft documents how (public cloud).
 */
function resolveMessaging(
  dto: IntegrationCredentialsDto,
  existing: IntegrationSettings | null,
  environmentUrl: string,
  allowedOrigins: string[],
): MessagingInput | null {
  const pick = <
    K extends
      | 'messaging_endpoint'
      | 'messaging_channel_id'
      | 'messaging_organization_id'
      | 'messaging_scope'
      | 'messaging_webhook_audience'
      | 'messaging_webhook_caller_id',
  >(
    key: K,
    stored: string | null | undefined,
  ): string | null => {
    const value = dto[key];
    if (value === undefined) return stored ?? null;
    return value === null ? null : value.trim();
  };
  const endpoint = pick('messaging_endpoint', existing?.messagingEndpoint);
  const channelId = pick('messaging_channel_id', existing?.messagingChannelId)?.toLowerCase() ?? null;
  const organizationId =
    pick('messaging_organization_id', existing?.messagingOrganizationId)?.toLowerCase() ?? null;
  const scope = pick('messaging_scope', existing?.messagingScope);
  const webhookAudience = pick('messaging_webhook_audience', existing?.messagingWebhookAudience);
  const webhookCallerId =
    pick('messaging_webhook_caller_id', existing?.messagingWebhookCallerId)?.toLowerCase() ?? null;
  const given = {
    messaging_endpoint: endpoint,
    messaging_channel_id: channelId,
    messaging_organization_id: organizationId,
  };
  const missing = Object.entries(given)
    .filter(([, value]) => value === null)
    .map(([field]) => field);
  if (missing.length === 3) {
    const orphans = (
      ['messaging_scope', 'messaging_webhook_audience', 'messaging_webhook_caller_id'] as const
    ).filter((field) => dto[field] !== undefined && dto[field] !== null);
    if (orphans.length > 0) {
      throw AppError.validation(
        orphans.map((field) => ({
          field,
          message: `${field} needs messaging_endpoint, messaging_channel_id and messaging_organization_id`,
        })),
      );
    }
    return null;
  }
  if (missing.length > 0) {
    throw AppError.validation(
      missing.map((field) => ({
        field,
        message: `${field} is required with the other messaging settings (set all of messaging_endpoint, messaging_channel_id and messaging_organization_id, or none)`,
      })),
    );
  }
  const normalised = normaliseMessagingEndpoint(endpoint!, allowedOrigins);
  if ('problem' in normalised) {
    throw AppError.validation([
      { field: 'messaging_endpoint', message: `messaging_endpoint ${normalised.problem}` },
    ]);
  }
  if (scope === null && !messagingScopeFor(environmentUrl, organizationId!)) {
    throw AppError.validation([
      {
        field: 'messaging_scope',
        message: `messaging_scope is required: it cannot be derived from ${environmentUrl} (only for *.crm*.dynamics.com environments)`,
      },
    ]);
  }
  return {
    endpoint: normalised.url,
    channelId: channelId!,
    organizationId: organizationId!,
    scope,
    webhookAudience,
    webhookCallerId,
  };
}

/** The version an If-Match header names: a number, `*` (any stored row), or none. Throws 400 when malformed. */
export function checkIfMatchSyntax(ifMatch: string | undefined): number | '*' | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '') return undefined;
  const value = ifMatch.trim();
  if (value === '*') return '*';
  const match = /^(?:W\/)?"?(\d{1,9})"?$/.exec(value);
  if (!match)
    throw AppError.validation([
      { field: 'If-Match', message: 'If-Match must be the version in quotes, e.g. "3"' },
    ]);
  return Number(match[1]);
}

/** `If-Match: "3"` (or W/"3", or 3): the version the caller last saw; `*`: any existing row. */
export function checkIfMatch(
  ifMatch: string | undefined,
  row: Pick<IntegrationSettings, 'version'> | null,
): void {
  const expected = checkIfMatchSyntax(ifMatch);
  if (expected === undefined) return;
  if (expected === '*') {
    if (!row) throw new AppError('conflict', 'If-Match: * but no Dynamics 365 connection is stored.');
    return;
  }
  if (!row || row.version !== expected) {
    throw new AppError(
      'conflict',
      row
        ? `The connection was changed since version ${expected} (it is now version ${row.version}); reload and try again.`
        : `If-Match names version ${expected} but no Dynamics 365 connection is stored.`,
    );
  }
}
