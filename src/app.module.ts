import { DynamicModule, Module, Type } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { DestinationStream } from 'pino';
import { AccessModule } from './access/access.module.js';
import { AlertsHttpModule } from './alerts/alerts-http.module.js';
import { AuditModule } from './audit/audit.module.js';
import { HttpExceptionFilter } from './common/http-exception.filter.js';
import { AppConfig } from './config/app-config.js';
import { AppConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { HandoffModule } from './handoff/handoff.module.js';
import { HealthModule } from './health/health.module.js';
import { IntegrationModule } from './integration/integration.module.js';
import { LoggingModule } from './logging/logging.module.js';
import { MetricsHttpModule } from './metrics/metrics-http.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RevalidationScheduleModule } from './revalidation/revalidation-schedule.module.js';

export interface AppModuleOptions {
  config: AppConfig;
  databaseUrl: string;
  /** Set when the tables' owner migrated already (see migrateAndGrant): the service does not. */
  migrated?: boolean;
  /** Where log lines go (tests capture them); stdout when omitted. */
  logStream?: DestinationStream;
  /** Extra modules mounted beside the service's own (tests add probe routes this way). */
  extraModules?: (Type | DynamicModule)[];
}

@Module({})
export class AppModule {
  static forRoot({
    config,
    databaseUrl,
    migrated,
    logStream,
    extraModules = [],
  }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggingModule.forRoot(config, logStream),
        DatabaseModule.forRoot(config, databaseUrl, !migrated && !config.dbSkipMigrations),
        MetricsModule,
        MetricsHttpModule,
        HealthModule,
        AccessModule,
        IntegrationModule,
        AuditModule,
        RevalidationScheduleModule,
        HandoffModule,
        AlertsHttpModule,
        ...extraModules,
      ],
      providers: [{ provide: APP_FILTER, useClass: HttpExceptionFilter }],
    };
  }
}
