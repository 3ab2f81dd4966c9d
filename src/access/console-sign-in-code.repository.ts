// Every statement on console_sign_in_codes: a code is written once and taken once.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

@Injectable()
export class ConsoleSignInCodeRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(codeHash: string, tokenCiphertext: Buffer, keyId: string, expiresAt: Date): Promise<void> {
    await this.dataSource.query('DELETE FROM console_sign_in_codes WHERE expires_at < now()');
    await this.dataSource.query(
      'INSERT INTO console_sign_in_codes (code_hash, token_ciphertext, key_id, expires_at) VALUES ($1, $2, $3, $4)',
      [codeHash, tokenCiphertext, keyId, expiresAt],
    );
  }

  /** Removes the code and answers what it stood for, when it has not expired; a second take finds nothing. */
  async take(codeHash: string): Promise<{ tokenCiphertext: Buffer; keyId: string } | null> {
    const [rows] = await this.dataSource.query<
      [{ token_ciphertext: Buffer; key_id: string; live: boolean }[], number]
    >(
      `DELETE FROM console_sign_in_codes WHERE code_hash = $1
       RETURNING token_ciphertext, key_id, expires_at > now() AS live`,
      [codeHash],
    );
    const row = rows[0];
    return row?.live ? { tokenCiphertext: row.token_ciphertext, keyId: row.key_id } : null;
  }
}
