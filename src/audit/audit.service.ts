import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager, QueryDeepPartialEntity } from 'typeorm';
import { AuditAction, AuditEvent } from './audit-event.entity.js';
import { canonicalJson } from './canonical-json.js';

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

/** Namespace of the per-org advisory locks that serialise chain appends. */
const CHAIN_LOCK_NAMESPACE = 7301;

@Injectable()
export class AuditService {
  /**
   * Appends an event inside the caller's transaction, so it commits (or not) with the change it
   * records. Appends for one org are serialised by a transaction-scoped advisory lock taken
   * before the id is drawn, so ids and the hash chain advance in the same order.
   */
  async record(
    manager: EntityManager,
    orgId: string,
    action: AuditAction,
    context: AuditContext,
    details: Record<string, unknown>,
  ): Promise<AuditEvent> {
    if (!manager.queryRunner?.isTransactionActive) throw new Error('AuditService.record needs a transaction');
    await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [CHAIN_LOCK_NAMESPACE, orgId]);
    const [{ id }] = await manager.query<{ id: string }[]>(
      "SELECT nextval('audit_events_id_seq')::text AS id",
    );
    const head = await manager.query<{ last_hash: string }[]>(
      'SELECT last_hash FROM audit_chain_heads WHERE org_id = $1',
      [orgId],
    );
    const prevHash = head[0]?.last_hash ?? null;
    const event = manager.create(AuditEvent, {
      id,
      orgId,
      occurredAt: new Date(),
      action,
      actorType: context.actor.type,
      actorId: context.actor.id,
      actorName: context.actor.name,
      requestId: context.requestId,
      ip: context.ip,
      userAgent: context.userAgent,
      details,
      prevHash,
    });
    event.hash = chainHash(prevHash, event);
    // jsonb `details` is typed loosely, which TypeORM's deep-partial insert type does not accept.
    await manager.insert(AuditEvent, event as unknown as QueryDeepPartialEntity<AuditEvent>);
    await manager.query(
      `INSERT INTO audit_chain_heads (org_id, last_id, last_hash, event_count) VALUES ($1, $2, $3, 1)
       ON CONFLICT (org_id) DO UPDATE SET last_id = $2, last_hash = $3, event_count = audit_chain_heads.event_count + 1`,
      [orgId, id, event.hash],
    );
    return event;
  }
}

/** The hashed content of an event, whichever way it was read. */
export interface ChainFields {
  id: string;
  orgId: string;
  occurredAt: Date;
  action: string;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

/** SHA-256 over the previous hash and the event's canonical JSON (hex). */
export function chainHash(prevHash: string | null, event: ChainFields): string {
  const content = canonicalJson({
    id: String(event.id),
    org_id: event.orgId,
    occurred_at: event.occurredAt.toISOString(),
    action: event.action,
    actor: { type: event.actorType, id: event.actorId, name: event.actorName },
    request_id: event.requestId,
    ip: event.ip,
    user_agent: event.userAgent,
    details: event.details,
  });
  return createHash('sha256')
    .update(prevHash ?? '')
    .update('\n')
    .update(content)
    .digest('hex');
}
