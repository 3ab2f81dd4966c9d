// When each open conversation's messages are next read back from the Messaging API (DESIGN §9.4):
// the statements on the handoffs table's `conversation_catchup_at` and `conversation_read_until`.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

/** An open conversation whose read back is due, claimed by this instance. */
export interface DueConversation {
  id: string;
  orgId: string;
  sessionId: string;
  conversationId: string;
  readUntil: Date | null;
}

@Injectable()
export class ConversationReadRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The webhook was heard from: the next read back is `afterMs` of silence away. */
  async heard(manager: EntityManager, id: string, afterMs: number): Promise<void> {
    await manager.query(
      `UPDATE handoffs SET conversation_catchup_at = now() + $2 * interval '1 millisecond'
        WHERE id = $1 AND conversation_state = 'open'`,
      [id, afterMs],
    );
  }

  /** The service (re)started: whatever the webhook sent while it was down is read back now. */
  async allOpenDue(): Promise<number> {
    const [, count] = await this.dataSource.query<[unknown, number]>(
      `UPDATE handoffs SET conversation_catchup_at = now()
        WHERE conversation_state = 'open' AND conversation_id IS NOT NULL`,
    );
    return count;
  }

  /**
   * Up to `limit` conversations whose read back is due, claimed for `leaseMs` (an instance that
   * dies holding one leaves it due again then). A conversation never heard of since it was
   * delivered is due `afterMs` after delivery.
   */
  async claimDue(afterMs: number, leaseMs: number, limit: number): Promise<DueConversation[]> {
    // An UPDATE answers [rows, count] through TypeORM's PostgreSQL driver.
    const [rows] = await this.dataSource.query<[DueConversation[], number]>(
      `UPDATE handoffs h SET conversation_catchup_at = now() + $2 * interval '1 millisecond'
         FROM (SELECT id FROM handoffs
                WHERE conversation_state = 'open' AND conversation_id IS NOT NULL
                  AND coalesce(conversation_catchup_at, delivered_at + $1 * interval '1 millisecond') <= now()
                ORDER BY coalesce(conversation_catchup_at, delivered_at)
                LIMIT $3 FOR UPDATE SKIP LOCKED) due
        WHERE h.id = due.id
       RETURNING h.id, h.org_id AS "orgId", h.session_id AS "sessionId",
                 h.conversation_id AS "conversationId", h.conversation_read_until AS "readUntil"`,
      [afterMs, leaseMs, limit],
    );
    return rows;
  }

  /** A read back ended: the next one is `afterMs` away (while open); `until` the newest message seen. */
  async readDone(id: string, until: Date | null, afterMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE handoffs
          SET conversation_catchup_at = CASE WHEN conversation_state = 'open'
                                             THEN now() + $3 * interval '1 millisecond' END,
              conversation_read_until = greatest(conversation_read_until, $2::timestamptz)
        WHERE id = $1`,
      [id, until?.toISOString() ?? null, afterMs],
    );
  }
}
