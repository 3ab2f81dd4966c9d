import type { MigrationInterface } from 'typeorm';

/**
 * The handoff delivery queue as it was first installed: pg-boss 10's schema (version 24) in the
 * `pgboss` schema. pg-boss 12 can neither build that schema nor migrate it (its oldest starting
 * point is version 25, and pg-boss 11 shipped no migration from 24), so on a new database this
 * migration now does nothing and DeliveryQueue12 installs the current schema; on a database where
 * it ran, DeliveryQueue12 moves the queued jobs into the new one.
 */
export class DeliveryQueue1764230000000 implements MigrationInterface {
  name = 'DeliveryQueue1764230000000';

  async up(): Promise<void> {
    // Nothing: see above.
  }

  async down(): Promise<void> {
    // Nothing: DeliveryQueue12's down removes the queue's schema.
  }
}
