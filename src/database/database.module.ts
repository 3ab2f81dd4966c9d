import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/app-config.js';
import { dataSourceOptions } from './data-source-options.js';
import { DatabaseRole } from './database-role.js';

@Module({})
export class DatabaseModule {
  /** `migrate` false: the owner migrated already (DATABASE_MIGRATION_URL), or DB_SKIP_MIGRATIONS. */
  static forRoot(config: AppConfig, databaseUrl: string, migrate = !config.dbSkipMigrations): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      providers: [DatabaseRole],
      exports: [DatabaseRole],
      imports: [
        TypeOrmModule.forRoot({
          ...dataSourceOptions(databaseUrl),
          autoLoadEntities: true,
          migrationsRun: migrate,
          retryAttempts: 3,
          retryDelay: 1000,
        }),
      ],
    };
  }
}
