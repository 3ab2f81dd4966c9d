import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Where an org's alerts go (DESIGN §12): e-mail recipients, a signed webhook, which conditions. */
@Entity({ name: 'notification_settings' })
export class NotificationSettings {
  @PrimaryColumn({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ name: 'emails', type: 'text', array: true, default: () => "'{}'" })
  emails!: string[];

  @Column({ name: 'webhook_url', type: 'text', nullable: true })
  webhookUrl!: string | null;

  /** The webhook's Standard Webhooks secret, encrypted like client secrets (shown once, when made). */
  @Column({ name: 'webhook_secret_encrypted', type: 'bytea', nullable: true })
  webhookSecretEncrypted!: Buffer | null;

  @Column({ name: 'webhook_secret_key_id', type: 'text', nullable: true })
  webhookSecretKeyId!: string | null;

  /** The conditions announced; all when null. */
  @Column({ name: 'events', type: 'text', array: true, nullable: true })
  events!: string[] | null;

  @Column({ name: 'version', type: 'integer', default: 1 })
  version!: number;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
