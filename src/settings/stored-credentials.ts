import { Injectable, Logger } from '@nestjs/common';
import { AppError } from '../common/errors.js';
import type { AppCredential } from '../microsoft/auth/entra-token.client.js';
import { messagingScopeFor } from '../microsoft/dynamics-domains.js';
import { readCertificate } from './certificates.js';
import { SecretCipher, SecretDecryptionError } from './secret-cipher.js';
import type { IntegrationSettings } from './settings.entity.js';

/** The values Microsoft is called with, the credential (secret or private key) in plaintext. */
export interface PlainCredentials {
  clientId: string;
  credential: AppCredential;
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
  | 'credentialType'
  | 'certificatePem'
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
      credential: this.credentialOf(row),
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
    row.credentialType = 'client_secret';
    row.certificateId = null;
    row.certificatePem = null;
    row.clientSecretEncrypted = encrypted.ciphertext;
    row.clientSecretKeyId = encrypted.keyId;
    row.clientSecretHint = Array.from(secret).slice(0, 3).join('');
  }

  /**
   * Seals a certificate's private key onto the row as its credential; the hint is the
   * thumbprint's first six characters, the expiry the certificate's own.
   */
  sealCertificate(
    row: IntegrationSettings,
    certificateId: string,
    pair: { privateKeyPem: string; certificatePem: string },
  ): void {
    const facts = readCertificate(pair.certificatePem);
    const encrypted = this.cipher.encrypt(pair.privateKeyPem, row.orgId);
    row.credentialType = 'certificate';
    row.clientSecretEncrypted = encrypted.ciphertext;
    row.clientSecretKeyId = encrypted.keyId;
    row.clientSecretHint = facts.thumbprint.slice(0, 6);
    row.certificateId = certificateId;
    row.certificatePem = facts.certificatePem;
    row.secretExpiresAt = new Date(facts.notAfter);
  }

  /** The row's credential as the token exchange uses it. */
  credentialOf(row: StoredCredentialsRow): AppCredential {
    const plain = this.secretOf(row);
    if (row.credentialType !== 'certificate' || !row.certificatePem)
      return { type: 'client_secret', secret: plain };
    const facts = readCertificate(row.certificatePem);
    return {
      type: 'certificate',
      privateKeyPem: plain,
      thumbprintSha256: facts.thumbprintSha256,
      thumbprint: facts.thumbprint,
    };
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

  secretOf(
    row: Pick<
      StoredCredentialsRow,
      'orgId' | 'clientSecretEncrypted' | 'clientSecretKeyId' | 'credentialType'
    >,
  ): string {
    try {
      return this.cipher.decrypt(
        { keyId: row.clientSecretKeyId, ciphertext: row.clientSecretEncrypted },
        row.orgId,
      );
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      this.logger.error(`Stored secret of org ${row.orgId} cannot be decrypted: ${error.message}`);
      const what = row.credentialType === 'certificate' ? "certificate's private key" : 'client secret';
      const fix =
        row.credentialType === 'certificate'
          ? 'Generate a new certificate and Test & Save it'
          : 'Paste the secret again with Test & Save';
      throw new AppError(
        'conflict',
        `The stored ${what} cannot be decrypted: ${error.reason}. ${fix}, or ask the operator to add the key back to ENCRYPTION_KEYS.`,
      );
    }
  }
}
