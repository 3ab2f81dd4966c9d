import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Omnichannel messaging settings of a connection (all four set, or none): the Messaging API
 * endpoint, the custom messaging channel, the organization id and the token scope (null: derived
 * from the environment at use).
 */
export class MessagingSettings1764240000000 implements MigrationInterface {
  name = 'MessagingSettings1764240000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE dynamics365_integration_settings
        ADD COLUMN messaging_endpoint text,
        ADD COLUMN messaging_channel_id uuid,
        ADD COLUMN messaging_organization_id uuid,
        ADD COLUMN messaging_scope text,
        ADD CONSTRAINT messaging_all_or_none CHECK (
          (messaging_endpoint IS NULL) = (messaging_channel_id IS NULL)
          AND (messaging_endpoint IS NULL) = (messaging_organization_id IS NULL)
          AND (messaging_endpoint IS NOT NULL OR messaging_scope IS NULL))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE dynamics365_integration_settings
        DROP CONSTRAINT messaging_all_or_none,
        DROP COLUMN messaging_endpoint,
        DROP COLUMN messaging_channel_id,
        DROP COLUMN messaging_organization_id,
        DROP COLUMN messaging_scope`);
  }
}
