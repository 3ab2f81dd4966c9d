// The rules that turn verification results into an org's status and warnings: pure functions,
// shared by Test & Save, POST /verify and the nightly sweep.
import type { VerificationResult } from './credential-verifier.js';
import type { IntegrationStatus, LastVerification } from '../settings/verification.types.js';

export interface StatusState {
  status: IntegrationStatus;
  consecutiveUnreachable: number;
}

/**
 * A pass makes the connection `active`; a rejection makes it `invalid` at once; an unreachable
 * outcome counts, and turns an active connection `unreachable` only after `threshold`
 * consecutive ones (one outage does not flip it). An invalid connection stays invalid until a pass.
 */
export function nextStatus(current: StatusState, result: VerificationResult, threshold: number): StatusState {
  if (result.ok) return { status: 'active', consecutiveUnreachable: 0 };
  if (result.failure.outcome === 'rejected') return { status: 'invalid', consecutiveUnreachable: 0 };
  const consecutiveUnreachable = current.consecutiveUnreachable + 1;
  const status =
    current.status === 'active' && consecutiveUnreachable >= threshold ? 'unreachable' : current.status;
  return { status, consecutiveUnreachable };
}

/** The stage that decided the outcome (the failing one, or the probe when both passed), with the total time. */
export function summarise(result: VerificationResult, checkedAt: Date): LastVerification {
  const decisive = result.ok ? result.stages[result.stages.length - 1] : result.failure;
  const total = result.stages.reduce((sum, s) => sum + s.duration_ms, 0);
  return { ...decisive, duration_ms: total, checked_at: checkedAt.toISOString() };
}

export type ExpiryWarning = 'secret_expires_soon' | 'secret_expired';

const WARNING_WINDOW_DAYS = 14;

/**
 * `secret_expired` past the entered expiry, or whenever Entra said so (AADSTS7000222, whatever
 * date was entered); `secret_expires_soon` within 14 days of it.
 */
export function expiryWarnings(expiresAt: Date | null, now: Date, lastCode: string | null): ExpiryWarning[] {
  // Microsoft's word that the credential expired: a secret (7000222) or a certificate (7000274).
  if (lastCode === 'AADSTS7000222' || lastCode === 'AADSTS7000274') return ['secret_expired'];
  if (!expiresAt) return [];
  if (expiresAt.getTime() <= now.getTime()) return ['secret_expired'];
  if (expiresAt.getTime() - now.getTime() <= WARNING_WINDOW_DAYS * 24 * 3600 * 1000)
    return ['secret_expires_soon'];
  return [];
}
