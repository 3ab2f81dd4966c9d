import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Handoffs delivered as Omnichannel conversations: whether the conversation is still open, and
 * how many of the transcript's follow-up messages (beyond the start message) were sent.
 */
export class HandoffConversations1764250000000 implements MigrationInterface {
  name = 'HandoffConversations1764250000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE handoffs
        ADD COLUMN conversation_state text CHECK (conversation_state IN ('open', 'closed')),
        ADD COLUMN conversation_parts_sent integer NOT NULL DEFAULT 0`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE handoffs DROP COLUMN conversation_state, DROP COLUMN conversation_parts_sent',
    );
  }
}
