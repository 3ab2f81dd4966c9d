import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Limits and fairness (DESIGN.md §14).
 *  - The count of an org's queued delivery jobs, which gives a new job its turn (HandoffQueue's
 *    fairPriority), is read through an index instead of pg-boss's whole job table.
 *  - dataverse_call_slots: the call budget of each Dataverse environment, all instances together —
 *    DATAVERSE_MAX_CONCURRENCY rows per environment host, each held under a lease its instance
 *    renews, so a crashed instance's slots come free when their leases lapse.
 *  - dataverse_environment_pauses: until when Dataverse asked (a 429's Retry-After) that no
 *    instance call the environment.
 */
export class FairShareAndBudget1764370000000 implements MigrationInterface {
  name = 'FairShareAndBudget1764370000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX handoff_delivery_queued_by_org ON pgboss.job (group_id)
        WHERE name = 'handoff-delivery' AND state < 'active'`,
    );
    await queryRunner.query(
      `CREATE TABLE dataverse_call_slots (
        environment text NOT NULL,
        slot smallint NOT NULL,
        holder uuid,
        lease_until timestamptz,
        CONSTRAINT dataverse_call_slots_pkey PRIMARY KEY (environment, slot)
      )`,
    );
    await queryRunner.query(
      'CREATE INDEX dataverse_call_slots_holder ON dataverse_call_slots (holder) WHERE holder IS NOT NULL',
    );
    await queryRunner.query(
      `CREATE TABLE dataverse_environment_pauses (
        environment text NOT NULL,
        paused_until timestamptz NOT NULL,
        code text,
        CONSTRAINT dataverse_environment_pauses_pkey PRIMARY KEY (environment)
      )`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE dataverse_environment_pauses');
    await queryRunner.query('DROP TABLE dataverse_call_slots');
    await queryRunner.query('DROP INDEX pgboss.handoff_delivery_queued_by_org');
  }
}
