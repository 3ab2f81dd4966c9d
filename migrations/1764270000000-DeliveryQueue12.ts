import { getConstructionPlans } from 'pg-boss';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** pg-boss's schema version this migration installs (pg-boss 12.38.x). */
const PG_BOSS_SCHEMA_VERSION = 46;
/** The version pg-boss 10.4 installed (the DeliveryQueue migration before pg-boss 12). */
const PG_BOSS_10_SCHEMA_VERSION = 24;
const SCHEMA = 'pgboss';
const OLD_SCHEMA = 'pgboss_v10';
const QUEUES = ['handoff-delivery', 'handoff-event-post', 'handoff-message'];
/** Lease of the jobs carried over, in seconds (HANDOFF_LEASE's default; new jobs take the configured one). */
const CARRIED_LEASE_SECONDS = 15;

/**
 * The handoff queues on pg-boss 12: its schema as pg-boss itself writes it (its construction plan),
 * created with the other tables — by the service at start, or by `npm run migration:run` beside
 * DB_SKIP_MIGRATIONS — so the service only checks it at start.
 *
 * A database whose queue is still pg-boss 10's (schema version 24, which pg-boss 12 cannot
 * migrate) is upgraded in place, in this migration's transaction: the old schema is renamed
 * aside, the new one built, every job not yet settled — queued, waiting to be retried, or active
 * when the old service stopped (run again: each job's work is idempotent, and a handoff's attempt
 * fence makes a stale attempt harmless) — is copied with its id, data, schedule and retry count,
 * and the old schema is dropped. A later pg-boss schema version takes a new migration
 * (getMigrationPlans); this one refuses to run with another version than it was reviewed with.
 */
export class DeliveryQueue121764270000000 implements MigrationInterface {
  name = 'DeliveryQueue121764270000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const plan = getConstructionPlans(SCHEMA);
    const version = /INSERT INTO pgboss\.version\(version\) VALUES \('(\d+)'\)/.exec(plan)?.[1];
    if (Number(version) !== PG_BOSS_SCHEMA_VERSION) {
      throw new Error(
        `pg-boss now installs schema version ${version ?? '?'}, not ${PG_BOSS_SCHEMA_VERSION}: add a migration with its getMigrationPlans`,
      );
    }
    const installed = await installedVersion(queryRunner);
    if (installed === PG_BOSS_SCHEMA_VERSION) return;
    if (installed !== null && installed !== PG_BOSS_10_SCHEMA_VERSION) {
      throw new Error(
        `the ${SCHEMA} schema holds pg-boss schema version ${installed}, which this migration does not know`,
      );
    }
    if (installed === PG_BOSS_10_SCHEMA_VERSION) {
      await queryRunner.query(`ALTER SCHEMA ${SCHEMA} RENAME TO ${OLD_SCHEMA}`);
    }
    // The plan is its own transaction; here it runs inside the migration's.
    await queryRunner.query(plan.replace(/^\s*BEGIN;/, '').replace(/COMMIT;\s*$/, ''));
    // The queues exist before their first job; the service writes their settings at every start.
    for (const queue of QUEUES) {
      await queryRunner.query(`SELECT ${SCHEMA}.create_queue($1, '{"policy":"standard"}'::jsonb)`, [queue]);
    }
    if (installed === PG_BOSS_10_SCHEMA_VERSION) {
      await queryRunner.query(
        `INSERT INTO ${SCHEMA}.job (id, name, priority, data, state, retry_limit, retry_count, retry_delay,
                retry_backoff, expire_seconds, singleton_key, singleton_on, start_after, created_on,
                keep_until, dead_letter, policy, heartbeat_seconds)
         SELECT id, name, priority, data,
                (CASE WHEN state = 'active' THEN 'retry' ELSE state::text END)::${SCHEMA}.job_state,
                retry_limit, retry_count, retry_delay, retry_backoff,
                greatest(1, ceil(extract(epoch FROM expire_in)))::int, singleton_key, singleton_on,
                CASE WHEN state = 'active' THEN now() ELSE start_after END, created_on,
                greatest(keep_until, now() + interval '14 days'), dead_letter, 'standard', $2
           FROM ${OLD_SCHEMA}.job
          WHERE state IN ('created', 'retry', 'active') AND name = ANY($1)`,
        [QUEUES, CARRIED_LEASE_SECONDS],
      );
      await queryRunner.query(`DROP SCHEMA ${OLD_SCHEMA} CASCADE`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // pg-boss 12 cannot write pg-boss 10's schema: going back drops the queue and its jobs.
    await queryRunner.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  }
}

async function installedVersion(queryRunner: QueryRunner): Promise<number | null> {
  const [{ exists }] = (await queryRunner.query(
    `SELECT to_regclass('${SCHEMA}.version') IS NOT NULL AS exists`,
  )) as { exists: boolean }[];
  if (!exists) return null;
  const rows = (await queryRunner.query(`SELECT version FROM ${SCHEMA}.version`)) as {
    version: string | number;
  }[];
  return rows.length > 0 ? Number(rows[0].version) : null;
}
