import { Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';

/** The registry every feature adds its metrics to. */
@Global()
@Module({ providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
