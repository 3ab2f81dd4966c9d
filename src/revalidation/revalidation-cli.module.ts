import { DynamicModule, Module } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { AppConfigModule } from '../config/config.module.js';
import { DatabaseModule } from '../database/database.module.js';
import { LoggingModule } from '../logging/logging.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { RevalidationModule } from './revalidation.module.js';
import { AlertsModule } from '../alerts/alerts.module.js';

/** What `npm run revalidate` needs: no HTTP server, no scheduler. */
@Module({})
export class RevalidationCliModule {
  static forRoot(config: AppConfig, databaseUrl: string, logStream: DestinationStream): DynamicModule {
    return {
      module: RevalidationCliModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggingModule.forRoot(config, logStream),
        DatabaseModule.forRoot(config, databaseUrl),
        MetricsModule,
        RevalidationModule,
        // A sweep's status and readiness changes open and resolve alerts; the service sends them.
        AlertsModule,
      ],
    };
  }
}
