import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The times of an org's recent verification attempts (see VerificationRateLimiter). */
@Entity({ name: 'verification_rate_limits' })
export class VerificationRateLimit {
  @PrimaryColumn({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ name: 'attempts', type: 'timestamptz', array: true, default: () => "'{}'" })
  attempts!: Date[];
}
