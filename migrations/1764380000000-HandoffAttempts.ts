import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each delivery attempt of a handoff as it ended (the console's attempt history): written with the
 * handoff's own update, deleted with the handoff.
 */
export class HandoffAttempts1764380000000 implements MigrationInterface {
  name = 'HandoffAttempts1764380000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE handoff_attempts (
        id bigserial NOT NULL,
        handoff_id uuid NOT NULL,
        attempt integer NOT NULL,
        outcome text NOT NULL,
        reason text,
        error jsonb,
        next_attempt_at timestamptz,
        ended_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT handoff_attempts_pkey PRIMARY KEY (id),
        CONSTRAINT handoff_attempts_handoff_fkey FOREIGN KEY (handoff_id) REFERENCES handoffs (id) ON DELETE CASCADE
      )`,
    );
    await queryRunner.query('CREATE INDEX handoff_attempts_handoff ON handoff_attempts (handoff_id, id)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE handoff_attempts');
  }
}
