import { Injectable, Logger } from '@nestjs/common';
import { AppError } from '../common/errors.js';
import { messagingScopeFor } from '../microsoft/dynamics-domains.js';
import { SecretCipher, SecretDecryptionError } from './secret-cipher.js';
import type { IntegrationSettings } from './settings.entity.js';

/** The four values Microsoft is called with, the secret in plaintext. */
export interface PlainCredentials {
  clientId: string;
  clientSecret: string;
  tenantId: string;
  environmentUrl: string;
  /** With Omnichannel messaging configured: the Messaging API's token scope. */
  messagingScope?: string;
}

export type StoredCredentialsRow = Pick<
  IntegrationSettings,
  | 'orgId'
  | 'clientId'
  | 'tenantId'
  | 'environmentUrl'
  | 'clientSecretEncrypted'
  | 'clientSecretKeyId'
  | 'messagingOrganizationId'
  | 'messagingScope'
>;

/** The one place a stored secret is decrypted: everything else receives credentials from here. */
@Injectable()
export class StoredCredentials {
  private readonly logger = new Logger(StoredCredentials.name);

  constructor(private readonly cipher: SecretCipher) {}

  /** Whether this instance holds the key the row's secret is encrypted under. */
  readable(row: Pick<IntegrationSettings, 'clientSecretKeyId'>): boolean {
    return this.cipher.hasKey(row.clientSecretKeyId);
  }

  /**
   * The row's credentials with the secret decrypted. A secret that cannot be decrypted (its key
   * left ENCRYPTION_KEYS) is a 409 with what to do, not a 500.
   */
  of(row: StoredCredentialsRow): PlainCredentials {
    return {
      clientId: row.clientId,
      tenantId: row.tenantId,
      environmentUrl: row.environmentUrl,
      clientSecret: this.secretOf(row),
      ...(row.messagingOrganizationId
        ? {
            messagingScope:
              row.messagingScope ?? messagingScopeFor(row.environmentUrl, row.messagingOrganizationId),
          }
        : {}),
    };
  }

  /** Encrypts a new secret onto the row (ciphertext, key id, and the hint Azure shows: its first three characters). */
  seal(row: IntegrationSettings, secret: string): void {
    const encrypted = this.cipher.encrypt(secret, row.orgId);
    row.clientSecretEncrypted = encrypted.ciphertext;
    row.clientSecretKeyId = encrypted.keyId;
    row.clientSecretHint = Array.from(secret).slice(0, 3).join('');
  }

  /** Whether the row's stored secret is this one (false when it cannot be decrypted). */
  holds(row: StoredCredentialsRow, secret: string): boolean {
    try {
      return (
        this.cipher.decrypt(
          { keyId: row.clientSecretKeyId, ciphertext: row.clientSecretEncrypted },
          row.orgId,
        ) === secret
      );
    } catch {
      return false;
    }
  }

  secretOf(row: Pick<StoredCredentialsRow, 'orgId' | 'clientSecretEncrypted' | 'clientSecretKeyId'>): string {
    try {
      return this.cipher.decrypt(
        { keyId: row.clientSecretKeyId, ciphertext: row.clientSecretEncrypted },
        row.orgId,
      );
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      this.logger.error(`Stored secret of org ${row.orgId} cannot be decrypted: ${error.message}`);
      throw new AppError(
        'conflict',
        `The stored client secret cannot be decrypted: ${error.reason}. Paste the secret again with Test & Save, or ask the operator to add the key back to ENCRYPTION_KEYS.`,
      );
    }
  }
}
