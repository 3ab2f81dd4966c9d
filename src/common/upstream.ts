import type { VerificationOutcome, VerificationStage } from '../settings/settings.entity.js';

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
