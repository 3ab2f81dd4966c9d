// AES-256-GCM for client secrets at rest. Layout: version byte, 96-bit random IV, 128-bit tag,
// ciphertext; the key id is stored beside it. The additional authenticated data binds the
// ciphertext to its table, column and org, so a ciphertext copied to another org's row (or
// column) does not decrypt.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig, EncryptionKey, parseKeyring } from '../config/app-config.js';
import { loadOrCreateDevSecrets } from '../config/dev-secrets.js';

export interface EncryptedSecret {
  keyId: string;
  ciphertext: Buffer;
}

const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretDecryptionError extends Error {
  constructor(readonly reason: string) {
    super(`The stored client secret cannot be decrypted: ${reason}`);
    this.name = 'SecretDecryptionError';
  }
}

@Injectable()
export class SecretCipher {
  private keys!: Map<string, Buffer>;
  private active!: EncryptionKey;
  /** DATA_DIR, when the keyring is the generated development one (`keys:rotate` may add keys to it). */
  private readonly devKeyringDir?: string;

  constructor(config: AppConfig) {
    this.useKeyring(config.encryptionKeys);
    if (config.generatedSecrets.includes('ENCRYPTION_KEYS')) this.devKeyringDir = config.dataDir;
  }

  get activeKeyId(): string {
    return this.active.id;
  }

  /** Whether a ciphertext under this key id can be decrypted here. */
  hasKey(keyId: string): boolean {
    return this.keyFor(keyId) !== undefined;
  }

  private useKeyring(keyring: EncryptionKey[]): void {
    this.active = keyring[0];
    this.keys = new Map(keyring.map((k) => [k.id, k.key]));
  }

  /**
   * In development, `npm run keys:rotate` beside the running service adds a key to the generated
   * keyring file and re-encrypts rows under it: an unknown key id re-reads that file once.
   */
  private keyFor(keyId: string): Buffer | undefined {
    if (!this.keys.has(keyId) && this.devKeyringDir) {
      const reloaded = parseKeyring(loadOrCreateDevSecrets(this.devKeyringDir).encryption_keys);
      if (typeof reloaded !== 'string' && reloaded.some((k) => k.id === keyId)) this.useKeyring(reloaded);
    }
    return this.keys.get(keyId);
  }

  /** `column`: the table and column the ciphertext is bound to (default: the client secret's). */
  encrypt(plaintext: string, orgId: string, column = CLIENT_SECRET_COLUMN): EncryptedSecret {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.active.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(orgId, column));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      keyId: this.active.id,
      ciphertext: Buffer.concat([Buffer.from([FORMAT_VERSION]), iv, cipher.getAuthTag(), body]),
    };
  }

  decrypt(secret: EncryptedSecret, orgId: string, column = CLIENT_SECRET_COLUMN): string {
    const key = this.keyFor(secret.keyId);
    if (!key) throw new SecretDecryptionError(`key "${secret.keyId}" is not in ENCRYPTION_KEYS`);
    const { ciphertext } = secret;
    if (ciphertext.length < 1 + IV_BYTES + TAG_BYTES || ciphertext[0] !== FORMAT_VERSION) {
      throw new SecretDecryptionError('unknown format');
    }
    const iv = ciphertext.subarray(1, 1 + IV_BYTES);
    const tag = ciphertext.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(orgId, column));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([
        decipher.update(ciphertext.subarray(1 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SecretDecryptionError('authentication failed (wrong key, org or tampered data)');
    }
  }

  /** Re-encrypts under the active key (no-op result when already on it). */
  reencrypt(secret: EncryptedSecret, orgId: string): EncryptedSecret {
    return this.encrypt(this.decrypt(secret, orgId), orgId);
  }
}

const CLIENT_SECRET_COLUMN = 'dynamics365_integration_settings.client_secret_encrypted';

function additionalData(orgId: string, column: string): Buffer {
  return Buffer.from(`${column}:${orgId}`, 'utf8');
}
