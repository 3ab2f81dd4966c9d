import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The start-up pass that seals events older versions stored in plain text looks for them through
 * this index, not by reading the whole events table at every start.
 */
export class UnsealedEventsIndex1764360000000 implements MigrationInterface {
  name = 'UnsealedEventsIndex1764360000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      "CREATE INDEX handoff_events_unsealed ON handoff_events (id) WHERE data_sealed IS NULL AND data <> '{}'::jsonb",
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX handoff_events_unsealed');
  }
}
