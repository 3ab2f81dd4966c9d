import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { toStorableJson, toStorableText } from '../common/storable-text.js';
import type { AuditAction } from './audit-action.js';
import { AuditChainKeys } from './audit-chain-keys.js';
import { AuditRepository } from './audit.repository.js';

interface Actor {
  type: 'user' | 'system';
  id: string | null;
  name: string | null;
}

/** Who did it and from where: taken from the token and the HTTP request, or `system`. */
export interface AuditContext {
  actor: Actor;
  /** The id this service gave the request. */
  requestId: string | null;
  /** The X-Request-Id the caller sent, kept beside ours. */
  clientRequestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export const SYSTEM_CONTEXT: AuditContext = {
  actor: { type: 'system', id: null, name: null },
  requestId: null,
  clientRequestId: null,
  ip: null,
  userAgent: null,
};

export interface RecordedEvent {
  id: string;
  occurredAt: string;
  prevHash: string | null;
  hash: string;
}

/**
 * Appends to the org's audit chain: under the org's chain lock the database places the event
 * (id, clock, link, hash), the service signs it with AUDIT_CHAIN_KEY, and the event and the new
 * chain head are written.
 */
@Injectable()
export class AuditService {
  constructor(
    private readonly repository: AuditRepository,
    private readonly keys: AuditChainKeys,
  ) {}

  /** Inside the caller's transaction, so the event commits (or not) with the change it records. */
  async record(
    manager: EntityManager,
    orgId: string,
    action: AuditAction,
    context: AuditContext,
    details: Record<string, unknown>,
  ): Promise<RecordedEvent> {
    if (!manager.queryRunner?.isTransactionActive) throw new Error('AuditService.record needs a transaction');
    const event = {
      orgId,
      action,
      actorType: context.actor.type,
      actorId: context.actor.id,
      actorName: context.actor.name === null ? null : toStorableText(context.actor.name),
      requestId: context.requestId,
      clientRequestId: context.clientRequestId,
      ip: context.ip,
      userAgent: context.userAgent === null ? null : toStorableText(context.userAgent),
      details: toStorableJson(details),
    };
    await this.repository.lockChain(manager, orgId);
    const placed = await this.repository.place(manager, event);
    const mac = this.keys.signEvent(orgId, placed.id, placed.hash);
    const headMac = this.keys.signHead(orgId, {
      lastId: placed.id,
      lastHash: placed.hash,
      eventCount: placed.eventCount,
    });
    await this.repository.insert(manager, event, placed, mac, headMac);
    return { id: placed.id, occurredAt: placed.occurredAt, prevHash: placed.prevHash, hash: placed.hash };
  }
}
