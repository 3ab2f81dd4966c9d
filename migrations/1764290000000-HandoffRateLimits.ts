import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Handoffs accepted per org per minute (HANDOFF_RATE_LIMIT_PER_MINUTE). */
export class HandoffRateLimits1764290000000 implements MigrationInterface {
  name = 'HandoffRateLimits1764290000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE handoff_rate_limits (
        org_id text NOT NULL,
        window_start timestamptz NOT NULL,
        accepted integer NOT NULL,
        PRIMARY KEY (org_id, window_start)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE handoff_rate_limits');
  }
}
