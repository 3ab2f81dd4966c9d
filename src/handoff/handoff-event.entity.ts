import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One thing that happened in a handoff's conversation (see ConversationEvents). */
@Entity({ name: 'handoff_events' })
export class HandoffEvent {
  @PrimaryGeneratedColumn({ name: 'id', type: 'bigint' })
  id!: string;

  @Column({ name: 'handoff_id', type: 'uuid' })
  handoffId!: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ name: 'type', type: 'text' })
  type!: string;

  /** The Bot Framework activity id, when Microsoft sent one: a retried webhook call is stored once. */
  @Column({ name: 'activity_id', type: 'text', nullable: true })
  activityId!: string | null;

  @Column({ name: 'data', type: 'jsonb' })
  data!: Record<string, unknown>;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;
}
