// The handoffs table's statements and the delivery's outcome policy on the real embedded
// PostgreSQL with the real migrations — no HTTP, no Nest application: each transition of the
// state machine, its guard, and the attempt fence.
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { planEnd, type Outcome } from '../../src/handoff/delivery/delivery-outcome.js';
import { handoffError } from '../../src/handoff/handoff-error.js';
import { Handoff } from '../../src/handoff/handoff.entity.js';
import { HandoffRepository } from '../../src/handoff/handoff.repository.js';
import type { HandoffState } from '../../src/handoff/handoff.types.js';
import { createTestDatabase } from '../support/database.js';

const ORG = 'medium';
const error = handoffError('incident_create', 'Service Unavailable', { status: 503 });

describe('HandoffRepository on PostgreSQL', () => {
  let dataSource: DataSource;
  let handoffs: HandoffRepository;

  beforeAll(async () => {
    dataSource = new DataSource(dataSourceOptions(await createTestDatabase('medium_handoffs'), [Handoff]));
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    handoffs = new HandoffRepository(dataSource);
  });
  afterAll(() => dataSource.destroy());

  /** A handoff as accepted, then forced into `state` (with `attempts`), with a job id of its own. */
  async function handoffIn(state: HandoffState, attempts = 0): Promise<Handoff> {
    const id = randomUUID();
    const jobId = randomUUID();
    const row = Object.assign(new Handoff(), {
      id,
      orgId: ORG,
      sessionId: `s-${id}`,
      channel: 'email',
      route: 'incident',
      routeReason: null,
      state: 'pending',
      reason: null,
      attempts: 0,
      nextAttemptAt: null,
      jobId,
      lastError: null,
      request: { session_id: `s-${id}`, channel: 'email' },
      requestHash: 'h',
      incidentId: randomUUID(),
      noteId: randomUUID(),
      contactId: null,
      contactCreated: null,
      ticketNumber: null,
      queueItemId: null,
      conversationId: null,
      conversationState: null,
      conversationPartsSent: 0,
      deliveredAt: null,
    } satisfies Partial<Handoff>);
    await handoffs.transaction((manager) => handoffs.insert(manager, row));
    await dataSource.query('UPDATE handoffs SET state = $2, attempts = $3 WHERE id = $1', [
      id,
      state,
      attempts,
    ]);
    return (await handoffs.findById(id))!;
  }
  const stateOf = async (id: string) => (await handoffs.findById(id))!;

  it('claims a pending row for its own job only, counting the attempt', async () => {
    const row = await handoffIn('pending');
    expect(await handoffs.claim(row.id, randomUUID())).toBeNull();
    const claimed = await handoffs.claim(row.id, row.jobId!);
    expect(claimed).toMatchObject({ state: 'delivering', attempts: 1 });
  });

  it('fences a stale attempt: once its job was taken over, its outcome is not written', async () => {
    const row = await handoffIn('pending');
    const first = (await handoffs.claim(row.id, row.jobId!))!;
    // The first worker's lease lapsed; the same job runs again on another instance.
    const second = (await handoffs.claim(row.id, row.jobId!))!;
    expect(second.attempts).toBe(first.attempts + 1);
    expect(await handoffs.endAttempt(row.id, first.attempts, { state: 'delivered' })).toBeNull();
    expect(await handoffs.saveProgress(row.id, first.attempts, { ticketNumber: 'CAS-STALE' })).toBe(false);
    expect(await stateOf(row.id)).toMatchObject({ state: 'delivering', ticketNumber: null });
    expect(await handoffs.endAttempt(row.id, second.attempts, { state: 'delivered' })).toMatchObject({
      state: 'delivered',
    });
  });

  it.each<[string, Outcome, Partial<Handoff>]>([
    ['delivered', { kind: 'delivered' }, { state: 'delivered', reason: null, lastError: null, jobId: null }],
    [
      'held',
      { kind: 'held', reason: 'connection_invalid', error },
      { state: 'held', reason: 'connection_invalid', lastError: error, jobId: null },
    ],
    [
      'failed',
      { kind: 'failed', reason: 'configuration', error },
      { state: 'failed', reason: 'configuration', lastError: error },
    ],
    ['expired', { kind: 'failed', reason: 'expired', error }, { state: 'failed', reason: 'expired' }],
    ['cancelled', { kind: 'cancelled' }, { state: 'cancelled', reason: 'disconnected' }],
    [
      'retries exhausted',
      { kind: 'retry', error, retryAfterMs: null },
      { state: 'failed', reason: 'attempts_exhausted', lastError: error },
    ],
  ])('writes the policy’s end of an attempt: %s', async (_what, outcome, expected) => {
    const row = await handoffIn('pending');
    const claimed = (await handoffs.claim(row.id, row.jobId!))!;
    const plan = planEnd(outcome, claimed.attempts, { maxAttempts: 1, retryBaseMs: 1000 });
    if (plan.kind !== 'end') throw new Error('expected an end');
    expect(await handoffs.endAttempt(row.id, claimed.attempts, plan.end)).toMatchObject(expected);
  });

  it('a retry writes the next job and time in the transaction that queued it; null rolls it back', async () => {
    const row = await handoffIn('pending');
    const claimed = (await handoffs.claim(row.id, row.jobId!))!;
    const nextAttemptAt = new Date(Date.now() + 60_000);
    const jobId = randomUUID();
    expect(
      await handoffs.commitUnlessNull(async (manager) => {
        await manager.query('CREATE TEMPORARY TABLE IF NOT EXISTS written (n int)');
        return null;
      }),
    ).toBeNull();
    const ended = await handoffs.commitUnlessNull((manager) =>
      handoffs.endAttempt(
        row.id,
        claimed.attempts,
        { state: 'pending', jobId, nextAttemptAt, error },
        {},
        manager,
      ),
    );
    expect(ended).toMatchObject({ state: 'pending', jobId, lastError: error });
    // The row moved on: the transaction answers null and nothing it wrote stays.
    const stale = await handoffs.commitUnlessNull(async (manager) => {
      await manager.query("UPDATE handoffs SET route_reason = 'written by a stale attempt' WHERE id = $1", [
        row.id,
      ]);
      return handoffs.endAttempt(row.id, claimed.attempts, { state: 'delivered' }, {}, manager);
    });
    expect(stale).toBeNull();
    expect((await stateOf(row.id)).routeReason).toBeNull();
  });

  it.each<['resume' | 'requeue', HandoffState, boolean]>([
    ['resume', 'held', true],
    ['resume', 'pending', false],
    ['resume', 'delivered', false],
    ['requeue', 'pending', true],
    ['requeue', 'delivering', true],
    ['requeue', 'held', false],
    ['requeue', 'cancelled', false],
  ])('release %s from %s: %s', async (transition, state, released) => {
    const row = await handoffIn(state);
    const jobId = randomUUID();
    expect(
      await handoffs.transaction((manager) => handoffs.release(manager, transition, row.id, jobId)),
    ).toBe(released);
    expect(await stateOf(row.id)).toMatchObject(released ? { state: 'pending', jobId } : { state });
  });

  it('a disconnect cancels the open states only', async () => {
    await dataSource.query('DELETE FROM handoffs WHERE org_id = $1', [ORG]);
    const rows = await Promise.all(
      (['pending', 'delivering', 'held', 'delivered', 'failed'] as const).map((s) => handoffIn(s)),
    );
    expect(await handoffs.transaction((manager) => handoffs.cancelOpen(manager, ORG))).toBe(3);
    const states = await Promise.all(rows.map(async (r) => (await stateOf(r.id)).state));
    expect(states).toEqual(['cancelled', 'cancelled', 'cancelled', 'delivered', 'failed']);
  });

  it('expires pending and held handoffs past the age, never one being delivered', async () => {
    const rows = await Promise.all((['pending', 'held', 'delivering'] as const).map((s) => handoffIn(s)));
    await dataSource.query("UPDATE handoffs SET created_at = now() - interval '2 days' WHERE id = ANY($1)", [
      rows.map((r) => r.id),
    ]);
    const expired = await handoffs.expireOld(86_400_000, error);
    expect(expired.map((r) => r.id).sort()).toEqual([rows[0].id, rows[1].id].sort());
    expect((await stateOf(rows[2].id)).state).toBe('delivering');
    expect(await stateOf(rows[1].id)).toMatchObject({ state: 'failed', reason: 'expired', lastError: error });
  });

  it('an admin retries failed handoffs only, with the attempts counted afresh', async () => {
    const failed = await handoffIn('failed', 3);
    const pending = await handoffIn('pending');
    const again = await handoffs.transaction((m) =>
      handoffs.requeueFailed(m, ORG, failed.sessionId, randomUUID()),
    );
    expect(again).toMatchObject({ state: 'pending', attempts: 0 });
    expect(
      await handoffs.transaction((m) => handoffs.requeueFailed(m, ORG, pending.sessionId, randomUUID())),
    ).toBeNull();
  });
});
