import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type {
  HandoffChannel,
  HandoffError,
  HandoffReason,
  HandoffRequest,
  HandoffRoute,
  HandoffState,
} from './handoff.types.js';

/** One handoff of an org's conversation into Dynamics 365 and where its delivery stands. */
@Entity({ name: 'handoffs' })
export class Handoff {
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id!: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ name: 'session_id', type: 'text' })
  sessionId!: string;

  @Column({ name: 'channel', type: 'text' })
  channel!: HandoffChannel;

  @Column({ name: 'route', type: 'text' })
  route!: HandoffRoute;

  @Column({ name: 'route_reason', type: 'text', nullable: true })
  routeReason!: string | null;

  @Column({ name: 'state', type: 'text' })
  state!: HandoffState;

  @Column({ name: 'reason', type: 'text', nullable: true })
  reason!: HandoffReason | null;

  @Column({ name: 'attempts', type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt!: Date | null;

  /** The queue job that owns the current attempt (an expired job's retry takes it over). */
  @Column({ name: 'job_id', type: 'uuid', nullable: true })
  jobId!: string | null;

  @Column({ name: 'last_error', type: 'jsonb', nullable: true })
  lastError!: HandoffError | null;

  /**
   * What older versions stored in plain text; the service seals it into `content` when it starts
   * and empties this (never written any more).
   */
  @Column({ name: 'request', type: 'jsonb', nullable: true })
  legacyRequest!: HandoffRequest | null;

  /** What was submitted, as validated, sealed to the org and session (CustomerData); null once purged. */
  @Column({ name: 'content', type: 'bytea', nullable: true })
  content!: Buffer | null;

  @Column({ name: 'content_key_id', type: 'text', nullable: true })
  contentKeyId!: string | null;

  /** When the content was purged (retention or erasure); ids, states and Dynamics ids stay. */
  @Column({ name: 'content_purged_at', type: 'timestamptz', nullable: true })
  contentPurgedAt!: Date | null;

  /** Keyed hashes of the customer's e-mail and phone: what an erasure request finds them by. */
  @Column({ name: 'customer_email_hash', type: 'text', nullable: true })
  customerEmailHash!: string | null;

  @Column({ name: 'customer_phone_hash', type: 'text', nullable: true })
  customerPhoneHash!: string | null;

  /** The content, opened for this process only (HandoffContent.open): never a column. */
  request?: HandoffRequest;

  /** Keyed hash (HMAC) of the canonical request: the same session submitted again must match it. */
  @Column({ name: 'request_hash', type: 'text' })
  requestHash!: string;

  /** Chosen when accepted, so every attempt creates the same case. */
  @Column({ name: 'incident_id', type: 'uuid' })
  incidentId!: string;

  /** Chosen when accepted: the transcript note (further parts derive their ids from it). */
  @Column({ name: 'note_id', type: 'uuid' })
  noteId!: string;

  @Column({ name: 'contact_id', type: 'uuid', nullable: true })
  contactId!: string | null;

  @Column({ name: 'contact_created', type: 'boolean', nullable: true })
  contactCreated!: boolean | null;

  @Column({ name: 'ticket_number', type: 'text', nullable: true })
  ticketNumber!: string | null;

  @Column({ name: 'queue_item_id', type: 'uuid', nullable: true })
  queueItemId!: string | null;

  @Column({ name: 'conversation_id', type: 'text', nullable: true })
  conversationId!: string | null;

  /** Conversation route: `open` once created, `closed` when the representative or customer ended it. */
  @Column({ name: 'conversation_state', type: 'text', nullable: true })
  conversationState!: 'open' | 'closed' | null;

  /** Conversation route: follow-up messages of the transcript already sent (they are not idempotent). */
  @Column({ name: 'conversation_parts_sent', type: 'integer', default: 0 })
  conversationPartsSent!: number;

  /**
   * Conversation route, while open: when its messages are next read back from the Messaging API
   * (pushed back by every webhook call; due at once after the service restarted).
   */
  @Column({ name: 'conversation_catchup_at', type: 'timestamptz', nullable: true })
  conversationCatchupAt!: Date | null;

  /** Conversation route: the timestamp of the newest message a read back has seen. */
  @Column({ name: 'conversation_read_until', type: 'timestamptz', nullable: true })
  conversationReadUntil!: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;
}
