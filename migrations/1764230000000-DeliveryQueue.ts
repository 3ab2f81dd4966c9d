import { createRequire } from 'node:module';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** pg-boss's schema version this migration installs (pg-boss 10.4.x). */
const PG_BOSS_SCHEMA_VERSION = '24';
const SCHEMA = 'pgboss';

interface PgBossPlans {
  getConstructionPlans(schema: string): string;
}

/**
 * The handoff delivery queue: pg-boss's own tables and functions in the `pgboss` schema, as
 * pg-boss itself writes them (its construction plan), so that the queue is created with the
 * other tables — by the service at start, or by `npm run migration:run` beside
 * DB_SKIP_MIGRATIONS — and the service only checks it at start. Upgrading pg-boss to a new
 * schema version takes a new migration (pg-boss's getMigrationPlans); this one refuses to run
 * with another version than it was reviewed with.
 */
export class DeliveryQueue1764230000000 implements MigrationInterface {
  name = 'DeliveryQueue1764230000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const PgBoss = createRequire(import.meta.url)('pg-boss') as PgBossPlans;
    const plan = PgBoss.getConstructionPlans(SCHEMA);
    const version = /INSERT INTO pgboss\.version\(version\) VALUES \('(\d+)'\)/.exec(plan)?.[1];
    if (version !== PG_BOSS_SCHEMA_VERSION) {
      throw new Error(
        `pg-boss now installs schema version ${version ?? '?'}, not ${PG_BOSS_SCHEMA_VERSION}: add a migration with its getMigrationPlans`,
      );
    }
    // The plan is its own transaction; here it runs inside the migration's.
    await queryRunner.query(plan.replace(/^\s*BEGIN;/, '').replace(/COMMIT;\s*$/, ''));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP SCHEMA ${SCHEMA} CASCADE`);
  }
}
