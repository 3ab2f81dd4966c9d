// Signing the console in without a token in any URL the browser records: a caller with a token
// asks for a one-time code (valid 60 s), the console is opened at /console/#code=…, and the page
// exchanges the code by POST for the token, which it keeps in sessionStorage. The history holds
// only a used code. The token is stored encrypted meanwhile (ENCRYPTION_KEYS), under its code's
// digest only.
import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors.js';
import { SecretCipher, SecretDecryptionError } from '../settings/secret-cipher.js';
import { ConsoleSignInCodeRepository } from './console-sign-in-code.repository.js';
import { TokenVerifier } from './token-verifier.js';

const CODE_LIFETIME_MS = 60_000;

@Injectable()
export class ConsoleSignIn {
  constructor(
    private readonly codes: ConsoleSignInCodeRepository,
    private readonly cipher: SecretCipher,
    private readonly verifier: TokenVerifier,
  ) {}

  /** A code for the bearer token of this request (already verified by the guard). */
  async issue(authorization: string | undefined): Promise<{ code: string; expires_at: string }> {
    const token = /^Bearer +(\S+)$/i.exec(authorization?.trim() ?? '')?.[1];
    if (!token)
      throw new AppError('unauthorized', 'A bearer token is required (Authorization: Bearer <token>).');
    const code = randomBytes(32).toString('base64url');
    const digest = digestOf(code);
    const encrypted = this.cipher.encrypt(token, `console-sign-in:${digest}`);
    const expiresAt = new Date(Date.now() + CODE_LIFETIME_MS);
    await this.codes.create(digest, encrypted.ciphertext, encrypted.keyId, expiresAt);
    return { code, expires_at: expiresAt.toISOString() };
  }

  /** The token a code stands for, once; a used, expired or unknown code is refused alike. */
  async redeem(code: string): Promise<{ token: string }> {
    const refused = () =>
      new AppError(
        'unauthorized',
        'The sign-in code is not valid: unknown, used or expired. Ask for a new one.',
      );
    const digest = digestOf(code);
    const taken = await this.codes.take(digest);
    if (!taken) throw refused();
    let token: string;
    try {
      token = this.cipher.decrypt(
        { ciphertext: taken.tokenCiphertext, keyId: taken.keyId },
        `console-sign-in:${digest}`,
      );
    } catch (error) {
      if (error instanceof SecretDecryptionError) throw refused();
      throw error;
    }
    // The token may have expired meanwhile.
    await this.verifier.verify(`Bearer ${token}`);
    return { token };
  }
}

function digestOf(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}
