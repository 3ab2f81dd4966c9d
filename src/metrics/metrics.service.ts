import { timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { AppConfig } from '../config/app-config.js';
import { AppError } from '../common/errors.js';

/** One Prometheus registry per application instance (not the process-global default). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor(private readonly config: AppConfig) {
    collectDefaultMetrics({ register: this.registry });
  }

  /** One child per label set (route patterns, methods and statuses are few): no label hashing per request. */
  private readonly httpSeries = new Map<string, { observe(seconds: number): void }>();

  observeHttpRequest(method: string, route: string, statusCode: number, seconds: number): void {
    const key = `${method} ${statusCode} ${route}`;
    let series = this.httpSeries.get(key);
    if (!series) {
      series = this.httpRequestDuration.labels({ method, route, status_code: String(statusCode) });
      this.httpSeries.set(key, series);
    }
    series.observe(seconds);
  }

  /**
   * Where /metrics is served: on METRICS_PORT when set (then not on PORT); on PORT otherwise,
   * except in production without METRICS_TOKEN, where the counts of every org are not public.
   */
  get servedOnServicePort(): boolean {
    const { metricsPort, metricsToken, nodeEnv } = this.config;
    return metricsPort === undefined && (nodeEnv !== 'production' || metricsToken !== undefined);
  }

  /** With METRICS_TOKEN set, a scrape must send `Authorization: Bearer <METRICS_TOKEN>`. */
  authorize(authorization: string | undefined): void {
    const expected = this.config.metricsToken;
    if (expected === undefined) return;
    const given = /^Bearer +(\S+)$/i.exec(authorization?.trim() ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new AppError('unauthorized', 'Scraping /metrics needs Authorization: Bearer <METRICS_TOKEN>.', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
  }
}
