import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who may call an org's messaging webhook: the Application ID URI Microsoft's token is issued for
 * (null: `api://<client_id>`) and the app that calls (null: the org's own client id). Only with
 * the other messaging settings.
 */
export class MessagingWebhookIdentity1764280000000 implements MigrationInterface {
  name = 'MessagingWebhookIdentity1764280000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE dynamics365_integration_settings
        ADD COLUMN messaging_webhook_audience text,
        ADD COLUMN messaging_webhook_caller_id uuid,
        ADD CONSTRAINT messaging_webhook_with_messaging CHECK (
          messaging_endpoint IS NOT NULL OR (messaging_webhook_audience IS NULL AND messaging_webhook_caller_id IS NULL))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE dynamics365_integration_settings
        DROP CONSTRAINT messaging_webhook_with_messaging,
        DROP COLUMN messaging_webhook_audience,
        DROP COLUMN messaging_webhook_caller_id`);
  }
}
