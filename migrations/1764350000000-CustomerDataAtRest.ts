import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Customer data at rest (DESIGN §13): a handoff's content and its events' data are sealed with
 * the ENCRYPTION_KEYS keyring (the service seals what older versions stored in plain text when it
 * starts, a batch at a time — a migration has no keys), a customer's later messages wait in a
 * table of their own (the queue's jobs carry their ids), and erasure finds a customer by keyed
 * hashes of their e-mail and phone.
 */
export class CustomerDataAtRest1764350000000 implements MigrationInterface {
  name = 'CustomerDataAtRest1764350000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE handoffs
        ALTER COLUMN request DROP NOT NULL,
        ADD COLUMN content bytea,
        ADD COLUMN content_key_id text,
        ADD COLUMN content_purged_at timestamptz,
        ADD COLUMN customer_email_hash text,
        ADD COLUMN customer_phone_hash text`);
    await queryRunner.query(
      'CREATE INDEX handoffs_customer_email ON handoffs (org_id, customer_email_hash) WHERE customer_email_hash IS NOT NULL',
    );
    await queryRunner.query(
      'CREATE INDEX handoffs_customer_phone ON handoffs (org_id, customer_phone_hash) WHERE customer_phone_hash IS NOT NULL',
    );
    await queryRunner.query(
      'CREATE INDEX handoffs_unsealed ON handoffs (created_at) WHERE request IS NOT NULL',
    );
    await queryRunner.query(`
      ALTER TABLE handoff_events
        ADD COLUMN data_sealed bytea,
        ADD COLUMN data_key_id text`);
    await queryRunner.query(`
      CREATE TABLE handoff_customer_messages (
        id uuid PRIMARY KEY,
        handoff_id uuid NOT NULL REFERENCES handoffs (id) ON DELETE CASCADE,
        org_id text NOT NULL,
        content bytea NOT NULL,
        key_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE handoff_customer_messages');
    await queryRunner.query('ALTER TABLE handoff_events DROP COLUMN data_key_id, DROP COLUMN data_sealed');
    await queryRunner.query('DROP INDEX handoffs_unsealed');
    await queryRunner.query('DROP INDEX handoffs_customer_phone');
    await queryRunner.query('DROP INDEX handoffs_customer_email');
    await queryRunner.query(`
      ALTER TABLE handoffs
        DROP COLUMN customer_phone_hash,
        DROP COLUMN customer_email_hash,
        DROP COLUMN content_purged_at,
        DROP COLUMN content_key_id,
        DROP COLUMN content`);
  }
}
