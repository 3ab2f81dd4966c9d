import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Verification attempts are limited over any rolling minute instead of per calendar minute: each
 * org keeps the times of its recent attempts (at most the limit), replacing the per-minute counters.
 */
export class RollingRateLimit1764210000000 implements MigrationInterface {
  name = 'RollingRateLimit1764210000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE verification_attempts');
    await queryRunner.query(`
      CREATE TABLE verification_rate_limits (
        org_id text PRIMARY KEY,
        attempts timestamptz[] NOT NULL DEFAULT '{}'
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE verification_rate_limits');
    await queryRunner.query(`
      CREATE TABLE verification_attempts (
        org_id text NOT NULL,
        window_start timestamptz NOT NULL,
        attempts integer NOT NULL,
        PRIMARY KEY (org_id, window_start)
      )`);
  }
}
