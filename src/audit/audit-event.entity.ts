import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AuditAction } from './audit-action.js';

/**
 * One event of an org's append-only audit chain. Written and read with SQL by AuditRepository
 * (the hash is computed by PostgreSQL's audit_event_hash, the MAC by the service); this entity
 * declares the table's shape.
 */
@Entity({ name: 'audit_events' })
export class AuditEvent {
  @PrimaryColumn({ name: 'id', type: 'bigint' })
  id!: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'action', type: 'text' })
  action!: AuditAction;

  @Column({ name: 'actor_type', type: 'text' })
  actorType!: 'user' | 'system';

  @Column({ name: 'actor_id', type: 'text', nullable: true })
  actorId!: string | null;

  @Column({ name: 'actor_name', type: 'text', nullable: true })
  actorName!: string | null;

  /** The id this service gave the request. */
  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId!: string | null;

  /** The X-Request-Id the caller sent. */
  @Column({ name: 'client_request_id', type: 'text', nullable: true })
  clientRequestId!: string | null;

  @Column({ name: 'ip', type: 'text', nullable: true })
  ip!: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent!: string | null;

  @Column({ name: 'details', type: 'jsonb', default: () => "'{}'::jsonb" })
  details!: Record<string, unknown>;

  @Column({ name: 'prev_hash', type: 'text', nullable: true })
  prevHash!: string | null;

  @Column({ name: 'hash', type: 'text' })
  hash!: string;

  /** HMAC-SHA256 of (org, id, hash) under the AUDIT_CHAIN_KEY named by macKeyId. */
  @Column({ name: 'mac', type: 'text', nullable: true })
  mac!: string | null;

  @Column({ name: 'mac_key_id', type: 'text', nullable: true })
  macKeyId!: string | null;
}

/** The newest event and the event count of an org's chain, signed, so cutting off its end shows. */
@Entity({ name: 'audit_chain_heads' })
export class AuditChainHead {
  @PrimaryColumn({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ name: 'last_id', type: 'bigint' })
  lastId!: string;

  @Column({ name: 'last_hash', type: 'text' })
  lastHash!: string;

  @Column({ name: 'event_count', type: 'bigint' })
  eventCount!: string;

  @Column({ name: 'mac', type: 'text', nullable: true })
  mac!: string | null;

  @Column({ name: 'mac_key_id', type: 'text', nullable: true })
  macKeyId!: string | null;
}
