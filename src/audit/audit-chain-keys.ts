// The key half of the audit chain. Hashes (SHA-256 over the previous hash and the event) are
// computed by PostgreSQL and can be recomputed by anyone with database access; the MACs below
// cannot, because AUDIT_CHAIN_KEY never reaches the database. HMAC-SHA256 from node:crypto.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';

export interface Mac {
  mac: string;
  keyId: string;
}

@Injectable()
export class AuditChainKeys {
  private readonly keys: Map<string, Buffer>;
  private readonly activeId: string;

  constructor(config: AppConfig) {
    this.keys = new Map(config.auditChainKeys.map((k) => [k.id, k.key]));
    this.activeId = config.auditChainKeys[0].id;
  }

  signEvent(orgId: string, id: string, hash: string): Mac {
    return this.sign(eventMessage(orgId, id, hash));
  }

  checkEvent(orgId: string, id: string, hash: string, mac: Mac | null): boolean {
    return this.check(eventMessage(orgId, id, hash), mac);
  }

  signHead(orgId: string, head: ChainHead): Mac {
    return this.sign(headMessage(orgId, head));
  }

  checkHead(orgId: string, head: ChainHead, mac: Mac | null): boolean {
    return this.check(headMessage(orgId, head), mac);
  }

  private sign(message: string): Mac {
    return { mac: hmac(this.keys.get(this.activeId)!, message), keyId: this.activeId };
  }

  /** False for a missing MAC, a key id not in the ring, or a MAC that does not match. */
  private check(message: string, mac: Mac | null): boolean {
    const key = mac ? this.keys.get(mac.keyId) : undefined;
    if (!mac || !key || !/^[0-9a-f]{64}$/.test(mac.mac)) return false;
    return timingSafeEqual(Buffer.from(hmac(key, message), 'hex'), Buffer.from(mac.mac, 'hex'));
  }
}

export interface ChainHead {
  lastId: string;
  lastHash: string;
  eventCount: string;
}

function hmac(key: Buffer, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('hex');
}

/** Org ids have no newline, ids are digits and hashes hex: the fields cannot run into each other. */
function eventMessage(orgId: string, id: string, hash: string): string {
  return `audit-event\n${orgId}\n${id}\n${hash}`;
}

function headMessage(orgId: string, head: ChainHead): string {
  return `audit-head\n${orgId}\n${head.lastId}\n${head.lastHash}\n${head.eventCount}`;
}
