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

  /**
   * What the activity said and who said it (sender, type, name, text, attachments), hashed:
   * Microsoft's webhook sends no activity id, so a retried call — or a message read back from the
   * Messaging API — is recognised by this and its time (ConversationActivities).
   */
  @Column({ name: 'content_key', type: 'text', nullable: true })
  contentKey!: string | null;

  /** The activity's own timestamp, when the webhook call carried one (a retry carries the same). */
  @Column({ name: 'said_at', type: 'timestamptz', nullable: true })
  saidAt!: Date | null;

  /** The Messaging API's id of the message, once a read of the conversation's messages matched it. */
  @Column({ name: 'message_id', type: 'text', nullable: true })
  messageId!: string | null;

  /** Empty for events stored sealed (all since customer data is encrypted at rest). */
  @Column({ name: 'data', type: 'jsonb' })
  data!: Record<string, unknown>;

  /** The event's data, sealed to the org and handoff (CustomerData); null once purged. */
  @Column({ name: 'data_sealed', type: 'bytea', nullable: true })
  dataSealed!: Buffer | null;

  @Column({ name: 'data_key_id', type: 'text', nullable: true })
  dataKeyId!: string | null;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;
}
