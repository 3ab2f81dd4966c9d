import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What happens in a handoff's Omnichannel conversation after it started: the representative's
 * messages, typing, events and the end, as received on the messaging webhook. Streams (SSE) read
 * them from here after a reconnect; each insert is announced with NOTIFY to every instance.
 */
export class HandoffEvents1764260000000 implements MigrationInterface {
  name = 'HandoffEvents1764260000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE handoff_events (
        id bigserial PRIMARY KEY,
        handoff_id uuid NOT NULL REFERENCES handoffs (id) ON DELETE CASCADE,
        org_id text NOT NULL,
        type text NOT NULL,
        activity_id text,
        data jsonb NOT NULL,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT handoff_events_activity_key UNIQUE (handoff_id, activity_id)
      )`);
    await queryRunner.query('CREATE INDEX handoff_events_handoff_idx ON handoff_events (handoff_id, id)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE handoff_events');
  }
}
