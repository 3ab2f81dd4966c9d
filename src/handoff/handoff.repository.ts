// Every statement on the handoffs table. TypeORM for reads and the insert; plain SQL for the
// state transitions, which are conditional UPDATEs with RETURNING built from the state machine's
// table (handoff-states.ts): each leaves only the states its transition leaves. A delivery only
// writes while it still owns the row (the attempt number it claimed is the fence), so a stale
// worker — one whose lease lapsed and whose job was taken over — never overwrites a newer outcome.
// One file over 350 lines on purpose: it is the handoffs table's one way in, every transition beside the others.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { EntityColumns } from '../database/entity-columns.js';
import { PreparedStatement } from '../database/prepared-statement.js';
import { DELIVERY_QUEUE, QUEUE_SCHEMA } from './handoff-queue.js';
import { Handoff } from './handoff.entity.js';
import { HandoffAttempt } from './handoff-attempt.entity.js';
import { ATTEMPT_END, enters, leaves, OPEN_STATES, type TransitionName } from './handoff-states.js';
import type { HandoffChannel, HandoffError, HandoffReason, HandoffState } from './handoff.types.js';

export interface HandoffFilters {
  state?: HandoffState[];
  channel?: HandoffChannel[];
  since?: string;
  until?: string;
}

/** What a delivery records as it goes, so a later attempt continues instead of repeating. */
export interface DeliveryProgress {
  contactId?: string;
  contactCreated?: boolean;
  ticketNumber?: string;
  queueItemId?: string;
  conversationId?: string;
  conversationState?: 'open' | 'closed';
  conversationPartsSent?: number;
  route?: Handoff['route'];
  routeReason?: string | null;
}

/** How an attempt ended, as written onto the row. */
export type AttemptEnd =
  | { state: 'delivered' }
  | { state: 'pending'; jobId: string; nextAttemptAt: Date; error: HandoffError }
  | { state: 'held' | 'failed' | 'cancelled'; reason: HandoffReason; error: HandoffError | null };

/** The table's columns, from the entity. */
const COLUMNS = new EntityColumns(Handoff);

/** The column of a progress field (DeliveryProgress names Handoff's properties). */
const progressColumn = (key: keyof DeliveryProgress): string => COLUMNS.column(key);

/** Progress is saved only by the attempt that holds the row: the state every attempt end leaves. */
const TRANSITIONS_DURING_ATTEMPT = leaves('deliver');

/** On every verification that passes (a save, a verify, the sweep): see hasHeld. */
const HAS_HELD = new PreparedStatement(
  `SELECT EXISTS (SELECT 1 FROM handoffs WHERE org_id = $1 AND ${leaves('resume')} AND updated_at <= $2) AS held`,
);

