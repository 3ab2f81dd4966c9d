import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service.js';
import { SecretCipher } from './secret-cipher.js';
import { SettingsRepository } from './settings.repository.js';
import { PeriodicRefresh } from '../common/periodic-refresh.js';

export interface SettingsSnapshot {
  byStatus: Record<string, number>;
  expiringWithin14Days: number;
  /** Connections whose last readiness check found something a handoff needs missing. */
  notReady: number;
  /** Rows whose secret is under a key this instance does not have. */
  undecryptable: number;
  missingKeyIds: string[];
}

const REFRESH_MS = 30_000;
const STATUSES = ['active', 'invalid', 'unreachable'];

/**
 * Counts over every stored connection — by status, secrets expiring, secrets no key here can
 * decrypt — read with one query at start-up, every 30 s and after a change on this instance,
 * never per scrape or health probe.
 * Rows whose encryption key is missing are reported at start-up (and whenever that changes) in
 * the log, in /health/ready and as a metric, before any user meets them.
 */
@Injectable()
export class SettingsMetrics implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SettingsMetrics.name);
  private readonly refresher = new PeriodicRefresh(() => this.refresh(), REFRESH_MS);
  snapshot?: SettingsSnapshot;

  constructor(
    metrics: MetricsService,
    private readonly repository: SettingsRepository,
    private readonly cipher: SecretCipher,
  ) {
    const registers = [metrics.registry];
    const latest = () => this.snapshot;
    new Gauge({
      name: 'dynamics365_integrations',
      help: 'Connected orgs by status (refreshed every 30 s)',
      labelNames: ['status'] as const,
      registers,
      collect() {
        const snapshot = latest();
        if (snapshot) for (const status of STATUSES) this.set({ status }, snapshot.byStatus[status] ?? 0);
      },
    });
    new Gauge({
      name: 'dynamics365_secrets_expiring_within_14_days',
      help: 'Stored client secrets whose entered expiry is within 14 days (or past)',
      registers,
      collect() {
        const snapshot = latest();
        if (snapshot) this.set(snapshot.expiringWithin14Days);
      },
    });
    new Gauge({
      name: 'dynamics365_integrations_not_ready',
      help: 'Connected orgs whose last readiness check found something a handoff needs missing (privileges, default queue or owner, messaging)',
      registers,
      collect() {
        const snapshot = latest();
        if (snapshot) this.set(snapshot.notReady);
      },
    });
    new Gauge({
      name: 'dynamics365_secrets_undecryptable',
      help: 'Stored client secrets under a key missing from ENCRYPTION_KEYS',
      registers,
      collect() {
        const snapshot = latest();
        if (snapshot) this.set(snapshot.undecryptable);
      },
    });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.refresher.start();
  }

  onModuleDestroy(): void {
    this.refresher.stop();
  }

  /** After a change: one refresh within a second, however many changes come meanwhile. */
  refreshSoon(): void {
    this.refresher.soon();
  }

  async refresh(): Promise<void> {
    let rows;
    try {
      rows = await this.repository.summary(14);
    } catch (error) {
      this.logger.warn(`Could not count stored connections: ${(error as Error).message}`);
      return;
    }
    const next: SettingsSnapshot = {
      byStatus: {},
      expiringWithin14Days: 0,
      notReady: 0,
      undecryptable: 0,
      missingKeyIds: [],
    };
    for (const row of rows) {
      next.byStatus[row.status] = (next.byStatus[row.status] ?? 0) + row.n;
      next.expiringWithin14Days += row.expiring;
      next.notReady += row.not_ready;
      if (!this.cipher.hasKey(row.key_id)) {
        next.undecryptable += row.n;
        if (!next.missingKeyIds.includes(row.key_id)) next.missingKeyIds.push(row.key_id);
      }
    }
    next.missingKeyIds.sort();
    const before = this.snapshot;
    this.snapshot = next;
    if (next.undecryptable > 0 && next.missingKeyIds.join() !== before?.missingKeyIds.join()) {
      this.logger.error(
        `${next.undecryptable} stored client secret(s) cannot be decrypted: key(s) ${next.missingKeyIds.join(', ')} ` +
          'missing from ENCRYPTION_KEYS. Those connections cannot be verified until the key is added back ' +
          '(or an admin pastes the secret again with Test & Save).',
      );
    }
  }
}
