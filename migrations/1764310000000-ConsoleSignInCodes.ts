import type { MigrationInterface, QueryRunner } from 'typeorm';

/** One-time sign-in codes of the console: the token never has to be part of a URL. */
export class ConsoleSignInCodes1764310000000 implements MigrationInterface {
  name = 'ConsoleSignInCodes1764310000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE console_sign_in_codes (
        code_hash text PRIMARY KEY,
        token_ciphertext bytea NOT NULL,
        key_id text NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE console_sign_in_codes');
  }
}