@Injectable()
export class HandoffRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Runs `work` in a transaction that commits when it answers something and rolls back when it
   * answers null — for work whose last statement finds the row moved on, so that what it wrote
   * before (a queued job) goes too.
   */
  async commitUnlessNull<T>(work: (manager: EntityManager) => Promise<T | null>): Promise<T | null> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const result = await work(runner.manager);
      if (result === null) await runner.rollbackTransaction();
      else await runner.commitTransaction();
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }

  findBySession(
    orgId: string,
    sessionId: string,
    manager = this.dataSource.manager,
  ): Promise<Handoff | null> {
    return manager.findOneBy(Handoff, { orgId, sessionId });
  }

  findById(id: string): Promise<Handoff | null> {
    return this.dataSource.manager.findOneBy(Handoff, { id });
  }

  findByConversation(orgId: string, conversationId: string): Promise<Handoff | null> {
    return this.dataSource.manager.findOneBy(Handoff, { orgId, conversationId });
  }

  async closeConversation(manager: EntityManager, id: string): Promise<void> {
    await manager.query(
      "UPDATE handoffs SET conversation_state = 'closed', conversation_catchup_at = NULL, updated_at = now() WHERE id = $1 AND conversation_state IS DISTINCT FROM 'closed'",
      [id],
    );
  }

  /** Inserts a new handoff; null when the session exists already (a concurrent submit won). */
  async insert(manager: EntityManager, row: Handoff): Promise<Handoff | null> {
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(Handoff)
      .values(row)
      .orIgnore()
      .returning('*')
      .execute();
    const rows = result.raw as Record<string, unknown>[];
    return rows.length > 0 ? COLUMNS.toEntity(rows[0]) : null;
  }

  /** One page, newest first, before the keyset position when given. */
  async list(
    orgId: string,
    filters: HandoffFilters,
    limit: number,
    before?: { createdAt: string; id: string },
  ): Promise<Handoff[]> {
    const query = this.dataSource
      .getRepository(Handoff)
      .createQueryBuilder('h')
      .where('h.org_id = :orgId', { orgId })
      .orderBy('h.created_at', 'DESC')
      .addOrderBy('h.id', 'DESC')
      .limit(limit);
    if (filters.state?.length) query.andWhere('h.state IN (:...states)', { states: filters.state });
    if (filters.channel?.length) query.andWhere('h.channel IN (:...channels)', { channels: filters.channel });
    if (filters.since) query.andWhere('h.created_at >= :since', { since: filters.since });
    if (filters.until) query.andWhere('h.created_at < :until', { until: filters.until });
    if (before) {
      query.andWhere('(h.created_at, h.id) < (:beforeAt::timestamptz, :beforeId::uuid)', {
        beforeAt: before.createdAt,
        beforeId: before.id,
      });
    }
    return query.getMany();
  }

  /**
   * Takes the row for an attempt: a pending row whose job this is, or a delivering one whose
   * attempt died with its worker (the job expired and came back). Counts the attempt.
   */
  async claim(id: string, jobId: string): Promise<Handoff | null> {
    const rows = await this.update(
      `UPDATE handoffs SET ${enters('claim')}, attempts = attempts + 1, next_attempt_at = NULL, updated_at = now()
        WHERE id = $1 AND job_id = $2 AND ${leaves('claim')}
        RETURNING *`,
      [id, jobId],
    );
    return rows[0] ?? null;
  }

  /**
   * Ends the attempt, with what its steps recorded; null when the row moved on meanwhile
   * (cancelled by a disconnect, or taken over after this attempt's job expired).
   */
  async endAttempt(
    id: string,
    attempt: number,
    end: AttemptEnd,
    progress: DeliveryProgress = {},
    manager: EntityManager = this.dataSource.manager,
  ): Promise<Handoff | null> {
    const columns: [string, unknown][] = (Object.entries(progress) as [keyof DeliveryProgress, unknown][])
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [progressColumn(key), value]);
    let deliveredAt = '';
    const transition: TransitionName = ATTEMPT_END[end.state];
    switch (end.state) {
      case 'delivered':
        columns.push(['reason', null], ['last_error', null], ['job_id', null]);
        deliveredAt = ', delivered_at = now()';
        break;
      case 'pending':
        columns.push(
          ['job_id', end.jobId],
          ['next_attempt_at', end.nextAttemptAt],
          ['last_error', JSON.stringify(end.error)],
        );
        break;
      default:
        columns.push(['reason', end.reason], ['job_id', null], ['next_attempt_at', null]);
        if (end.error) columns.push(['last_error', JSON.stringify(end.error)]);
    }
    const assignments = columns.map(([column], i) => `${column} = $${i + 3}`).join(', ');
    // The attempt's line in the history is written by the same statement, only when the row was
    // this attempt's to end.
    const history = [
      end.state === 'pending' ? 'retry' : end.state,
      'reason' in end ? end.reason : null,
      'error' in end && end.error ? JSON.stringify(end.error) : null,
      end.state === 'pending' ? end.nextAttemptAt : null,
    ];
    const at = columns.length + 3;
    // A SELECT at the top: TypeORM answers with the rows alone (not [rows, count] as for UPDATE).
    const rows = await manager.query<Record<string, unknown>[]>(
      `WITH ended AS (
         UPDATE handoffs SET ${enters(transition)}, ${assignments}, updated_at = now()${deliveredAt}
          WHERE id = $1 AND attempts = $2 AND ${leaves(transition)} RETURNING *
       ), logged AS (
         INSERT INTO handoff_attempts (handoff_id, attempt, outcome, reason, error, next_attempt_at)
         SELECT id, attempts, $${at}, $${at + 1}, $${at + 2}::jsonb, $${at + 3}::timestamptz FROM ended
       )
       SELECT * FROM ended`,
      [id, attempt, ...columns.map(([, value]) => value), ...history],
    );
    return rows[0] ? COLUMNS.toEntity(rows[0]) : null;
  }

  /**
   * Records a step at once, while the attempt owns the row (for steps that must not be repeated,
   * such as a follow-up message); false when the row moved on.
   */
  async saveProgress(id: string, attempt: number, progress: DeliveryProgress): Promise<boolean> {
    const entries = (Object.entries(progress) as [keyof DeliveryProgress, unknown][]).filter(
      ([, value]) => value !== undefined,
    );
    const rows = await this.update(
      `UPDATE handoffs SET ${entries.map(([key], i) => `${progressColumn(key)} = $${i + 3}`).join(', ')}, updated_at = now()
        WHERE id = $1 AND attempts = $2 AND ${TRANSITIONS_DURING_ATTEMPT} RETURNING id`,
      [id, attempt, ...entries.map(([, value]) => value)],
    );
    return rows.length > 0;
  }

  /** What an attempt created after its handoff was cancelled meanwhile: shown on the cancelled row. */
  async recordOnCancelled(id: string, progress: DeliveryProgress): Promise<void> {
    const entries = (Object.entries(progress) as [keyof DeliveryProgress, unknown][]).filter(
      ([, value]) => value !== undefined,
    );
    if (entries.length === 0) return;
    await this.dataSource.query(
      `UPDATE handoffs SET ${entries.map(([key], i) => `${progressColumn(key)} = $${i + 2}`).join(', ')}
        WHERE id = $1 AND state = 'cancelled'`,
      [id, ...entries.map(([, value]) => value)],
    );
  }

  /** A failed handoff back to pending with a new job and its attempts counted afresh. */
  async requeueFailed(
    manager: EntityManager,
    orgId: string,
    sessionId: string,
    jobId: string,
  ): Promise<Handoff | null> {
    return (
      (
        await this.update(
          `UPDATE handoffs SET ${enters('retry')}, reason = NULL, attempts = 0, next_attempt_at = NULL,
                  job_id = $3, updated_at = now()
            WHERE org_id = $1 AND session_id = $2 AND ${leaves('retry')} RETURNING *`,
          [orgId, sessionId, jobId],
          manager,
        )
      )[0] ?? null
    );
  }

  /**
   * Whether the org has handoffs held before `heldBefore`, without a transaction: most
   * verifications find none, and this answers that in one round trip on the open-handoffs index.
   */
  async hasHeld(orgId: string, heldBefore: Date): Promise<boolean> {
    const [row] = await HAS_HELD.rows<{ held: boolean }>(this.dataSource, [orgId, heldBefore]);
    return row.held;
  }

  async lockHeld(manager: EntityManager, orgId: string, heldBefore: Date): Promise<{ id: string }[]> {
    return manager.query(
      `SELECT id FROM handoffs WHERE org_id = $1 AND ${leaves('resume')} AND updated_at <= $2
        ORDER BY created_at FOR UPDATE SKIP LOCKED`,
      [orgId, heldBefore],
    );
  }

  /**
   * A locked row back to pending with a new job: a held one resumed, or an open one whose job was
   * lost requeued. False when the row is not in a state that transition leaves.
   */
  async release(
    manager: EntityManager,
    transition: 'resume' | 'requeue',
    id: string,
    jobId: string,
  ): Promise<boolean> {
    const [rows] = await manager.query<[unknown[], number]>(
      `UPDATE handoffs SET ${enters(transition)}, reason = NULL, job_id = $2, next_attempt_at = NULL, updated_at = now()
        WHERE id = $1 AND ${leaves(transition)} RETURNING id`,
      [id, jobId],
    );
    return rows.length > 0;
  }

  /** Orgs with held handoffs (the maintenance pass checks whether their connection is active again). */
  async orgsWithHeld(): Promise<string[]> {
    const rows = await this.dataSource.query<{ org_id: string }[]>(
      `SELECT DISTINCT org_id FROM handoffs WHERE ${leaves('resume')}`,
    );
    return rows.map((row) => row.org_id);
  }

  /** Orgs with handoffs held longer than `ms`: how many, and since when the oldest. */
  heldLongerThan(ms: number): Promise<{ org_id: string; held: number; oldest: Date }[]> {
    return this.dataSource.query(
      `SELECT org_id, count(*)::int AS held, min(updated_at) AS oldest FROM handoffs
        WHERE ${leaves('resume')} AND updated_at < now() - $1 * interval '1 millisecond' GROUP BY org_id`,
      [ms],
    );
  }

  /** Disconnect: everything not delivered is cancelled with it (records already created stay). */
  async cancelOpen(manager: EntityManager, orgId: string): Promise<number> {
    const rows = await this.update(
      `UPDATE handoffs SET ${enters('disconnect')}, reason = 'disconnected', job_id = NULL, next_attempt_at = NULL,
              updated_at = now()
        WHERE org_id = $1 AND ${leaves('disconnect')} RETURNING id`,
      [orgId],
      manager,
    );
    return rows.length;
  }

  /** Pending or held handoffs accepted longer ago than `maxAgeMs` fail as expired. */
  async expireOld(maxAgeMs: number, error: HandoffError): Promise<Handoff[]> {
    return this.update(
      `UPDATE handoffs SET ${enters('expire')}, reason = 'expired', job_id = NULL, next_attempt_at = NULL,
              last_error = coalesce(last_error, $2::jsonb), updated_at = now()
        WHERE ${leaves('expire')} AND created_at < now() - make_interval(secs => $1 / 1000.0)
        RETURNING *`,
      [maxAgeMs, JSON.stringify(error)],
    );
  }

  /**
   * Open handoffs without a live job (pg-boss gave up a job whose workers kept dying, or the
   * queue lost it) untouched for `staleMs`: locked, to be given a new job.
   */
  async lockStalled(manager: EntityManager, staleMs: number): Promise<{ id: string; org_id: string }[]> {
    return manager.query(
      `SELECT h.id, h.org_id FROM handoffs h
        WHERE ${leaves('requeue', 'h.state')}
          AND h.updated_at < now() - make_interval(secs => $1 / 1000.0)
          AND NOT EXISTS (SELECT 1 FROM ${QUEUE_SCHEMA}.job j
                           WHERE j.name = $2 AND j.id = h.job_id AND j.state IN ('created', 'retry', 'active'))
        ORDER BY h.created_at LIMIT 500 FOR UPDATE OF h SKIP LOCKED`,
      [staleMs, DELIVERY_QUEUE],
    );
  }

  /** Open handoffs by state, for the gauge. */
  async countOpen(): Promise<Record<string, number>> {
    const rows = await this.dataSource.query<{ state: string; n: number }[]>(
      `SELECT state, count(*)::int AS n FROM handoffs WHERE state IN (${OPEN_STATES.map((s) => `'${s}'`).join(', ')}) GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((row) => [row.state, row.n]));
  }

  /** A handoff's attempts as they ended, newest first (at most `limit`). */
  attemptsOf(handoffId: string, limit: number): Promise<HandoffAttempt[]> {
    return this.dataSource.getRepository(HandoffAttempt).find({
      where: { handoffId },
      order: { id: 'DESC' },
      take: limit,
    });
  }

  private async update(
    sql: string,
    values: unknown[],
    manager = this.dataSource.manager,
  ): Promise<Handoff[]> {
    // TypeORM answers UPDATE … RETURNING with [rows, rowCount] on PostgreSQL.
    const [rows] = await manager.query<[Record<string, unknown>[], number]>(sql, values);
    return rows.map((row) => COLUMNS.toEntity(row));
  }
}
