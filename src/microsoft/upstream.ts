import type { VerificationOutcome, VerificationStage } from '../verification/verification.types.js';

/**
 * A Microsoft call that did not succeed, as the clients report it: which stage, whether the
 * answer was a definite rejection or no answer at all, and Microsoft's own status, code and text.
 */
export class UpstreamFailure extends Error {
  constructor(
    readonly stage: VerificationStage,
    readonly outcome: Exclude<VerificationOutcome, 'ok'>,
    readonly upstreamStatus: number | null,
    readonly upstreamCode: string | null,
    message: string,
    readonly durationMs: number,
    readonly traceId: string | null = null,
    /** Microsoft's Retry-After on the last answer, when it sent one. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'UpstreamFailure';
  }
}

export type TransportErrorKind = 'timeout' | 'dns_not_found' | 'connection' | 'other';

export class UpstreamTransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamTransportError';
  }
}

/** Retry-After as milliseconds (seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterMs(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : null;
}
