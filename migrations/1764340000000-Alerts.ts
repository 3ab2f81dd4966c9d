import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alerts (DESIGN §12): where each org's go, its conditions (one open per org and condition, the
 * index is what makes opening happen once across instances) and the outbox of their notices.
 */
export class Alerts1764340000000 implements MigrationInterface {
  name = 'Alerts1764340000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE notification_settings (
        org_id text PRIMARY KEY,
        emails text[] NOT NULL DEFAULT '{}',
        webhook_url text,
        webhook_secret_encrypted bytea,
        webhook_secret_key_id text,
        events text[],
        version integer NOT NULL DEFAULT 1,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE alerts (
        id uuid PRIMARY KEY,
        org_id text NOT NULL,
        condition text NOT NULL,
        stage text,
        state text NOT NULL CHECK (state IN ('open', 'resolved')),
        detail jsonb NOT NULL,
        opened_at timestamptz NOT NULL,
        resolved_at timestamptz,
        notified_at timestamptz NOT NULL
      )`);
    await queryRunner.query(
      "CREATE UNIQUE INDEX alerts_one_open ON alerts (org_id, condition) WHERE state = 'open'",
    );
    await queryRunner.query('CREATE INDEX alerts_by_org ON alerts (org_id, opened_at DESC)');
    await queryRunner.query(`
      CREATE TABLE alert_deliveries (
        id uuid PRIMARY KEY,
        alert_id uuid REFERENCES alerts (id) ON DELETE CASCADE,
        org_id text NOT NULL,
        notice text NOT NULL,
        channel text NOT NULL,
        payload jsonb NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        leased_until timestamptz,
        last_error text,
        created_at timestamptz NOT NULL,
        sent_at timestamptz
      )`);
    await queryRunner.query(
      "CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE state = 'pending'",
    );
    await queryRunner.query('CREATE INDEX alert_deliveries_of_alert ON alert_deliveries (alert_id)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE alert_deliveries');
    await queryRunner.query('DROP TABLE alerts');
    await queryRunner.query('DROP TABLE notification_settings');
  }
}
