import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Nothing an agent says is lost or doubled (DESIGN §9.4): each open conversation knows when its
 * messages are next read back from the Messaging API (its webhook silent for
 * MESSAGING_CATCHUP_AFTER, or the service restarted), and each event keeps what recognises it
 * again without an activity id — its content key, the timestamp the webhook call carried — and the Messaging API's message id once a
 * read has matched it. Open conversations are due at once: none has been read before.
 */
export class ConversationCatchUp1764320000000 implements MigrationInterface {
  name = 'ConversationCatchUp1764320000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE handoffs
        ADD COLUMN conversation_catchup_at timestamptz,
        ADD COLUMN conversation_read_until timestamptz`);
    await queryRunner.query(
      "UPDATE handoffs SET conversation_catchup_at = now() WHERE conversation_state = 'open'",
    );
    await queryRunner.query(`
      CREATE INDEX handoffs_conversation_catchup ON handoffs (conversation_catchup_at)
        WHERE conversation_state = 'open'`);
    await queryRunner.query(`
      ALTER TABLE handoff_events
        ADD COLUMN content_key text,
        ADD COLUMN said_at timestamptz,
        ADD COLUMN message_id text,
        ADD CONSTRAINT handoff_events_message_key UNIQUE (handoff_id, message_id)`);
    await queryRunner.query(`
      CREATE INDEX handoff_events_content ON handoff_events (handoff_id, content_key)
        WHERE content_key IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX handoff_events_content');
    await queryRunner.query(`
      ALTER TABLE handoff_events
        DROP CONSTRAINT handoff_events_message_key,
        DROP COLUMN message_id,
        DROP COLUMN said_at,
        DROP COLUMN content_key`);
    await queryRunner.query('DROP INDEX handoffs_conversation_catchup');
    await queryRunner.query(`
      ALTER TABLE handoffs
        DROP COLUMN conversation_read_until,
        DROP COLUMN conversation_catchup_at`);
  }
}
