import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One notice of an alert on one channel, and the outbox row that sends it: claimed with a lease,
 * retried with backoff, shown with its state in GET /api/v1/alerts. Its id is the webhook's
 * `webhook-id` and the e-mail's Message-ID, so a resend after a crash is recognisably the same.
 */
@Entity({ name: 'alert_deliveries' })
export class AlertDelivery {
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id!: string;

  /** Null for a test notice. */
  @Column({ name: 'alert_id', type: 'uuid', nullable: true })
  alertId!: string | null;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  /** opened, escalated, reminder, resolved or test. */
  @Column({ name: 'notice', type: 'text' })
  notice!: string;

  /** email, webhook (the org's) or operator (ALERTS_WEBHOOK_URL). */
  @Column({ name: 'channel', type: 'text' })
  channel!: string;

  /** The message as sent (rendered when queued: a later change of the alert does not alter it). */
  @Column({ name: 'payload', type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Column({ name: 'state', type: 'text' })
  state!: 'pending' | 'sent' | 'failed';

  @Column({ name: 'attempts', type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt!: Date;

  @Column({ name: 'leased_until', type: 'timestamptz', nullable: true })
  leasedUntil!: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt!: Date | null;
}
