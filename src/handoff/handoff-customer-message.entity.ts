import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A customer's later message waiting to be relayed to the conversation, sealed (CustomerData):
 * the queue's job carries its id, never its text, and it is deleted once relayed.
 */
@Entity({ name: 'handoff_customer_messages' })
export class HandoffCustomerMessage {
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id!: string;

  @Column({ name: 'handoff_id', type: 'uuid' })
  handoffId!: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ name: 'content', type: 'bytea' })
  content!: Buffer;

  @Column({ name: 'key_id', type: 'text' })
  keyId!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
