import { AppError } from '../common/errors.js';
import type { IntegrationSettings } from '../settings/settings.entity.js';
import type { Credentials } from '../verification/credential-verifier.service.js';
import { normaliseEnvironmentUrl } from './environment-url.js';
import type { IntegrationCredentialsDto } from './integration.dto.js';

/** The normalised credentials to verify, and the optional settings as they will be stored. */
export interface ResolvedInput {
  credentials: Credentials;
  secretProvided: boolean;
  secretExpiresAt: Date | null;
  defaultPriority: number;
  defaultOwnerId: string | null;
  defaultQueueId: string | null;
  defaultWorkstreamId: string | null;
  ticketProperties: Record<string, unknown>;
}

/**
 * Checks what class-validator cannot (the environment URL against the configured origins, a
 * secret to use) and fills omitted fields from the stored row: omitted keeps, null clears.
 * Throws 400 validation_failed before anything reaches Microsoft.
 */
export function resolveInput(
  dto: IntegrationCredentialsDto,
  existing: IntegrationSettings | null,
  storedSecret: () => string,
  allowedOrigins: string[],
): ResolvedInput {
  const problems: { field: string; message: string }[] = [];
  const environment = normaliseEnvironmentUrl(dto.environment_url, allowedOrigins);
  if ('problem' in environment)
    problems.push({ field: 'environment_url', message: `environment_url ${environment.problem}` });
  if (dto.client_secret === undefined && !existing) {
    problems.push({ field: 'client_secret', message: 'client_secret is required: no secret is stored yet' });
  }
  if (problems.length > 0 || 'problem' in environment) throw AppError.validation(problems);

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

  return {
    credentials: {
      clientId: dto.client_id.trim().toLowerCase(),
      clientSecret: dto.client_secret ?? storedSecret(),
      tenantId: dto.tenant_id.trim().toLowerCase(),
      environmentUrl: environment.url,
    },
    secretProvided: dto.client_secret !== undefined,
    secretExpiresAt: keep('secret_expires_at', existing?.secretExpiresAt ?? null, null, (v) => new Date(v)),
    defaultPriority: keep('default_priority', existing?.defaultPriority ?? 2, 2, (v) => v),
    defaultOwnerId: keep('default_owner_id', existing?.defaultOwnerId ?? null, null, (v) => v.toLowerCase()),
    defaultQueueId: keep('default_queue_id', existing?.defaultQueueId ?? null, null, (v) => v.toLowerCase()),
    defaultWorkstreamId: keep('default_workstream_id', existing?.defaultWorkstreamId ?? null, null, (v) =>
      v.toLowerCase(),
    ),
    ticketProperties: keep('ticket_properties', existing?.ticketProperties ?? {}, {}, (v) => v),
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
