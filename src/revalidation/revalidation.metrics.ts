import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service.js';

/** Verification and sweep metrics. */
@Injectable()
export class RevalidationMetrics {
  readonly verifications: Counter<'trigger' | 'outcome' | 'code'>;
  readonly sweepDuration: Histogram<'trigger'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.verifications = new Counter({
      name: 'dynamics365_verifications_total',
      help: 'Credential verifications by trigger, outcome and Microsoft code',
      labelNames: ['trigger', 'outcome', 'code'] as const,
      registers,
    });
    this.sweepDuration = new Histogram({
      name: 'dynamics365_revalidation_sweep_duration_seconds',
      help: 'Duration of re-verification sweeps on this instance',
      labelNames: ['trigger'] as const,
      buckets: [1, 5, 15, 60, 300, 900, 1800, 3600],
      registers,
    });
  }
}
