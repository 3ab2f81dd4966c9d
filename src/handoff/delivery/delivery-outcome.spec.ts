import { UpstreamFailure, type UpstreamOutcome, type UpstreamStage } from '../../microsoft/upstream.js';
import { handoffError } from '../handoff-error.js';
import {
  AttemptSuperseded,
  AttemptTimedOut,
  classifyFailure,
  MAX_RETRY_DELAY_MS,
  type Outcome,
  planEnd,
} from './delivery-outcome.js';

const credentials = {
  clientId: '1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b',
  tenantId: '2d9f3b5e-4c6d-4f7a-9b0c-1d2e3f4a5b6c',
  credential: { type: 'client_secret' as const, secret: 'a-secret-value' },
  environmentUrl: 'https://contoso.crm.dynamics.com',
  messagingScope: 'https://0a1b2c3d-c.crm.dynamics.com/.default',
};
const settings = {
  defaultQueueId: null,
  defaultOwnerId: null,
  clientId: credentials.clientId,
  messagingChannelId: '0e5f6a7b-1c2d-4e3f-8a9b-0c1d2e3f4a5b',
  messagingOrganizationId: '3e0a4c6f-5d7e-4a8b-0c1d-2e3f4a5b6c7d',
};

function failure(
  stage: UpstreamStage,
  outcome: UpstreamOutcome,
  status: number | null,
  code: string | null = null,
  retryAfterMs: number | null = null,
): UpstreamFailure {
  return new UpstreamFailure(
    stage,
    outcome,
    status,
    code,
    `Microsoft said ${status}`,
    12,
    null,
    retryAfterMs,
  );
}

describe('classifyFailure: how a failed attempt ends', () => {
  it.each<[string, Outcome['kind'], string | null, unknown]>([
    ['the row moved on', 'cancelled', null, new AttemptSuperseded()],
    ['the attempt ran out of time', 'retry', null, new AttemptTimedOut('note_create')],
    ['an error of our own', 'retry', null, new TypeError('boom')],
    ['no answer (timeout, reset, 5xx, 429)', 'retry', null, failure('incident_create', 'unreachable', 503)],
    ['a messaging code', 'failed', 'configuration', failure('conversation_create', 'rejected', 400, '30002')],
  ])('%s → %s %s', (_what, kind, reason, error) => {
    const outcome = classifyFailure(error, credentials, settings);
    expect(outcome.kind).toBe(kind);
    expect('reason' in outcome ? outcome.reason : null).toBe(reason);
  });

  it("keeps Microsoft's stage, status, code and Retry-After, with a hint for refusals only", () => {
    const retry = classifyFailure(
      failure('note_create', 'unreachable', 429, null, 30_000),
      credentials,
      settings,
    );
    expect(retry).toEqual({
      kind: 'retry',
      retryAfterMs: 30_000,
      error: handoffError('note_create', 'Microsoft said 429', { status: 429 }),
    });
    const refused = classifyFailure(
      failure('incident_create', 'rejected', 403, '0x80040220'),
      credentials,
      settings,
    );
    expect(refused).toMatchObject({
      error: { stage: 'incident_create', upstream_status: 403, upstream_code: '0x80040220' },
    });
    expect((refused as { error: { hint: string } }).error.hint).toMatch(/prvCreateIncident/);
  });

  it('names its own errors internal, never their text', () => {
    const outcome = classifyFailure(new Error('secret stuff in a stack'), credentials, settings);
    expect(outcome).toEqual({
      kind: 'retry',
      retryAfterMs: null,
      error: handoffError('internal', 'An internal error interrupted the delivery; it will be retried.'),
    });
  });
});

describe('planEnd: what each outcome writes', () => {
  const policy = { maxAttempts: 3, retryBaseMs: 1000 };
  const error = handoffError('incident_create', 'Service Unavailable', { status: 503 });
  const half = () => 0.5; // no jitter: backoff exactly base × 2^(attempt − 1)

  it.each<[string, Outcome, number, unknown]>([
    [
      'delivered',
      { kind: 'delivered' },
      1,
      { kind: 'end', end: { state: 'delivered' }, metric: 'delivered' },
    ],
    [
      'a first retry',
      { kind: 'retry', error, retryAfterMs: null },
      1,
      { kind: 'retry', delayMs: 1000, error },
    ],
    [
      'a second retry',
      { kind: 'retry', error, retryAfterMs: null },
      2,
      { kind: 'retry', delayMs: 2000, error },
    ],
    [
      'Retry-After longer than the backoff',
      { kind: 'retry', error, retryAfterMs: 45_000 },
      1,
      { kind: 'retry', delayMs: 45_000, error },
    ],
    [
      'Retry-After longer than 15 minutes',
      { kind: 'retry', error, retryAfterMs: 3_600_000 },
      1,
      { kind: 'retry', delayMs: MAX_RETRY_DELAY_MS, error },
    ],
    [
      'the last attempt',
      { kind: 'retry', error, retryAfterMs: null },
      3,
      { kind: 'end', end: { state: 'failed', reason: 'attempts_exhausted', error }, metric: 'failed' },
    ],
    [
      'held',
      { kind: 'held', reason: 'connection_invalid', error },
      1,
      { kind: 'end', end: { state: 'held', reason: 'connection_invalid', error }, metric: 'held' },
    ],
    [
      'failed',
      { kind: 'failed', reason: 'configuration', error },
      1,
      { kind: 'end', end: { state: 'failed', reason: 'configuration', error }, metric: 'failed' },
    ],
    [
      'too old',
      { kind: 'failed', reason: 'expired', error },
      2,
      { kind: 'end', end: { state: 'failed', reason: 'expired', error }, metric: 'expired' },
    ],
    [
      'cancelled',
      { kind: 'cancelled' },
      1,
      { kind: 'end', end: { state: 'cancelled', reason: 'disconnected', error: null }, metric: 'cancelled' },
    ],
  ])('%s', (_what, outcome, attempt, plan) => {
    expect(planEnd(outcome, attempt, policy, half)).toEqual(plan);
  });
});
