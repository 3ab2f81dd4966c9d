// The time-based conditions and the housekeeping every instance runs each minute (each statement
// conditional, so instances running it together announce nothing twice): a secret's entered expiry
// (14 days, 3 days, expired; resolved once a later one is saved), daily reminders of what is still
// open, and which conditions are open (for the facts that arrive often).
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SettingsRepository } from '../settings/settings.repository.js';
import { AlertsService } from './alerts.service.js';

const INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;

/** How close the secret's expiry is: the stage announced, or null when more than 14 days away. */
export function expiryStage(expiresAt: Date, now: Date): '14_days' | '3_days' | 'expired' | null {
  const left = expiresAt.getTime() - now.getTime();
  if (left <= 0) return 'expired';
  if (left <= 3 * DAY_MS) return '3_days';
  if (left <= 14 * DAY_MS) return '14_days';
  return null;
}

@Injectable()
export class AlertMaintenance implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AlertMaintenance.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly alerts: AlertsService,
    private readonly settings: SettingsRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.runOnce(), INTERVAL_MS);
    this.timer.unref();
    void this.runOnce();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  runOnce(now = new Date()): Promise<void> {
    this.running ??= (async () => {
      try {
        await this.alerts.refreshOpen();
        await this.secretExpiry(now);
        await this.alerts.remind();
      } catch (error) {
        this.logger.warn(`Alert maintenance failed: ${(error as Error).message}`);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async secretExpiry(now: Date): Promise<void> {
    const expiring = new Set<string>();
    for (const row of await this.settings.secretExpiries()) {
      const stage = expiryStage(row.secret_expires_at, now);
      if (!stage) continue;
      expiring.add(row.org_id);
      await this.alerts.raise(
        row.org_id,
        'secret.expiring',
        {
          client_id: row.client_id,
          credential_type: row.credential_type,
          client_secret_hint: row.client_secret_hint,
          expires_at: row.secret_expires_at.toISOString(),
        },
        { stage },
      );
    }
    // A secret rotated (a later expiry, or none entered) or a connection removed: resolved.
    for (const key of this.alerts.openOf('secret.expiring')) {
      if (!expiring.has(key)) await this.alerts.resolve(key, 'secret.expiring');
    }
  }
}
