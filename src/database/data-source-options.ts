import type { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities.js';
import { MIGRATIONS } from '../../migrations/index.js';

/** Shared by the service and the TypeORM CLI: reviewed migrations only, never `synchronize`. */
export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    applicationName: 'dynamics365-connector',
    connectTimeoutMS: 5000,
    extra: { max: 20, idleTimeoutMillis: 30000 },
  };
}
