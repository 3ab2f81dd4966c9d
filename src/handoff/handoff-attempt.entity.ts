import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { HandoffError } from './handoff.types.js';

/**
 * One delivery attempt of a handoff, as it ended: written in the same statement that ends the
 * attempt on the handoff's row (HandoffRepository.endAttempt), so the history and the row never
 * disagree. Deleted with its handoff. An attempt whose instance died before it ended has no row
 * (its job came back and the next attempt counts again).
 */
@Entity({ name: 'handoff_attempts' })
@Index('handoff_attempts_handoff', ['handoffId', 'id'])
export class HandoffAttempt {
  @PrimaryGeneratedColumn({ name: 'id', type: 'bigint' })
  id!: string;

  @Column({ name: 'handoff_id', type: 'uuid' })
  handoffId!: string;

  /** The handoff's attempt count when it ended (a retry of a failed handoff counts afresh). */
  @Column({ name: 'attempt', type: 'integer' })
  attempt!: number;

  /** delivered, retry (another attempt is scheduled), held, failed or cancelled. */
  @Column({ name: 'outcome', type: 'text' })
  outcome!: string;

  @Column({ name: 'reason', type: 'text', nullable: true })
  reason!: string | null;

  /** Where it failed, Microsoft's status and code, what to do (the handoff's last_error then). */
  @Column({ name: 'error', type: 'jsonb', nullable: true })
  error!: HandoffError | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt!: Date | null;

  @Column({ name: 'ended_at', type: 'timestamptz', default: () => 'now()' })
  endedAt!: Date;
}
