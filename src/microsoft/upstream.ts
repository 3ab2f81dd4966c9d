/**
 * Where a call to Microsoft stands in the work it serves: the two stages of a verification, and
 * the steps of delivering a handoff.
 */
export type UpstreamStage =
  | 'token_exchange'
  | 'dynamics_probe'
  | 'contact_lookup'
  | 'contact_create'
  | 'incident_create'
  | 'incident_read'
  | 'note_create'
  | 'add_to_queue'
  | 'messaging_token'
  | 'conversation_create'
  | 'message_send'
  | 'messages_read'
  | 'conversations_read'
  | 'readiness';

/** `rejected`: Microsoft said no (a definite answer); `unreachable`: no answer to decide on. */
export type UpstreamOutcome = 'rejected' | 'unreachable';

/**
 * A Microsoft call that did not succeed, as the clients report it: which stage, whether the
 * answer was a definite rejection or no answer at all, and Microsoft's own status, code and text.
 */
export class UpstreamFailure extends Error {
  constructor(
    readonly stage: UpstreamStage,
    readonly outcome: UpstreamOutcome,
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
