import { NestFactory } from '@nestjs/core';
import type { DestinationStream } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { AppLogger } from '../logging/app-logger.js';
import { RevalidationCliModule } from './revalidation-cli.module.js';
import { RevalidationService, SweepSummary } from './revalidation.service.js';

/** One manual sweep against the configured database (used by `npm run revalidate` and tests). */
export async function runOneSweep(
  config: AppConfig,
  databaseUrl: string,
  logStream: DestinationStream,
): Promise<SweepSummary> {
  const context = await NestFactory.createApplicationContext(
    RevalidationCliModule.forRoot(config, databaseUrl, logStream),
    {
      bufferLogs: true,
    },
  );
  context.useLogger(context.get(AppLogger));
  try {
    return await context.get(RevalidationService).sweep('manual');
  } finally {
    await context.close();
  }
}
