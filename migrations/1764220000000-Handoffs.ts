import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Handoffs into Dynamics 365: one row per (org, session), with what was submitted, where its
 * delivery stands and the ids of what it created. The ids of the records a delivery creates are
 * chosen when the handoff is accepted (incident_id, note_id), so every attempt creates the same
 * records. The delivery queue itself is pg-boss's, in its own schema (the next migration).
 */
export class Handoffs1764220000000 implements MigrationInterface {
  name = 'Handoffs1764220000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE handoffs (
        id uuid PRIMARY KEY,
        org_id text NOT NULL,
        session_id text NOT NULL,
        channel text NOT NULL,
        route text NOT NULL CHECK (route IN ('incident', 'conversation')),
        route_reason text,
        state text NOT NULL CHECK (state IN ('pending', 'delivering', 'delivered', 'held', 'failed', 'cancelled')),
        reason text,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        job_id uuid,
        last_error jsonb,
        request jsonb NOT NULL,
        request_hash text NOT NULL,
        incident_id uuid NOT NULL,
        note_id uuid NOT NULL,
        contact_id uuid,
        contact_created boolean,
        ticket_number text,
        queue_item_id uuid,
        conversation_id text,
        -- Millisecond precision, as JavaScript dates carry it: the list's keyset cursor holds it exactly.
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        updated_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        CONSTRAINT handoffs_org_session_key UNIQUE (org_id, session_id)
      )`);
    await queryRunner.query(
      'CREATE INDEX handoffs_org_created_idx ON handoffs (org_id, created_at DESC, id DESC)',
    );
    await queryRunner.query(
      "CREATE INDEX handoffs_open_idx ON handoffs (org_id, state, created_at) WHERE state IN ('pending', 'delivering', 'held')",
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE handoffs');
  }
}
