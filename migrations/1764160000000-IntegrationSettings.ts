import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Dynamics 365 credentials per org (secret encrypted by the service), the audit log, and verification counters. */
export class IntegrationSettings1764160000000 implements MigrationInterface {
  name = 'IntegrationSettings1764160000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE dynamics365_integration_settings (
        org_id text PRIMARY KEY,
        client_id uuid NOT NULL,
        tenant_id text NOT NULL,
        environment_url text NOT NULL,
        client_secret_encrypted bytea NOT NULL,
        client_secret_key_id text NOT NULL,
        client_secret_hint text NOT NULL,
        secret_expires_at timestamptz,
        default_priority smallint NOT NULL DEFAULT 2 CHECK (default_priority BETWEEN 1 AND 4),
        default_owner_id uuid,
        default_queue_id uuid,
        default_workstream_id uuid,
        ticket_properties jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(ticket_properties) = 'object'),
        status text NOT NULL CHECK (status IN ('active', 'invalid', 'unreachable')),
        last_verified_at timestamptz,
        last_verification jsonb,
        consecutive_unreachable integer NOT NULL DEFAULT 0,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'CREATE INDEX dynamics365_settings_key_id_idx ON dynamics365_integration_settings (client_secret_key_id)',
    );
    await queryRunner.query(`
      CREATE TABLE audit_events (
        id bigint PRIMARY KEY,
        org_id text NOT NULL,
        occurred_at timestamptz NOT NULL,
        action text NOT NULL,
        actor_type text NOT NULL CHECK (actor_type IN ('user', 'system')),
        actor_id text,
        actor_name text,
        request_id text,
        ip text,
        user_agent text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        prev_hash text,
        hash text NOT NULL
      )`);
    await queryRunner.query('CREATE SEQUENCE audit_events_id_seq OWNED BY audit_events.id');
    await queryRunner.query('CREATE INDEX audit_events_org_id_idx ON audit_events (org_id, id DESC)');
    await queryRunner.query(`
      CREATE TABLE verification_attempts (
        org_id text NOT NULL,
        window_start timestamptz NOT NULL,
        attempts integer NOT NULL,
        PRIMARY KEY (org_id, window_start)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE verification_attempts');
    await queryRunner.query('DROP TABLE audit_events');
    await queryRunner.query('DROP TABLE dynamics365_integration_settings');
  }
}
