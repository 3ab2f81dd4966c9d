import { Module } from '@nestjs/common';
import { MetricsListener } from './metrics-listener.js';
import { MetricsController } from './metrics.controller.js';

/** Where scrapers read the registry: /metrics on the service port, or on METRICS_PORT. HTTP service only. */
@Module({ controllers: [MetricsController], providers: [MetricsListener] })
export class MetricsHttpModule {}
