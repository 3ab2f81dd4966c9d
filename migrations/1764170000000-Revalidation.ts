import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Nightly re-verification across many instances: sweeps (runs) that concurrent instances join,
 * and per-row leases so each org is verified once per run.
 */
export class Revalidation1764170000000 implements MigrationInterface {
  name = 'Revalidation1764170000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE dynamics365_integration_settings
        ADD COLUMN last_swept_at timestamptz,
        ADD COLUMN claimed_until timestamptz,
        ADD COLUMN claimed_by text`);
    await queryRunner.query(
      'CREATE INDEX dynamics365_settings_sweep_idx ON dynamics365_integration_settings (last_swept_at NULLS FIRST)',
    );
    await queryRunner.query(`
      CREATE TABLE revalidation_runs (
        id bigserial PRIMARY KEY,
        trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
        tick timestamptz UNIQUE,
        started_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE revalidation_runs');
    await queryRunner.query('DROP INDEX dynamics365_settings_sweep_idx');
    await queryRunner.query(`
      ALTER TABLE dynamics365_integration_settings
        DROP COLUMN last_swept_at, DROP COLUMN claimed_until, DROP COLUMN claimed_by`);
  }
}
