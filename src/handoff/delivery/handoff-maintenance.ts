import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { SettingsRepository } from '../../settings/settings.repository.js';
import { expiredError } from '../handoff-error.js';
import { HandoffQueue } from '../handoff-queue.js';
import { HandoffMetrics } from '../handoff.metrics.js';
import { HandoffRepository } from '../handoff.repository.js';
import { HandoffRateLimitRepository } from '../handoff-rate-limit.repository.js';
import { HandoffService } from '../api/handoff.service.js';
import { AlertFacts } from '../../alerts/alert-facts.js';
import { CustomerDataService } from '../api/customer-data.service.js';

/** Handoffs held longer than this are announced (DESIGN §12). */
const HELD_ALERT_MS = 15 * 60_000;

/**
 * The periodic pass every instance makes (each step is one conditional statement, so instances
 * running it together do no harm): handoffs older than HANDOFF_MAX_AGE fail as expired; held
 * handoffs of orgs verified since they were held resume (in case the instance that verified
 * died before resuming them); open handoffs whose job was lost get a new one.
 */
@Injectable()
export class HandoffMaintenance implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HandoffMaintenance.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly config: AppConfig,
    private readonly handoffs: HandoffRepository,
    private readonly settings: SettingsRepository,
    private readonly service: HandoffService,
    private readonly queue: HandoffQueue,
    private readonly metrics: HandoffMetrics,
    private readonly rateLimits: HandoffRateLimitRepository,
    private readonly alerts: AlertFacts,
    private readonly customerData: CustomerDataService,
  ) {}

  get intervalMs(): number {
    return Math.min(60_000, this.config.handoffAttemptTimeoutMs);
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.runOnce()
        .catch((error: unknown) =>
          this.logger.warn(`Handoff maintenance failed: ${(error as Error).message}`),
        )
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async runOnce(): Promise<void> {
    await this.rateLimits.forgetEnded();
    // What customers wrote, kept only HANDOFF_RETENTION after their handoff ended.
    await this.customerData.purgeExpired();
    const expired = await this.handoffs.expireOld(
      this.config.handoffMaxAgeMs,
      expiredError(this.config.handoffMaxAgeMs),
    );
    for (const row of expired) {
      this.metrics.outcome(row.route, 'expired');
      this.logger.warn(
        { session_id: row.sessionId, org_id: row.orgId, state: 'failed', reason: 'expired' },
        'Handoff expired',
      );
    }

    // Held for more than 15 minutes: the org's admin hears of it (handoffs.failing).
    const held = await this.handoffs.heldLongerThan(HELD_ALERT_MS);
    if (held.length) {
      await this.alerts.handoffsHeld(
        held.map((h) => ({ orgId: h.org_id, held: h.held, oldestSince: h.oldest })),
      );
    }

    for (const orgId of await this.handoffs.orgsWithHeld()) {
      const settings = await this.settings.findByOrg(orgId);
      if (settings?.status === 'active' && settings.lastVerifiedAt) {
        await this.service.resumeHeld(orgId, settings.lastVerifiedAt);
      }
    }

    // Well past the attempt timeout (plus pg-boss's own expiry pass), a job that is not alive is lost.
    const staleMs = this.config.handoffAttemptTimeoutMs * 2 + 60_000;
    const requeued = await this.handoffs.transaction(async (manager) => {
      const stalled = await this.handoffs.lockStalled(manager, staleMs);
      for (const { id, org_id: orgId } of stalled)
        await this.handoffs.release(manager, 'requeue', id, await this.queue.enqueue(manager, { id, orgId }));
      return stalled.length;
    });
    if (requeued > 0) {
      this.logger.warn({ requeued }, 'Handoffs without a live delivery job were queued again');
      this.queue.wake();
    }
  }
}
