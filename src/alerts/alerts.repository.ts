// Every statement on the alerts room's tables: notification settings, alerts (opened, escalated,
// reminded and resolved by conditional statements, so each happens once however many instances
// try), and the outbox of their notices (claimed with a lease, retried with backoff).
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { Alert } from './alert.entity.js';
import { AlertDelivery } from './alert-delivery.entity.js';
import { NotificationSettings } from './notification-settings.entity.js';

interface AlertRow {
  id: string;
  org_id: string;
  condition: string;
  stage: string | null;
  state: 'open' | 'resolved';
  detail: Record<string, unknown>;
  opened_at: Date;
  resolved_at: Date | null;
  notified_at: Date;
}

function toAlert(row: AlertRow): Alert {
  return Object.assign(new Alert(), {
    id: row.id,
    orgId: row.org_id,
    condition: row.condition,
    stage: row.stage,
    state: row.state,
    detail: row.detail,
    openedAt: row.opened_at,
    resolvedAt: row.resolved_at,
    notifiedAt: row.notified_at,
  });
}

@Injectable()
export class AlertsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  findSettings(orgId: string, manager?: EntityManager): Promise<NotificationSettings | null> {
    return (manager ?? this.dataSource.manager).findOneBy(NotificationSettings, { orgId });
  }

  async saveSettings(manager: EntityManager, settings: NotificationSettings): Promise<NotificationSettings> {
    return manager.save(NotificationSettings, settings);
  }

  /** Orgs whose webhook secret is under another key than `keyId`, locked for re-encryption. */
  secretsNotOnKey(
    manager: EntityManager,
    keyId: string,
  ): Promise<{ org_id: string; secret: Buffer; key_id: string }[]> {
    return manager.query(
      `SELECT org_id, webhook_secret_encrypted AS secret, webhook_secret_key_id AS key_id FROM notification_settings
        WHERE webhook_secret_encrypted IS NOT NULL AND webhook_secret_key_id <> $1 FOR UPDATE SKIP LOCKED`,
      [keyId],
    );
  }

  async resealSecret(manager: EntityManager, orgId: string, secret: Buffer, keyId: string): Promise<void> {
    await manager.query(
      'UPDATE notification_settings SET webhook_secret_encrypted = $2, webhook_secret_key_id = $3 WHERE org_id = $1',
      [orgId, secret, keyId],
    );
  }

  /** Opens the condition unless it is open already: the new alert, or null. */
  async open(
    manager: EntityManager,
    alert: { id: string; orgId: string; condition: string; stage: string | null; detail: object },
  ): Promise<Alert | null> {
    const rows = await manager.query<AlertRow[]>(
      `INSERT INTO alerts (id, org_id, condition, stage, state, detail, opened_at, notified_at)
       VALUES ($1, $2, $3, $4, 'open', $5, now(), now())
       ON CONFLICT (org_id, condition) WHERE state = 'open' DO NOTHING RETURNING *`,
      [alert.id, alert.orgId, alert.condition, alert.stage, JSON.stringify(alert.detail)],
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  /** The open alert moved to another stage (it is announced again): the alert, or null when it had not moved. */
  async escalate(
    manager: EntityManager,
    orgId: string,
    condition: string,
    stage: string,
    detail: object,
  ): Promise<Alert | null> {
    const [rows] = await manager.query<[AlertRow[], number]>(
      `UPDATE alerts SET stage = $3, detail = $4, notified_at = now()
        WHERE org_id = $1 AND condition = $2 AND state = 'open' AND stage IS DISTINCT FROM $3 RETURNING *`,
      [orgId, condition, stage, JSON.stringify(detail)],
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  /** Resolves the open alert of the condition: it, or null when none was open. */
  async resolve(manager: EntityManager, orgId: string, condition: string): Promise<Alert | null> {
    const [rows] = await manager.query<[AlertRow[], number]>(
      `UPDATE alerts SET state = 'resolved', resolved_at = now()
        WHERE org_id = $1 AND condition = $2 AND state = 'open' RETURNING *`,
      [orgId, condition],
    );
    return rows[0] ? toAlert(rows[0]) : null;
  }

  /** Open alerts last announced a day ago or more, each claimed for one reminder. */
  async claimReminders(afterMs: number): Promise<Alert[]> {
    const [rows] = await this.dataSource.query<[AlertRow[], number]>(
      `UPDATE alerts SET notified_at = now()
        WHERE state = 'open' AND notified_at < now() - $1 * interval '1 millisecond' RETURNING *`,
      [afterMs],
    );
    return rows.map(toAlert);
  }

  /** Every open alert's org and condition. */
  openConditions(): Promise<{ org_id: string; condition: string }[]> {
    return this.dataSource.query("SELECT org_id, condition FROM alerts WHERE state = 'open'");
  }

  /** The org's alerts, open first then newest, with their deliveries. */
  async list(orgId: string, limit: number): Promise<{ alert: Alert; deliveries: AlertDelivery[] }[]> {
    const rows = await this.dataSource.query<AlertRow[]>(
      `SELECT * FROM alerts WHERE org_id = $1 ORDER BY (state = 'open') DESC, opened_at DESC LIMIT $2`,
      [orgId, limit],
    );
    const alerts = rows.map(toAlert);
    const deliveries = alerts.length
      ? await this.dataSource.manager
          .createQueryBuilder(AlertDelivery, 'd')
          .where('d.alertId IN (:...ids)', { ids: alerts.map((a) => a.id) })
          .orderBy('d.createdAt', 'ASC')
          .getMany()
      : [];
    return alerts.map((alert) => ({ alert, deliveries: deliveries.filter((d) => d.alertId === alert.id) }));
  }

  async enqueue(manager: EntityManager, deliveries: AlertDelivery[]): Promise<void> {
    if (deliveries.length) await manager.save(AlertDelivery, deliveries);
  }

  /** Up to `limit` due notices, leased for `leaseMs` (a sender that dies leaves them due again then). */
  async claimDue(limit: number, leaseMs: number): Promise<AlertDelivery[]> {
    const [rows] = await this.dataSource.query<[{ id: string }[], number]>(
      `UPDATE alert_deliveries d SET leased_until = now() + $2 * interval '1 millisecond', attempts = attempts + 1
         FROM (SELECT id FROM alert_deliveries
                WHERE state = 'pending' AND next_attempt_at <= now()
                  AND (leased_until IS NULL OR leased_until < now())
                ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) due
        WHERE d.id = due.id RETURNING d.id`,
      [limit, leaseMs],
    );
    if (rows.length === 0) return [];
    return this.dataSource.manager
      .createQueryBuilder(AlertDelivery, 'd')
      .where('d.id IN (:...ids)', { ids: rows.map((r) => r.id) })
      .getMany();
  }

  /** The notice went out (only while this attempt still holds it). */
  async sent(id: string, attempts: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE alert_deliveries SET state = 'sent', sent_at = now(), leased_until = NULL, last_error = NULL
        WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
      [id, attempts],
    );
  }

  /** It did not: again at `nextAttemptAt`, or failed for good when that is null. */
  async notSent(id: string, attempts: number, error: string, nextAttemptAt: Date | null): Promise<void> {
    await this.dataSource.query(
      `UPDATE alert_deliveries
          SET state = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
              next_attempt_at = coalesce($4::timestamptz, next_attempt_at), leased_until = NULL, last_error = $3
        WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
      [id, attempts, error.slice(0, 500), nextAttemptAt?.toISOString() ?? null],
    );
  }

  findDeliveries(ids: string[]): Promise<AlertDelivery[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.dataSource.manager
      .createQueryBuilder(AlertDelivery, 'd')
      .where('d.id IN (:...ids)', { ids })
      .getMany();
  }

  /** Notices by channel and state (metrics). */
  deliveryCounts(): Promise<{ channel: string; state: string; n: number }[]> {
    return this.dataSource.query(
      'SELECT channel, state, count(*)::int AS n FROM alert_deliveries GROUP BY 1, 2',
    );
  }
}
