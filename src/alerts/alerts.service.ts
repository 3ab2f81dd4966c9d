// The conditions of each org as a state machine (DESIGN §12): a fact opens its condition, a later
// one resolves it, and each change — opened, escalated, a daily reminder, resolved — is announced
// once on each channel the org chose (and to the operator), queued in the transaction that
// changed the alert. Features report facts here wherever they learn them; this room decides.
import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { AlertDelivery } from './alert-delivery.entity.js';
import type { Alert } from './alert.entity.js';
import { AlertView, Condition, Notice, renderAlert } from './alert-messages.js';
import { AlertsMetrics } from './alerts.metrics.js';
import { AlertsRepository } from './alerts.repository.js';
import type { NotificationSettings } from './notification-settings.entity.js';

export type Channel = 'email' | 'webhook' | 'operator';

@Injectable()
export class AlertsService {
  private readonly logger = new Logger(AlertsService.name);
  /** Open conditions as last seen here, so a frequent fact (a webhook call) costs no query when nothing is open. */
  private readonly open = new Set<string>();
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly config: AppConfig,
    private readonly repository: AlertsRepository,
    private readonly metrics: AlertsMetrics,
  ) {}

  /** Called when notices were queued (the sender wakes). */
  onQueued(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The orgs this instance knows to have the condition open. */
  openOf(condition: Condition): string[] {
    const suffix = `\n${condition}`;
    return [...this.open].filter((key) => key.endsWith(suffix)).map((key) => key.slice(0, -suffix.length));
  }

  isOpen(orgId: string, condition: Condition): boolean {
    return this.open.has(`${orgId}\n${condition}`);
  }

  /** Reloads which conditions are open (every instance's periodic pass). */
  async refreshOpen(): Promise<void> {
    const rows = await this.repository.openConditions();
    this.open.clear();
    for (const row of rows) this.open.add(`${row.org_id}\n${row.condition}`);
  }

  /**
   * The fact holds: opens the condition (announced), or — already open at another `stage` — moves
   * it there (announced again); otherwise nothing. In `manager`'s transaction when given.
   */
  async raise(
    orgId: string,
    condition: Condition,
    detail: Record<string, unknown>,
    options: { stage?: string; manager?: EntityManager } = {},
  ): Promise<void> {
    const work = async (manager: EntityManager) => {
      const stage = options.stage ?? null;
      const opened = await this.repository.open(manager, {
        id: randomUUID(),
        orgId,
        condition,
        stage,
        detail,
      });
      if (opened) {
        this.metrics.opened(condition);
        return this.announce(manager, opened, 'opened');
      }
      if (stage) {
        const moved = await this.repository.escalate(manager, orgId, condition, stage, detail);
        if (moved) return this.announce(manager, moved, 'escalated');
      }
      return 0;
    };
    await this.run(work, options.manager);
    this.open.add(`${orgId}\n${condition}`);
  }

  /** The condition no longer holds: resolves it (a recovery notice) if it was open. */
  async resolve(
    orgId: string,
    condition: Condition,
    options: { manager?: EntityManager } = {},
  ): Promise<void> {
    await this.run(async (manager) => {
      const resolved = await this.repository.resolve(manager, orgId, condition);
      if (!resolved) return 0;
      this.metrics.resolved(condition);
      return this.announce(manager, resolved, 'resolved');
    }, options.manager);
    this.open.delete(`${orgId}\n${condition}`);
  }

  /** Resolves only when this instance knows the condition open: free for frequent facts. */
  async resolveIfOpen(orgId: string, condition: Condition): Promise<void> {
    if (this.isOpen(orgId, condition)) await this.resolve(orgId, condition);
  }

  /** A daily reminder of each alert still open (claimed once across instances). */
  async remind(): Promise<void> {
    for (const alert of await this.repository.claimReminders(24 * 3600_000)) {
      const queued = await this.repository.transaction((manager) =>
        this.announce(manager, alert, 'reminder'),
      );
      if (queued) this.wake();
    }
  }

  /** A test notice on every channel the org set (and the operator's); the queued notices. */
  async test(orgId: string): Promise<AlertDelivery[]> {
    return this.repository
      .transaction(async (manager) => {
        const view: AlertView = {
          id: null,
          orgId,
          condition: 'test',
          stage: null,
          state: 'resolved',
          detail: {},
          openedAt: new Date(),
          resolvedAt: null,
        };
        const deliveries = await this.deliveries(manager, orgId, view, 'test', null);
        await this.repository.enqueue(manager, deliveries);
        return deliveries;
      })
      .finally(() => this.wake());
  }

  /** The channels of the org for this condition, and ALERTS_WEBHOOK_URL's. */
  channels(settings: NotificationSettings | null, condition: string): Channel[] {
    const wanted = !settings?.events || condition === 'test' || settings.events.includes(condition);
    const channels: Channel[] = [];
    // Recipients can only be saved with SMTP configured; the sending service's configuration decides.
    if (wanted && settings?.emails.length) channels.push('email');
    if (wanted && settings?.webhookUrl) channels.push('webhook');
    if (this.config.alertsWebhookUrl && condition !== 'test') channels.push('operator');
    return channels;
  }

  private async announce(manager: EntityManager, alert: Alert, notice: Notice): Promise<number> {
    const view: AlertView = { ...alert, condition: alert.condition as Condition };
    const deliveries = await this.deliveries(manager, alert.orgId, view, notice, alert.id);
    await this.repository.enqueue(manager, deliveries);
    this.logger.warn(
      {
        org_id: alert.orgId,
        condition: alert.condition,
        stage: alert.stage,
        notice,
        channels: deliveries.length,
      },
      `Alert ${notice}`,
    );
    return deliveries.length;
  }

  private async deliveries(
    manager: EntityManager,
    orgId: string,
    view: AlertView,
    notice: Notice,
    alertId: string | null,
  ): Promise<AlertDelivery[]> {
    const settings = await this.repository.findSettings(orgId, manager);
    const rendered = renderAlert(view, notice, `${this.config.publicUrl}/console/`);
    const now = new Date();
    return this.channels(settings, view.condition).map((channel) =>
      Object.assign(new AlertDelivery(), {
        id: randomUUID(),
        alertId,
        orgId,
        notice,
        channel,
        payload: {
          ...rendered,
          // Who it goes to, as it was when queued (the webhook's secret is read at send time).
          ...(channel === 'email' ? { to: settings!.emails } : {}),
          ...(channel === 'webhook' ? { url: settings!.webhookUrl } : {}),
        },
        state: 'pending' as const,
        attempts: 0,
        nextAttemptAt: now,
        leasedUntil: null,
        lastError: null,
        createdAt: now,
        sentAt: null,
      }),
    );
  }

  private async run(
    work: (manager: EntityManager) => Promise<number>,
    manager?: EntityManager,
  ): Promise<void> {
    const queued = manager ? await work(manager) : await this.repository.transaction(work);
    if (queued) this.wake();
  }

  private wake(): void {
    for (const listener of this.listeners) listener();
  }
}
