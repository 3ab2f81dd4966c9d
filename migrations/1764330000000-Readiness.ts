import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Readiness (DESIGN §11): what the last verification found a handoff would need and lack. */
export class Readiness1764330000000 implements MigrationInterface {
  name = 'Readiness1764330000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE dynamics365_integration_settings ADD COLUMN readiness jsonb');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE dynamics365_integration_settings DROP COLUMN readiness');
  }
}
