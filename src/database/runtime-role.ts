// Two roles for one database: the tables' owner runs the migrations, and the service runs as a role
// that may only read and write rows. Only an owner (or a superuser) can disable a table's
// triggers, so the role the service runs as cannot switch off the audit log's append-only
// triggers and erase an org's events; the audit tables take only what appending needs.
import { DataSource, type QueryRunner } from 'typeorm';
import { dataSourceOptions } from './data-source-options.js';

/** Migrates as the owner (`migrationUrl`) and grants the runtime role (`runtimeUrl`'s user) what it needs. */
export async function migrateAndGrant(
  migrationUrl: string,
  runtimeUrl: string,
  limits: (role: string) => readonly string[],
): Promise<void> {
  const role = decodeURIComponent(new URL(runtimeUrl).username);
  const dataSource = new DataSource(dataSourceOptions(migrationUrl));
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    const runner = dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      const rows = (await runner.query('SELECT current_user AS owner')) as unknown as { owner: string }[];
      const owner = rows[0].owner;
      if (owner === role) throw new Error('DATABASE_MIGRATION_URL and DATABASE_URL name the same role');
      for (const statement of runtimeGrants(runner, role)) await runner.query(statement);
      for (const statement of limits(quoteIdentifier(role))) await runner.query(statement);
      await runner.commitTransaction();
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  } finally {
    await dataSource.destroy();
  }
}

/** Rows of every table, its sequences and the queue's functions; nothing that changes the schema. */
function runtimeGrants(_runner: QueryRunner, role: string): string[] {
  const r = quoteIdentifier(role);
  return [
    `GRANT USAGE ON SCHEMA public TO ${r}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${r}`,
    `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${r}`,
    `REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM ${r}`,
    // The queue (pg-boss) manages its own rows, and its monitor creates its stats partitions.
    `GRANT USAGE, CREATE ON SCHEMA pgboss TO ${r}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pgboss TO ${r}`,
    `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA pgboss TO ${r}`,
    `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pgboss TO ${r}`,
  ];
}

/** A role name as an SQL identifier. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** What the role the service runs as can do that it should not: be a superuser, own its tables. */
export async function roleProblems(dataSource: DataSource): Promise<string[]> {
  const [row] = await dataSource.query<{ superuser: boolean; owned: number }[]>(
    `SELECT r.rolsuper AS superuser,
            (SELECT count(*)::int FROM pg_tables t WHERE t.schemaname = 'public' AND t.tableowner = current_user) AS owned
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  const problems: string[] = [];
  if (row?.superuser) problems.push('is a superuser');
  if ((row?.owned ?? 0) > 0)
    problems.push(`owns ${row.owned} of the service's tables (the audit log's among them)`);
  return problems;
}
