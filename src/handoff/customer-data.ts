// The customers' own words and details (DESIGN §13): sealed with the ENCRYPTION_KEYS keyring
// (AES-256-GCM, each ciphertext bound to its org, its handoff and its field, so one copied
// elsewhere does not open), never stored in plain text; and the keyed hashes (HMAC) that stand in
// for them where a lookup or a comparison is needed — the idempotency hash of a submitted body,
// and the e-mail and phone an erasure request names. The hash key is derived from AUDIT_CHAIN_KEY
// (stable across ENCRYPTION_KEYS rotations); every key of that keyring is tried on lookups.
import { createHmac, hkdfSync } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { SecretCipher } from '../settings/secret-cipher.js';
import type { HandoffRequest } from './handoff.types.js';

/** What is sealed, and under which key. */
export interface Sealed {
  ciphertext: Buffer;
  keyId: string;
}

export type IdentifierKind = 'email' | 'phone' | 'session';

@Injectable()
export class CustomerData {
  private readonly hashKeys: Buffer[];

  constructor(
    config: AppConfig,
    private readonly cipher: SecretCipher,
  ) {
    this.hashKeys = config.auditChainKeys.map((k) =>
      Buffer.from(hkdfSync('sha256', k.key, Buffer.alloc(0), 'dynamics365-connector customer data', 32)),
    );
  }

  /** A handoff's submitted body, sealed to its org and session. */
  sealRequest(orgId: string, sessionId: string, request: HandoffRequest): Sealed {
    const sealed = this.cipher.encrypt(JSON.stringify(request), orgId, `handoffs.content:${sessionId}`);
    return { ciphertext: sealed.ciphertext, keyId: sealed.keyId };
  }

  openRequest(orgId: string, sessionId: string, sealed: Sealed): HandoffRequest {
    return JSON.parse(
      this.cipher.decrypt(
        { ciphertext: sealed.ciphertext, keyId: sealed.keyId },
        orgId,
        `handoffs.content:${sessionId}`,
      ),
    ) as HandoffRequest;
  }

  /**
   * The row's submitted body, opened into `row.request` for this process: sealed content, or what
   * an older version stored in plain text, or — purged — only its session and channel.
   */
  requestOf(row: {
    orgId: string;
    sessionId: string;
    channel: HandoffRequest['channel'];
    content: Buffer | null;
    contentKeyId: string | null;
    legacyRequest: HandoffRequest | null;
    request?: HandoffRequest;
  }): HandoffRequest {
    row.request ??=
      row.content && row.contentKeyId
        ? this.openRequest(row.orgId, row.sessionId, { ciphertext: row.content, keyId: row.contentKeyId })
        : (row.legacyRequest ?? { session_id: row.sessionId, channel: row.channel });
    return row.request;
  }

  /** Any other piece of a handoff's content (an event's data, a customer message), sealed to it and its field. */
  seal(orgId: string, handoffId: string, field: string, value: unknown): Sealed {
    const sealed = this.cipher.encrypt(JSON.stringify(value), orgId, `${field}:${handoffId}`);
    return { ciphertext: sealed.ciphertext, keyId: sealed.keyId };
  }

  open<T>(orgId: string, handoffId: string, field: string, sealed: Sealed): T {
    return JSON.parse(
      this.cipher.decrypt(
        { ciphertext: sealed.ciphertext, keyId: sealed.keyId },
        orgId,
        `${field}:${handoffId}`,
      ),
    ) as T;
  }

  /** The keyed hash of a value under the active key. */
  hash(purpose: string, value: string): string {
    return this.hashesOf(purpose, value)[0];
  }

  /** Its keyed hashes under every key (what was stored under an older one still matches). */
  hashesOf(purpose: string, value: string): string[] {
    return this.hashKeys.map((key) =>
      createHmac('sha256', key).update(`${purpose}\n${value}`).digest('base64url'),
    );
  }

  /** An identifier as a customer gives it, normalised: e-mail lower-cased, phone digits only. */
  static normalise(kind: IdentifierKind, value: string): string {
    if (kind === 'email') return value.trim().toLowerCase();
    if (kind === 'phone') return value.replace(/[^\d]/g, '');
    return value;
  }
}
