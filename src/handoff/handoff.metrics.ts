import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service.js';
import { HandoffQueue } from './handoff-queue.js';
import { HandoffRepository } from './handoff.repository.js';
import type { HandoffRoute } from './handoff.types.js';
import { PeriodicRefresh } from '../common/periodic-refresh.js';

const REFRESH_MS = 30_000;
const OPEN_STATES = ['pending', 'delivering', 'held'];

export type HandoffOutcome = 'delivered' | 'retried' | 'held' | 'failed' | 'expired' | 'cancelled';

/**
 * Handoff metrics: outcomes of attempts by route, time from acceptance to delivery, and the open
 * handoffs by state (counted every 30 s and soon after a change here, never per scrape).
 */
@Injectable()
export class HandoffMetrics implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HandoffMetrics.name);
  private readonly outcomes: Counter<'route' | 'outcome'>;
  private readonly deliverySeconds: Histogram<'route'>;
  private readonly webhookRejections: Counter<'reason'>;
  private readonly catchUps: Counter<'outcome'>;
  private readonly recovered: Counter;
  private open?: Record<string, number>;
  private depths: Awaited<ReturnType<HandoffQueue['depths']>> = [];
  private readonly refresher = new PeriodicRefresh(() => this.refresh(), REFRESH_MS);

  constructor(
    metrics: MetricsService,
    private readonly repository: HandoffRepository,
    private readonly queue: HandoffQueue,
  ) {
    const registers = [metrics.registry];
    this.queueDepths(registers);
    this.outcomes = new Counter({
      name: 'dynamics365_handoffs_total',
      help: 'Handoff delivery attempts by route and outcome (delivered, retried, held, failed, expired, cancelled)',
      labelNames: ['route', 'outcome'] as const,
      registers,
    });
    this.deliverySeconds = new Histogram({
      name: 'dynamics365_handoff_delivery_seconds',
      help: 'Time from a handoff being accepted to its records existing in Dynamics 365',
      labelNames: ['route'] as const,
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    });
    this.webhookRejections = new Counter({
      name: 'dynamics365_messaging_webhook_rejected_total',
      help: "Calls to the messaging webhook refused with 401, by reason (other_caller or wrong_audience: usually the webhook's token set-up)",
      labelNames: ['reason'] as const,
      registers,
    });
    this.catchUps = new Counter({
      name: 'dynamics365_messaging_catchup_reads_total',
      help: "Read backs of open conversations' messages (webhook silent, or after a restart), by outcome (read, closed: Microsoft no longer has it active, failed)",
      labelNames: ['outcome'] as const,
      registers,
    });
    this.recovered = new Counter({
      name: 'dynamics365_messaging_catchup_recovered_total',
      help: 'Representative messages the webhook never delivered, found by a read back and stored',
      registers,
    });
    const latest = () => this.open;
    new Gauge({
      name: 'dynamics365_handoffs_pending',
      help: 'Handoffs not yet delivered, by state (pending, delivering, held; refreshed every 30 s)',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const open = latest();
        if (open) for (const state of OPEN_STATES) this.set({ state }, open[state] ?? 0);
      },
    });
  }

  private queueDepths(registers: Registry[]): void {
    const latest = () => this.depths;
    new Gauge({
      name: 'dynamics365_queue_jobs',
      help: 'Jobs of the work queues (handoff-delivery, handoff-event-post, handoff-message) by state: ready, deferred (a later start), active (refreshed every 30 s)',
      labelNames: ['queue', 'state'] as const,
      registers,
      collect() {
        for (const { queue, state, jobs } of latest()) this.set({ queue, state }, jobs);
      },
    });
  }

  webhookRejected(reason: string): void {
    this.webhookRejections.inc({ reason });
  }

  catchUp(outcome: 'read' | 'closed' | 'failed', recovered = 0): void {
    this.catchUps.inc({ outcome });
    if (recovered > 0) this.recovered.inc(recovered);
  }

  onApplicationBootstrap(): Promise<void> {
    return this.refresher.start();
  }

  onModuleDestroy(): void {
    this.refresher.stop();
  }

  outcome(route: HandoffRoute, outcome: HandoffOutcome, count = 1): void {
    this.outcomes.inc({ route, outcome }, count);
    this.refreshSoon();
  }

  delivered(route: HandoffRoute, acceptedAt: Date): void {
    this.outcome(route, 'delivered');
    this.deliverySeconds.observe({ route }, (Date.now() - acceptedAt.getTime()) / 1000);
  }

  /** After a change: one count within a second, however many changes come meanwhile. */
  refreshSoon(): void {
    this.refresher.soon();
  }

  private async refresh(): Promise<void> {
    try {
      this.open = await this.repository.countOpen();
      this.depths = await this.queue.depths();
    } catch (error) {
      this.logger.warn(`Could not count open handoffs: ${(error as Error).message}`);
    }
  }
}
