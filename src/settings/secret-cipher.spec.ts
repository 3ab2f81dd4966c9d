import { randomBytes } from 'node:crypto';
import { loadConfig } from '../config/app-config.js';
import { SecretCipher, SecretDecryptionError } from './secret-cipher.js';

const key = () => randomBytes(32).toString('base64');
const cipherWith = (keyring: string) =>
  new SecretCipher(
    loadConfig({ ENCRYPTION_KEYS: keyring, AUDIT_CHAIN_KEY: `a1:${key()}`, AUTH_JWT_SECRET: 'x'.repeat(32) }),
  );

describe('SecretCipher', () => {
  const k1 = key();
  const k2 = key();

  it('round-trips a secret under the active key with a fresh IV each time', () => {
    const cipher = cipherWith(`k1:${k1}`);
    const a = cipher.encrypt('s3cr3t~value', 'acme');
    const b = cipher.encrypt('s3cr3t~value', 'acme');
    expect(a.keyId).toBe('k1');
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.ciphertext.subarray(1, 13).equals(b.ciphertext.subarray(1, 13))).toBe(false);
    expect(a.ciphertext.includes(Buffer.from('s3cr3t~value'))).toBe(false);
    expect(cipher.decrypt(a, 'acme')).toBe('s3cr3t~value');
  });

  it('refuses a ciphertext bound to another org', () => {
    const cipher = cipherWith(`k1:${k1}`);
    const encrypted = cipher.encrypt('s3cr3t', 'acme');
    expect(() => cipher.decrypt(encrypted, 'globex')).toThrow(SecretDecryptionError);
  });

  it('detects tampering', () => {
    const cipher = cipherWith(`k1:${k1}`);
    const encrypted = cipher.encrypt('s3cr3t', 'acme');
    encrypted.ciphertext[encrypted.ciphertext.length - 1] ^= 1;
    expect(() => cipher.decrypt(encrypted, 'acme')).toThrow(/authentication failed/);
  });

  it('decrypts with older keys of the ring and re-encrypts under the active one', () => {
    const old = cipherWith(`k1:${k1}`).encrypt('rotate-me', 'acme');
    const rotated = cipherWith(`k2:${k2},k1:${k1}`);
    expect(rotated.decrypt(old, 'acme')).toBe('rotate-me');
    const again = rotated.reencrypt(old, 'acme');
    expect(again.keyId).toBe('k2');
    expect(cipherWith(`k2:${k2}`).decrypt(again, 'acme')).toBe('rotate-me');
  });

  it('names a key missing from the ring', () => {
    const encrypted = cipherWith(`k1:${k1}`).encrypt('x', 'acme');
    expect(() => cipherWith(`k2:${k2}`).decrypt(encrypted, 'acme')).toThrow(
      /key "k1" is not in ENCRYPTION_KEYS/,
    );
  });
});
