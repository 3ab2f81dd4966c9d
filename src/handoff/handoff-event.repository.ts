// Every statement on handoff_events, and the channel that announces new ones: an event is stored
// and NOTIFY'd in the transaction that received it, so listeners on every instance hear of it
// exactly when it is committed.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { poolOf } from '../database/pool.js';

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

const SELECT = `SELECT e.id::text AS id, e.type, e.data, e.occurred_at, h.session_id, h.conversation_id
                  FROM handoff_events e JOIN handoffs h ON h.id = e.handoff_id`;

@Injectable()
export class HandoffEventRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Stores an event in the caller's transaction and announces it when that commits; null when
   * the activity was stored before (its id is known).
   */
  async insert(
    manager: EntityManager,
    handoff: { id: string; orgId: string },
    type: ConversationEventType,
    data: Record<string, unknown>,
    activityId: string | null,
  ): Promise<string | null> {
    const rows = await manager.query<{ id: string }[]>(
      `INSERT INTO handoff_events (handoff_id, org_id, type, activity_id, data) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (handoff_id, activity_id) DO NOTHING RETURNING id`,
      [handoff.id, handoff.orgId, type, activityId, JSON.stringify(data)],
    );
    if (rows.length === 0) return null;
    await manager.query('SELECT pg_notify($1, $2)', [CHANNEL, handoff.id]);
    return rows[0].id;
  }

  async hasAfter(handoffId: string, lastId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      'SELECT 1 FROM handoff_events WHERE handoff_id = $1 AND id > $2 LIMIT 1',
      [handoffId, lastId],
    );
    return rows.length > 0;
  }

  async findById(id: string): Promise<ConversationEventRow | undefined> {
    const rows = await this.dataSource.query<ConversationEventRow[]>(`${SELECT} WHERE e.id = $1`, [id]);
    return rows[0];
  }

  /** The handoff's events after `after`, oldest first, at most `limit`. */
  after(handoffId: string, after: bigint, limit: number): Promise<ConversationEventRow[]> {
    return this.dataSource.query<ConversationEventRow[]>(
      `${SELECT} WHERE e.handoff_id = $1 AND e.id > $2 ORDER BY e.id LIMIT ${Number(limit)}`,
      [handoffId, after.toString()],
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
