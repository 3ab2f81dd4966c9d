// Every statement on handoff_events, and the channel that announces new ones: an event is stored
// and NOTIFY'd in the transaction that received it, so listeners on every instance hear of it
// exactly when it is committed.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { poolOf } from '../database/pool.js';
import { CustomerData } from './customer-data.js';

const CHANNEL = 'handoff_events';

export type ConversationEventType =
  'agent.message' | 'agent.typing' | 'conversation.event' | 'conversation.closed';

/** An event with its handoff's session and conversation, as stored. */
export interface ConversationEventRow {
  id: string;
  type: ConversationEventType;
  data: Record<string, unknown>;
  occurred_at: Date;
  session_id: string;
  conversation_id: string;
}

/** Two activities with the same content this close in time are one (a retry, or a read back). */
const SAME_ACTIVITY_WINDOW = '10 minutes';

/** What recognises an activity when it comes again (see insert). */
export interface ActivityIdentity {
  /** The id the sender gave the activity (Microsoft's generally-available webhook gives none). */
  activityId: string | null;
  /** The Messaging API's message id, for a message read back from the conversation. */
  messageId: string | null;
  /** Hash of sender, type, name, text and attachments; null: never matched by content (typing). */
  contentKey: string | null;
  /** When it was said (a read message's timestamp); null: now, as received. */
  at: Date | null;
  /** The timestamp a webhook call carried, if any. */
  saidAt: Date | null;
}

const SELECT = `SELECT e.id::text AS id, e.type, e.data, e.data_sealed, e.data_key_id, e.org_id, e.handoff_id,
                       e.occurred_at, h.session_id, h.conversation_id
                  FROM handoff_events e JOIN handoffs h ON h.id = e.handoff_id`;

/** The field an event's data is sealed to. */
const DATA_FIELD = 'handoff_events.data';

interface StoredRow extends ConversationEventRow {
  data_sealed: Buffer | null;
  data_key_id: string | null;
  org_id: string;
  handoff_id: string;
}

@Injectable()
export class HandoffEventRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly customerData: CustomerData,
  ) {}

  /** Rows as read: the data opened (sealed since customer data is encrypted at rest; purged: empty). */
  private opened(rows: StoredRow[]): ConversationEventRow[] {
    return rows.map(({ data_sealed, data_key_id, org_id, handoff_id, ...row }) => ({
      ...row,
      data:
        data_sealed && data_key_id
          ? this.customerData.open<Record<string, unknown>>(org_id, handoff_id, DATA_FIELD, {
              ciphertext: data_sealed,
              keyId: data_key_id,
            })
          : row.data,
    }));
  }

  /**
   * Stores an event in the caller's transaction, once, and announces it when that commits; null
   * when it was stored before. Microsoft's webhook sends no activity id and retries a call it saw
   * time out, and a read of the conversation's messages finds what the webhook delivered, so an
   * activity is the same as a stored event when (in this order):
   * - their activity ids are equal (an id the sender gave), or their Messaging API message ids are;
   * - or their content keys are equal, their times match — the same timestamp when both came on
   *   the webhook with one (a retry carries its call's timestamp), else within 10 minutes of each
   *   other (what was received, and what a read back says was sent) — and the stored event has
   *   no id of the kind the new one has — it then takes the new one's id, so it matches once: two
   *   equal messages read back are matched with two stored events, never both with one.
   * A transaction-scoped lock per handoff makes the check and the insert one step.
   */
  async insert(
    manager: EntityManager,
    handoff: { id: string; orgId: string },
    type: ConversationEventType,
    data: Record<string, unknown>,
    identity: ActivityIdentity,
  ): Promise<string | null> {
    // What the representative said is sealed to the org and handoff, never stored in plain text.
    const sealed = this.customerData.seal(handoff.orgId, handoff.id, DATA_FIELD, data);
    await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 9413))', [handoff.id]);
    const rows = await manager.query<{ id: string }[]>(
      `WITH known AS (
         SELECT id FROM handoff_events
          WHERE handoff_id = $1 AND (activity_id = $4 OR message_id = $5) LIMIT 1
       ), candidate AS (
         SELECT id FROM handoff_events
          WHERE handoff_id = $1 AND content_key = $6 AND NOT EXISTS (SELECT 1 FROM known)
            AND CASE WHEN $10::timestamptz IS NOT NULL AND said_at IS NOT NULL THEN said_at = $10
                     ELSE occurred_at BETWEEN coalesce($7::timestamptz, now()) - interval '${SAME_ACTIVITY_WINDOW}'
                                          AND coalesce($7::timestamptz, now()) + interval '${SAME_ACTIVITY_WINDOW}' END
            AND ($4::text IS NULL OR activity_id IS NULL) AND ($5::text IS NULL OR message_id IS NULL)
          ORDER BY abs(extract(epoch FROM occurred_at - coalesce($7::timestamptz, now()))) LIMIT 1
       ), matched AS (
         UPDATE handoff_events e
            SET activity_id = coalesce(e.activity_id, $4), message_id = coalesce(e.message_id, $5)
           FROM candidate WHERE e.id = candidate.id RETURNING e.id
       ), inserted AS (
         INSERT INTO handoff_events
                (handoff_id, org_id, type, activity_id, message_id, content_key, said_at, data, data_sealed,
                 data_key_id, occurred_at)
         SELECT $1, $2, $3, $4, $5, $6, $10, '{}', $8, $11, coalesce($7::timestamptz, now())
          WHERE NOT EXISTS (SELECT 1 FROM known) AND NOT EXISTS (SELECT 1 FROM candidate)
         ON CONFLICT DO NOTHING RETURNING id
       )
       SELECT id, pg_notify($9, $1::text) FROM inserted`,
      [
        handoff.id,
        handoff.orgId,
        type,
        identity.activityId,
        identity.messageId,
        identity.contentKey,
        identity.at?.toISOString() ?? null,
        sealed.ciphertext,
        CHANNEL,
        identity.saidAt?.toISOString() ?? null,
        sealed.keyId,
      ],
    );
    return rows[0]?.id ?? null;
  }

  async hasAfter(handoffId: string, lastId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      'SELECT 1 FROM handoff_events WHERE handoff_id = $1 AND id > $2 LIMIT 1',
      [handoffId, lastId],
    );
    return rows.length > 0;
  }

  async findById(id: string): Promise<ConversationEventRow | undefined> {
    const rows = await this.dataSource.query<StoredRow[]>(`${SELECT} WHERE e.id = $1`, [id]);
    return this.opened(rows)[0];
  }

  /** The handoff's events after `after`, oldest first, at most `limit`. */
  async after(handoffId: string, after: bigint, limit: number): Promise<ConversationEventRow[]> {
    return this.opened(
      await this.dataSource.query<StoredRow[]>(
        `${SELECT} WHERE e.handoff_id = $1 AND e.id > $2 ORDER BY e.id LIMIT ${Number(limit)}`,
        [handoffId, after.toString()],
      ),
    );
  }

  /**
   * A connection of its own that listens for new events: `heard` gets the handoff id of each.
   * The caller keeps it, and releases it (with the error) when it fails.
   */
  async listen(
    heard: (handoffId: string) => void,
    failed: (client: PoolClient, error: Error) => void,
  ): Promise<PoolClient> {
    const client = await poolOf(this.dataSource).connect();
    client.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload) heard(message.payload);
    });
    client.on('error', (error) => failed(client, error));
    await client.query(`LISTEN ${CHANNEL}`);
    return client;
  }
}
