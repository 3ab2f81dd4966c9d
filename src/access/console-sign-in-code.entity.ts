import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A one-time code that signs the console in (see ConsoleSignIn): the token it stands for, encrypted. */
@Entity({ name: 'console_sign_in_codes' })
export class ConsoleSignInCode {
  /** SHA-256 of the code: the code itself is never stored. */
  @PrimaryColumn({ name: 'code_hash', type: 'text' })
  codeHash!: string;

  @Column({ name: 'token_ciphertext', type: 'bytea' })
  tokenCiphertext!: Buffer;

  @Column({ name: 'key_id', type: 'text' })
  keyId!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
