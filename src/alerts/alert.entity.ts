import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One condition of an org, from the moment it opened until it resolved (DESIGN §12). At most one
 * open alert per org and condition (a partial unique index): opening is an insert that may find
 * one open already, so however many instances see the fact, it opens — and is announced — once.
 */
@Entity({ name: 'alerts' })
export class Alert {
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id!: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ name: 'condition', type: 'text' })
  condition!: string;

  /** Within a condition, how far it went (secret.expiring: 14_days, 3_days, expired); announced when it moves. */
  @Column({ name: 'stage', type: 'text', nullable: true })
  stage!: string | null;

  @Column({ name: 'state', type: 'text' })
  state!: 'open' | 'resolved';

  @Column({ name: 'detail', type: 'jsonb' })
  detail!: Record<string, unknown>;

  @Column({ name: 'opened_at', type: 'timestamptz' })
  openedAt!: Date;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;

  /** When its last notice (opening, escalation, reminder) was queued: a reminder at most daily. */
  @Column({ name: 'notified_at', type: 'timestamptz' })
  notifiedAt!: Date;
}
