import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuditAction } from './audit-action.js';

export interface Actor {
  type: 'user' | 'system';
  id: string | null;
  name: string | null;
}

/** Who did it and from where: taken from the token and the HTTP request, or `system`. */
export interface AuditContext {
  actor: Actor;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export const SYSTEM_CONTEXT: AuditContext = {
  actor: { type: 'system', id: null, name: null },
  requestId: null,
  ip: null,
  userAgent: null,
};

export interface RecordedEvent {
  id: string;
  occurredAt: Date;
  prevHash: string | null;
  hash: string;
}

/** Namespace of the per-org advisory locks that serialise chain appends. */
const CHAIN_LOCK_NAMESPACE = 7301;

/**
 * Appends to the org's audit chain. Under a per-org transaction-scoped advisory lock, one
 * statement draws the id and the database clock (so ids and times advance together per org),
 * links to the chain head, computes the hash with `audit_event_hash()` (the same function the
 * integrity check uses) and moves the head.
 */
@Injectable()
export class AuditService {
  /** Inside the caller's transaction, so the event commits (or not) with the change it records. */
  async record(
    manager: EntityManager,
    orgId: string,
    action: AuditAction,
    context: AuditContext,
    details: Record<string, unknown>,
  ): Promise<RecordedEvent> {
    if (!manager.queryRunner?.isTransactionActive) throw new Error('AuditService.record needs a transaction');
    await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [CHAIN_LOCK_NAMESPACE, orgId]);
    const [event] = await manager.query<
      { id: string; occurred_at: Date; prev_hash: string | null; hash: string }[]
    >(
      `WITH v AS (
         SELECT nextval('audit_events_id_seq') AS id,
                date_trunc('milliseconds', clock_timestamp()) AS occurred_at,
                (SELECT last_hash FROM audit_chain_heads WHERE org_id = $1) AS prev_hash
       ), inserted AS (
         INSERT INTO audit_events (id, org_id, occurred_at, action, actor_type, actor_id, actor_name, request_id, ip, user_agent, details, prev_hash, hash)
         SELECT v.id, $1, v.occurred_at, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, v.prev_hash,
                audit_event_hash(v.prev_hash, v.id, $1, v.occurred_at, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
           FROM v
         RETURNING id, occurred_at, prev_hash, hash
       ), head AS (
         INSERT INTO audit_chain_heads (org_id, last_id, last_hash, event_count)
         SELECT $1, id, hash, 1 FROM inserted
         ON CONFLICT (org_id) DO UPDATE
           SET last_id = EXCLUDED.last_id, last_hash = EXCLUDED.last_hash, event_count = audit_chain_heads.event_count + 1
       )
       SELECT id::text, occurred_at, prev_hash, hash FROM inserted`,
      [
        orgId,
        action,
        context.actor.type,
        context.actor.id,
        context.actor.name,
        context.requestId,
        context.ip,
        context.userAgent,
        JSON.stringify(details),
      ],
    );
    return { id: event.id, occurredAt: event.occurred_at, prevHash: event.prev_hash, hash: event.hash };
  }
}
