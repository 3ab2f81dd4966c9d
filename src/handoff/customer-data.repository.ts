// The statements that seal, purge and erase the customers' data (DESIGN §13), on the handoff room's
// tables: what older versions stored in plain text, sealed a batch at a time (resumable; instances
// running it together take different rows); content purged once HANDOFF_RETENTION has passed since
// a handoff ended; and everything of one customer erased on request. Ids, states, times and the
// Dynamics record ids stay.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { HandoffRequest } from './handoff.types.js';

/** A handoff an erasure matched: what it created in Dynamics. */
export interface ErasedHandoff {
  id: string;
  incident_id: string;
  ticket_number: string | null;
  note_id: string;
  contact_id: string | null;
  contact_created: boolean | null;
  conversation_id: string | null;
  purged: boolean;
}

/** The handoff's content and its events' data and waiting messages: gone. */
const PURGE_CONTENT = `content = NULL, content_key_id = NULL, request = NULL, content_purged_at = coalesce(content_purged_at, now())`;

/** Where sealed customer data lives, and what each ciphertext is bound to (see CustomerData). */
export const SEALED_COLUMNS = {
  handoffs: {
    table: 'handoffs',
    content: 'content',
    key: 'content_key_id',
    scope: 'session_id',
    field: 'handoffs.content',
  },
  events: {
    table: 'handoff_events',
    content: 'data_sealed',
    key: 'data_key_id',
    scope: 'handoff_id',
    field: 'handoff_events.data',
  },
  messages: {
    table: 'handoff_customer_messages',
    content: 'content',
    key: 'key_id',
    scope: 'handoff_id',
    field: 'handoff_customer_messages.content',
  },
} as const;

export type SealedKind = keyof typeof SEALED_COLUMNS;

@Injectable()
export class CustomerDataRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Up to `limit` handoffs still holding plain text, locked for sealing in `manager`'s transaction. */
  unsealedHandoffs(
    manager: EntityManager,
    limit: number,
  ): Promise<{ id: string; org_id: string; session_id: string; request: HandoffRequest }[]> {
    return manager.query(
      `SELECT id, org_id, session_id, request FROM handoffs WHERE request IS NOT NULL
        ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
  }

  async sealHandoff(
    manager: EntityManager,
    id: string,
    sealed: {
      content: Buffer;
      keyId: string;
      requestHash: string;
      emailHash: string | null;
      phoneHash: string | null;
    },
  ): Promise<void> {
    await manager.query(
      `UPDATE handoffs SET content = $2, content_key_id = $3, request_hash = $4, customer_email_hash = $5,
              customer_phone_hash = $6, request = NULL WHERE id = $1`,
      [id, sealed.content, sealed.keyId, sealed.requestHash, sealed.emailHash, sealed.phoneHash],
    );
  }

  unsealedEvents(
    manager: EntityManager,
    limit: number,
  ): Promise<{ id: string; org_id: string; handoff_id: string; data: Record<string, unknown> }[]> {
    return manager.query(
      `SELECT id::text AS id, org_id, handoff_id, data FROM handoff_events
        WHERE data_sealed IS NULL AND data <> '{}'::jsonb ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
  }

  async sealEvent(
    manager: EntityManager,
    id: string,
    sealed: { content: Buffer; keyId: string },
  ): Promise<void> {
    await manager.query(
      `UPDATE handoff_events SET data_sealed = $2, data_key_id = $3, data = '{}' WHERE id = $1`,
      [id, sealed.content, sealed.keyId],
    );
  }

  /**
   * Purges the content of handoffs that ended more than `retentionMs` ago (delivered, failed,
   * cancelled; a conversation once closed) — `limit` at a time; the number purged.
   */
  async purgeEnded(retentionMs: number, limit: number): Promise<number> {
    return this.transaction(async (manager) => {
      const rows = await manager.query<{ id: string }[]>(
        `SELECT id FROM handoffs
          WHERE content_purged_at IS NULL AND state IN ('delivered', 'failed', 'cancelled')
            AND (route <> 'conversation' OR conversation_state IS DISTINCT FROM 'open')
            AND updated_at < now() - $1 * interval '1 millisecond'
          LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [retentionMs, limit],
      );
      if (rows.length)
        await this.purge(
          manager,
          rows.map((r) => r.id),
          false,
        );
      return rows.length;
    });
  }

  /**
   * Every handoff of the org matching the session id or the keyed hashes, its content purged (and
   * the hashes that found it) in `manager`'s transaction; what each created in Dynamics.
   */
  async erase(
    manager: EntityManager,
    orgId: string,
    match: { sessionId?: string; emailHashes?: string[]; phoneHashes?: string[] },
  ): Promise<ErasedHandoff[]> {
    const rows = await manager.query<ErasedHandoff[]>(
      `SELECT id, incident_id, ticket_number, note_id, contact_id, contact_created, conversation_id,
              content_purged_at IS NULL AS purged
         FROM handoffs
        WHERE org_id = $1 AND (session_id = $2 OR customer_email_hash = ANY($3) OR customer_phone_hash = ANY($4))
        ORDER BY created_at FOR UPDATE`,
      [orgId, match.sessionId ?? null, match.emailHashes ?? [], match.phoneHashes ?? []],
    );
    if (rows.length)
      await this.purge(
        manager,
        rows.map((r) => r.id),
        true,
      );
    return rows;
  }

  /** Up to `limit` sealed values of `kind` under another key than `keyId`, locked for re-sealing. */
  sealedNotOnKey(
    manager: EntityManager,
    kind: SealedKind,
    keyId: string,
    limit: number,
  ): Promise<{ id: string; org_id: string; scope: string; content: Buffer; key_id: string }[]> {
    const c = SEALED_COLUMNS[kind];
    return manager.query(
      `SELECT id::text AS id, org_id, ${c.scope}::text AS scope, ${c.content} AS content, ${c.key} AS key_id
         FROM ${c.table} WHERE ${c.content} IS NOT NULL AND ${c.key} <> $1 LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [keyId, limit],
    );
  }

  async reseal(
    manager: EntityManager,
    kind: SealedKind,
    id: string,
    content: Buffer,
    keyId: string,
  ): Promise<void> {
    const c = SEALED_COLUMNS[kind];
    await manager.query(`UPDATE ${c.table} SET ${c.content} = $2, ${c.key} = $3 WHERE id = $1`, [
      id,
      content,
      keyId,
    ]);
  }

  /** Sealed values of `kind` by key id. */
  async countSealedByKey(kind: SealedKind): Promise<Record<string, number>> {
    const c = SEALED_COLUMNS[kind];
    const rows = await this.dataSource.query<{ key_id: string; n: number }[]>(
      `SELECT ${c.key} AS key_id, count(*)::int AS n FROM ${c.table} WHERE ${c.content} IS NOT NULL GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
  }

  private async purge(manager: EntityManager, ids: string[], erase: boolean): Promise<void> {
    await manager.query(
      `UPDATE handoffs SET ${PURGE_CONTENT}${erase ? ', customer_email_hash = NULL, customer_phone_hash = NULL' : ''}
        WHERE id = ANY($1) AND (content_purged_at IS NULL OR $2)`,
      [ids, erase],
    );
    await manager.query(
      `UPDATE handoff_events SET data_sealed = NULL, data_key_id = NULL, data = '{}'
        WHERE handoff_id = ANY($1) AND (data_sealed IS NOT NULL OR data <> '{}'::jsonb)`,
      [ids],
    );
    await manager.query('DELETE FROM handoff_customer_messages WHERE handoff_id = ANY($1)', [ids]);
  }
}
