import type { MigrationInterface, QueryRunner } from 'typeorm';
import { AUDIT_TRIGGERS } from '../src/audit/audit-schema.js';

/**
 * The audit log is append-only in the database itself: triggers raise on UPDATE, DELETE and
 * TRUNCATE whoever the caller (owner and superuser included; only disabling the triggers, which
 * the chain check then exposes, gets around them). Indexes serve the read API's filters, and a
 * per-org chain head makes removing the newest events detectable too.
 */
export class AuditLogAppendOnly1764180000000 implements MigrationInterface {
  name = 'AuditLogAppendOnly1764180000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const trigger of AUDIT_TRIGGERS) await queryRunner.query(trigger);
    await queryRunner.query(
      'CREATE INDEX audit_events_org_action_idx ON audit_events (org_id, action, id DESC)',
    );
    await queryRunner.query(
      'CREATE INDEX audit_events_org_actor_idx ON audit_events (org_id, actor_id, id DESC)',
    );
    await queryRunner.query(
      'CREATE INDEX audit_events_org_time_idx ON audit_events (org_id, occurred_at DESC)',
    );
    await queryRunner.query(`
      CREATE TABLE audit_chain_heads (
        org_id text PRIMARY KEY,
        last_id bigint NOT NULL,
        last_hash text NOT NULL,
        event_count bigint NOT NULL
      )`);
    await queryRunner.query(`
      INSERT INTO audit_chain_heads (org_id, last_id, last_hash, event_count)
      SELECT DISTINCT ON (org_id) org_id, id, hash, count(*) OVER (PARTITION BY org_id)
        FROM audit_events ORDER BY org_id, id DESC`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE audit_chain_heads');
    await queryRunner.query('DROP INDEX audit_events_org_time_idx');
    await queryRunner.query('DROP INDEX audit_events_org_actor_idx');
    await queryRunner.query('DROP INDEX audit_events_org_action_idx');
    await queryRunner.query('DROP TRIGGER audit_events_no_truncate ON audit_events');
    await queryRunner.query('DROP TRIGGER audit_events_no_update_delete ON audit_events');
    await queryRunner.query('DROP FUNCTION audit_events_refuse_change()');
  }
}
