import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Handoffs accepted per org per minute (see HandoffRateLimitRepository). */
@Entity({ name: 'handoff_rate_limits' })
export class HandoffRateLimit {
  @PrimaryColumn({ name: 'org_id', type: 'text' })
  orgId!: string;

  @PrimaryColumn({ name: 'window_start', type: 'timestamptz' })
  windowStart!: Date;

  @Column({ name: 'accepted', type: 'integer' })
  accepted!: number;
}
