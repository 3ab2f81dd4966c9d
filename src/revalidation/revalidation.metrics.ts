import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service.js';
import { RevalidationRepository } from './revalidation.repository.js';

/** Verification and sweep metrics; the org gauges are read from PostgreSQL at scrape time. */
@Injectable()
export class RevalidationMetrics {
  readonly verifications: Counter<'trigger' | 'outcome' | 'code'>;
  readonly sweepDuration: Histogram<'trigger'>;

  constructor(metrics: MetricsService, repository: RevalidationRepository) {
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
    new Gauge({
      name: 'dynamics365_integrations',
      help: 'Connected orgs by status',
      labelNames: ['status'] as const,
      registers,
      async collect() {
        const counts = await repository.countByStatus().catch(() => undefined);
        if (!counts) return;
        for (const status of ['active', 'invalid', 'unreachable']) this.set({ status }, counts[status] ?? 0);
      },
    });
    new Gauge({
      name: 'dynamics365_secrets_expiring_within_14_days',
      help: 'Stored client secrets whose entered expiry is within 14 days (or past)',
      registers,
      async collect() {
        const count = await repository.countSecretsExpiringWithin(14).catch(() => undefined);
        if (count !== undefined) this.set(count);
      },
    });
  }
}
