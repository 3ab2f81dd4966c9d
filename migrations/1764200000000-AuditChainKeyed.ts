import type { MigrationInterface, QueryRunner } from 'typeorm';
import { AUDIT_EVENT_HASH, AUDIT_REFUSE_CHANGE } from '../src/audit/audit-schema.js';

/**
 * The audit chain becomes keyed. The content hash (`hash`, SHA-256 computed by
 * audit_event_hash) stays as it was; every event now also carries `mac`, an HMAC-SHA256 of
 * (org, id, hash) under a key only the service holds (AUDIT_CHAIN_KEY, with its id in
 * `mac_key_id`), and the chain head carries an HMAC of itself. Someone with database access but
 * without the key can still recompute hashes, but no longer MACs, so a rewrite is found.
 *
 * Also: the caller's own X-Request-Id is kept beside the server's (`client_request_id`, covered
 * by the hash when present: concat_ws skips NULLs, so older events hash exactly as before); the
 * append-only triggers fire ALWAYS (also with session_replication_role = replica); the one UPDATE
 * they allow is sealing an event written before this migration (setting its MAC once, nothing
 * else), which the service does at start-up with the key.
 */
export class AuditChainKeyed1764200000000 implements MigrationInterface {
  name = 'AuditChainKeyed1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE audit_events
        ADD COLUMN client_request_id text,
        ADD COLUMN mac text,
        ADD COLUMN mac_key_id text`);
    await queryRunner.query('ALTER TABLE audit_chain_heads ADD COLUMN mac text, ADD COLUMN mac_key_id text');
    await queryRunner.query(
      'CREATE INDEX audit_events_unsealed_idx ON audit_events (org_id, id) WHERE mac IS NULL',
    );
    await queryRunner.query(
      'DROP FUNCTION audit_event_hash(text, bigint, text, timestamptz, text, text, text, text, text, text, text, jsonb)',
    );
    await queryRunner.query(AUDIT_EVENT_HASH.create);
    await queryRunner.query(AUDIT_REFUSE_CHANGE);
    await queryRunner.query('ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_update_delete');
    await queryRunner.query('ALTER TABLE audit_events ENABLE ALWAYS TRIGGER audit_events_no_truncate');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_truncate');
    await queryRunner.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete');
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await queryRunner.query(`DROP FUNCTION ${AUDIT_EVENT_HASH.signature}`);
    await queryRunner.query(`
      CREATE FUNCTION audit_event_hash(
        prev_hash text, id bigint, org_id text, occurred_at timestamptz, action text, actor_type text,
        actor_id text, actor_name text, request_id text, ip text, user_agent text, details jsonb
      ) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT encode(sha256(convert_to(concat_ws(',',
          quote_nullable(prev_hash), id::text, quote_literal(org_id),
          (extract(epoch FROM occurred_at) * 1000000)::bigint::text, quote_literal(action), quote_literal(actor_type),
          quote_nullable(actor_id), quote_nullable(actor_name), quote_nullable(request_id), quote_nullable(ip),
          quote_nullable(user_agent), details::text), 'UTF8')), 'hex')
      $$`);
    await queryRunner.query('DROP INDEX audit_events_unsealed_idx');
    await queryRunner.query('ALTER TABLE audit_chain_heads DROP COLUMN mac, DROP COLUMN mac_key_id');
    await queryRunner.query(
      'ALTER TABLE audit_events DROP COLUMN client_request_id, DROP COLUMN mac, DROP COLUMN mac_key_id',
    );
  }
}
