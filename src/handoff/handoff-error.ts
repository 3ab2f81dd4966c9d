// The one way a handoff's last_error is made: where it failed, Microsoft's status and code when
// Microsoft answered, what happened, and what to do.
import type { IntegrationSettings } from '../settings/settings.entity.js';
import type { HandoffError } from './handoff.types.js';

export function handoffError(
  stage: string,
  message: string,
  upstream: { status?: number | null; code?: string | null; hint?: string | null } = {},
): HandoffError {
  return {
    stage,
    upstream_status: upstream.status ?? null,
    upstream_code: upstream.code ?? null,
    message,
    hint: upstream.hint ?? null,
  };
}

export function expiredError(maxAgeMs: number): HandoffError {
  return handoffError(
    'queue',
    `Not delivered within HANDOFF_MAX_AGE (${Math.round(maxAgeMs / 60_000)} minutes) of being accepted.`,
  );
}

export function connectionInvalidError(settings: IntegrationSettings): HandoffError {
  const last = settings.lastVerification;
  return handoffError(
    last?.stage ?? 'dynamics_probe',
    'The Dynamics 365 connection is invalid: the last verification was rejected by Microsoft.',
    {
      status: last?.upstream_status,
      code: last?.upstream_code,
      hint:
        last?.hint ??
        'Fix the connection with Test & Save; held handoffs resume as soon as it is verified again.',
    },
  );
}
