import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service.js';
import type { CallPriority } from './call-priority.js';

/**
 * The Dataverse call budget as this instance sees it, labelled by environment host (never an org
 * id): calls in flight, time Dataverse asked us to wait (429s), and how long calls waited for a
 * slot, by priority.
 */
@Injectable()
export class LimitsMetrics {
  private readonly throttledSeconds: Counter<'environment'>;
  private readonly throttles: Counter<'environment'>;
  private readonly waits: Histogram<'priority'>;
  private source: () => { environment: string; inFlight: number }[] = () => [];

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    const read = () => this.source();
    new Gauge({
      name: 'dynamics365_dataverse_calls_in_flight',
      help: 'Dataverse calls this instance has in flight, by environment host (all instances together stay within DATAVERSE_MAX_CONCURRENCY)',
      labelNames: ['environment'] as const,
      registers,
      collect() {
        this.reset();
        for (const { environment, inFlight } of read()) this.set({ environment }, inFlight);
      },
    });
    this.throttledSeconds = new Counter({
      name: 'dynamics365_dataverse_throttled_seconds_total',
      help: 'Seconds Dataverse asked that an environment not be called (the Retry-After of its 429s to this instance), by environment host',
      labelNames: ['environment'] as const,
      registers,
    });
    this.throttles = new Counter({
      name: 'dynamics365_dataverse_throttled_total',
      help: 'Dataverse 429 answers to this instance, by environment host',
      labelNames: ['environment'] as const,
      registers,
    });
    this.waits = new Histogram({
      name: 'dynamics365_dataverse_slot_wait_seconds',
      help: 'How long a Dataverse call waited for a slot of its environment, by priority',
      labelNames: ['priority'] as const,
      buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2, 10, 60],
      registers,
    });
  }

  observe(source: () => { environment: string; inFlight: number }[]): void {
    this.source = source;
  }

  throttled(environment: string, retryAfterMs: number): void {
    this.throttles.inc({ environment });
    this.throttledSeconds.inc({ environment }, retryAfterMs / 1000);
  }

  waited(priority: CallPriority, ms: number): void {
    this.waits.observe({ priority }, ms / 1000);
  }
}
