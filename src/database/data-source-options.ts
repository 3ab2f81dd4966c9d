import type { DataSourceOptions, EntitySchema, MixedList } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';

/**
 * Shared by the service and the TypeORM CLI: reviewed migrations only, never `synchronize`. The
 * service registers each table's entity in the module that owns it (autoLoadEntities); commands
 * that use a DataSource directly pass the entities they need.
 */
export function dataSourceOptions(
  url: string,
  entities: MixedList<string | EntitySchema | (new () => unknown)> = [],
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    applicationName: 'dynamics365-connector',
    connectTimeoutMS: 5000,
    extra: { max: 20, idleTimeoutMillis: 30000 },
  };
}
