// The delivery's policy, without I/O: how an attempt's failure is judged (classifyFailure) and what
// each outcome writes onto the handoff (planEnd). Tested as tables in delivery-outcome.spec.ts.
import { retryDelayMs } from '../../common/retry-delay.js';
import { UpstreamFailure, type UpstreamStage } from '../../microsoft/upstream.js';
import type { HintInput } from '../../verification/hints.js';
import { hintFor } from '../../verification/hints.js';
import { handoffError } from '../handoff-error.js';
import type { AttemptEnd } from '../handoff.repository.js';
import type { HandoffError, HandoffReason } from '../handoff.types.js';
import { CONNECTION_CODES, deliveryHint } from './delivery-hints.js';

/** The longest wait between attempts, whatever the backoff or Retry-After says. */
export const MAX_RETRY_DELAY_MS = 15 * 60_000;

export type Outcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; error: HandoffError; retryAfterMs: number | null }
  | { kind: 'held'; reason: HandoffReason; error: HandoffError }
  | { kind: 'failed'; reason: HandoffReason; error: HandoffError }
  | { kind: 'cancelled' };

/** The attempt ran past HANDOFF_ATTEMPT_TIMEOUT: give up this attempt, retry later. */
export class AttemptTimedOut extends Error {
  constructor(readonly stage: UpstreamStage) {
    super('The delivery attempt ran out of time (HANDOFF_ATTEMPT_TIMEOUT); it will be retried.');
  }
}

/** The row moved on while the attempt ran (cancelled by a disconnect, or taken over). */
export class AttemptSuperseded extends Error {}

/** What the delivery hints need of the org's settings. */
export type DeliverySettings = Parameters<typeof deliveryHint>[1];

/** How a failed attempt ends. Errors that are none of ours or Microsoft's are `internal` retries. */
export function classifyFailure(error: unknown, credentials: HintInput, settings: DeliverySettings): Outcome {
  if (error instanceof AttemptSuperseded) return { kind: 'cancelled' };
  if (error instanceof AttemptTimedOut) {
    return { kind: 'retry', retryAfterMs: null, error: handoffError(error.stage, error.message) };
  }
  if (!(error instanceof UpstreamFailure)) {
    return {
      kind: 'retry',
      retryAfterMs: null,
      error: handoffError('internal', 'An internal error interrupted the delivery; it will be retried.'),
    };
  }
  const upstream = { status: error.upstreamStatus, code: error.upstreamCode };
  const withHint = (hint: string | null) => handoffError(error.stage, error.message, { ...upstream, hint });
  if (error.outcome === 'unreachable') {
    return { kind: 'retry', retryAfterMs: error.retryAfterMs, error: withHint(null) };
  }
  // Microsoft's definite refusals: the connection itself (held until it is verified again) …
  if (error.stage === 'token_exchange' || error.stage === 'messaging_token') {
    return { kind: 'held', reason: 'connection_invalid', error: withHint(hintFor(error, credentials)) };
  }
  const messagingStep = error.stage === 'conversation_create' || error.stage === 'message_send';
  if (error.upstreamStatus === 401 && messagingStep) {
    return { kind: 'failed', reason: 'configuration', error: withHint(deliveryHint(error, settings)) };
  }
  if (error.upstreamStatus === 401) {
    return {
      kind: 'held',
      reason: 'connection_invalid',
      error: withHint(
        'Dataverse refused a freshly issued token. Check the connection with Verify; held handoffs resume when it succeeds.',
      ),
    };
  }
  // Dataverse answers these about the caller with 403; a 400 names another user in the request
  // (a disabled default owner): that is this step's configuration, not the connection.
  if (error.upstreamStatus === 403 && error.upstreamCode && CONNECTION_CODES.includes(error.upstreamCode)) {
    return { kind: 'held', reason: 'connection_invalid', error: withHint(deliveryHint(error, settings)) };
  }
  // … or the configuration of this step (privileges, queue, owner, columns): failed at once.
  return { kind: 'failed', reason: 'configuration', error: withHint(deliveryHint(error, settings)) };
}

/** The outcome as its metric counts it. */
type OutcomeMetric = 'delivered' | 'retried' | 'held' | 'failed' | 'expired' | 'cancelled';

/** What the end of attempt number `attempt` writes. */
export type Plan =
  | { kind: 'end'; end: Exclude<AttemptEnd, { state: 'pending' }>; metric: OutcomeMetric }
  | { kind: 'retry'; delayMs: number; error: HandoffError };

export function planEnd(
  outcome: Outcome,
  attempt: number,
  policy: { maxAttempts: number; retryBaseMs: number },
  random: () => number = Math.random,
): Plan {
  switch (outcome.kind) {
    case 'delivered':
      return { kind: 'end', end: { state: 'delivered' }, metric: 'delivered' };
    case 'retry':
      if (attempt >= policy.maxAttempts) {
        return {
          kind: 'end',
          end: { state: 'failed', reason: 'attempts_exhausted', error: outcome.error },
          metric: 'failed',
        };
      }
      return {
        kind: 'retry',
        delayMs: retryDelayMs(
          attempt - 1,
          policy.retryBaseMs,
          outcome.retryAfterMs,
          MAX_RETRY_DELAY_MS,
          random,
        ),
        error: outcome.error,
      };
    case 'held':
      return {
        kind: 'end',
        end: { state: 'held', reason: outcome.reason, error: outcome.error },
        metric: 'held',
      };
    case 'failed':
      return {
        kind: 'end',
        end: { state: 'failed', reason: outcome.reason, error: outcome.error },
        metric: outcome.reason === 'expired' ? 'expired' : 'failed',
      };
    case 'cancelled':
      return {
        kind: 'end',
        end: { state: 'cancelled', reason: 'disconnected', error: null },
        metric: 'cancelled',
      };
  }
}
