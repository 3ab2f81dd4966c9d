import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service.js';

/** Alerts opened and resolved, and their notices sent, retried or given up. */
@Injectable()
export class AlertsMetrics {
  private readonly openedTotal: Counter<'condition'>;
  private readonly resolvedTotal: Counter<'condition'>;
  private readonly deliveriesTotal: Counter<'channel' | 'outcome'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.openedTotal = new Counter({
      name: 'dynamics365_alerts_opened_total',
      help: 'Alerts opened, by condition (each org and condition opens once until it resolves)',
      labelNames: ['condition'] as const,
      registers,
    });
    this.resolvedTotal = new Counter({
      name: 'dynamics365_alerts_resolved_total',
      help: 'Alerts resolved (a recovery notice), by condition',
      labelNames: ['condition'] as const,
      registers,
    });
    this.deliveriesTotal = new Counter({
      name: 'dynamics365_alert_deliveries_total',
      help: 'Alert notices by channel (email, webhook, operator) and outcome (sent, retried, failed)',
      labelNames: ['channel', 'outcome'] as const,
      registers,
    });
  }

  opened(condition: string): void {
    this.openedTotal.inc({ condition });
  }

  resolved(condition: string): void {
    this.resolvedTotal.inc({ condition });
  }

  delivery(channel: string, outcome: 'sent' | 'retried' | 'failed'): void {
    this.deliveriesTotal.inc({ channel, outcome });
  }
}
