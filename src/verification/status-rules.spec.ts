import type { VerificationResult } from './credential-verifier.js';
import { expiryWarnings, nextStatus, summarise } from './status-rules.js';
import type { StageResult } from '../settings/verification.types.js';

const stage = (overrides: Partial<StageResult> = {}): StageResult => ({
  stage: 'dynamics_probe',
  outcome: 'ok',
  upstream_status: 200,
  upstream_code: null,
  message: null,
  hint: null,
  duration_ms: 10,
  ...overrides,
});
const passed: VerificationResult = {
  ok: true,
  stages: [stage({ stage: 'token_exchange' }), stage()],
  readiness: null,
};
const failed = (outcome: 'rejected' | 'unreachable'): VerificationResult => {
  const failure = stage({ outcome, upstream_status: outcome === 'rejected' ? 403 : 503 });
  return { ok: false, stages: [stage({ stage: 'token_exchange' }), failure], failure, retryAfterMs: null };
};

describe('nextStatus', () => {
  it('a pass makes any connection active and resets the unreachable count', () => {
    for (const status of ['active', 'invalid', 'unreachable'] as const) {
      expect(nextStatus({ status, consecutiveUnreachable: 5 }, passed, 3)).toEqual({
        status: 'active',
        consecutiveUnreachable: 0,
      });
    }
  });

  it('a rejection makes it invalid at once', () => {
    expect(nextStatus({ status: 'active', consecutiveUnreachable: 2 }, failed('rejected'), 3)).toEqual({
      status: 'invalid',
      consecutiveUnreachable: 0,
    });
  });

  it('an active connection turns unreachable only at the threshold of consecutive outages', () => {
    let state = { status: 'active' as const, consecutiveUnreachable: 0 } as Parameters<typeof nextStatus>[0];
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      state = nextStatus(state, failed('unreachable'), 3);
      seen.push(`${state.status}:${state.consecutiveUnreachable}`);
    }
    expect(seen).toEqual(['active:1', 'active:2', 'unreachable:3', 'unreachable:4']);
  });

  it('an outage does not hide a rejection: an invalid connection stays invalid', () => {
    expect(nextStatus({ status: 'invalid', consecutiveUnreachable: 0 }, failed('unreachable'), 1)).toEqual({
      status: 'invalid',
      consecutiveUnreachable: 1,
    });
  });
});

describe('summarise', () => {
  it('keeps the deciding stage and adds up the time of all stages', () => {
    const at = new Date('2026-11-30T12:00:00Z');
    expect(summarise(passed, at)).toMatchObject({
      stage: 'dynamics_probe',
      outcome: 'ok',
      duration_ms: 20,
      checked_at: at.toISOString(),
    });
    expect(summarise(failed('rejected'), at)).toMatchObject({
      outcome: 'rejected',
      upstream_status: 403,
      duration_ms: 20,
    });
  });
});

describe('expiryWarnings', () => {
  const now = new Date('2026-11-30T12:00:00Z');
  const days = (n: number) => new Date(now.getTime() + n * 86_400_000);
  it.each([
    ['no expiry entered', null, null, []],
    ['far away', days(30), null, []],
    ['in 14 days', days(14), null, ['secret_expires_soon']],
    ['tomorrow', days(1), null, ['secret_expires_soon']],
    ['now', days(0), null, ['secret_expired']],
    ['yesterday', days(-1), null, ['secret_expired']],
    ['Entra said expired, date far away', days(300), 'AADSTS7000222', ['secret_expired']],
    ['Entra said expired, no date', null, 'AADSTS7000222', ['secret_expired']],
  ])('%s', (_, expiresAt, code, expected) => {
    expect(expiryWarnings(expiresAt, now, code)).toEqual(expected);
  });
});
