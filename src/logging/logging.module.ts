import { DynamicModule, Global, Module } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { AppLogger } from './app-logger.js';

/** The application's logger (see AppLogger), injectable everywhere. */
@Global()
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig, stream?: DestinationStream): DynamicModule {
    return {
      module: LoggingModule,
      providers: [{ provide: AppLogger, useValue: new AppLogger(config, stream) }],
      exports: [AppLogger],
    };
  }
}
