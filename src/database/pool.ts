import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * The pg pool beneath TypeORM's DataSource: the one place that reaches into its driver, for what
 * TypeORM's query() cannot do — named prepared statements, a LISTEN connection, pg-boss's adapter.
 */
export function poolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}
