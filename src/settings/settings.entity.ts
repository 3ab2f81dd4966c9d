import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { IntegrationStatus, LastVerification, Readiness } from './verification.types.js';

/** One row per org. The secret is stored only encrypted (see SecretCipher); never return this entity. */
@Entity({ name: 'dynamics365_integration_settings' })
export class IntegrationSettings {
  @PrimaryColumn({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ name: 'client_id', type: 'uuid' })
  clientId!: string;

  @Column({ name: 'tenant_id', type: 'text' })
  tenantId!: string;

  @Column({ name: 'environment_url', type: 'text' })
  environmentUrl!: string;

  /** How the app proves itself: a client secret, or a certificate's key signing an assertion. */
  @Column({ name: 'credential_type', type: 'text', default: 'client_secret' })
  credentialType!: 'client_secret' | 'certificate';

  /** The credential, encrypted: the client secret, or the certificate's private key (PKCS#8 PEM). */
  @Column({ name: 'client_secret_encrypted', type: 'bytea' })
  clientSecretEncrypted!: Buffer;

  @Column({ name: 'client_secret_key_id', type: 'text' })
  clientSecretKeyId!: string;

  /** A secret's first three characters (as Azure shows them); a certificate's thumbprint's first six. */
  @Column({ name: 'client_secret_hint', type: 'text' })
  clientSecretHint!: string;

  /** The certificate's id (from POST …/certificate) and its public PEM, for a certificate credential. */
  @Column({ name: 'certificate_id', type: 'uuid', nullable: true })
  certificateId!: string | null;

  @Column({ name: 'certificate_pem', type: 'text', nullable: true })
  certificatePem!: string | null;

  /** When the credential expires: as the admin typed it for a secret, read from a certificate. */
  @Column({ name: 'secret_expires_at', type: 'timestamptz', nullable: true })
  secretExpiresAt!: Date | null;

  @Column({ name: 'default_priority', type: 'smallint', default: 2 })
  defaultPriority!: number;

  @Column({ name: 'default_owner_id', type: 'uuid', nullable: true })
  defaultOwnerId!: string | null;

  @Column({ name: 'default_queue_id', type: 'uuid', nullable: true })
  defaultQueueId!: string | null;

  @Column({ name: 'default_workstream_id', type: 'uuid', nullable: true })
  defaultWorkstreamId!: string | null;

  @Column({ name: 'ticket_properties', type: 'jsonb', default: () => "'{}'::jsonb" })
  ticketProperties!: Record<string, unknown>;

  /** Omnichannel Messaging API origin; with the channel and organization ids, chats become conversations. */
  @Column({ name: 'messaging_endpoint', type: 'text', nullable: true })
  messagingEndpoint!: string | null;

  @Column({ name: 'messaging_channel_id', type: 'uuid', nullable: true })
  messagingChannelId!: string | null;

  @Column({ name: 'messaging_organization_id', type: 'uuid', nullable: true })
  messagingOrganizationId!: string | null;

  /** As entered; null means derived from the environment (see messagingScopeOf). */
  @Column({ name: 'messaging_scope', type: 'text', nullable: true })
  messagingScope!: string | null;

  /** The Application ID URI Microsoft's webhook token is issued for; null: `api://<client_id>`. */
  @Column({ name: 'messaging_webhook_audience', type: 'text', nullable: true })
  messagingWebhookAudience!: string | null;

  /** The app that calls the webhook (the token's azp/appid); null: the org's client id. */
  @Column({ name: 'messaging_webhook_caller_id', type: 'uuid', nullable: true })
  messagingWebhookCallerId!: string | null;

  @Column({ name: 'status', type: 'text' })
  status!: IntegrationStatus;

  @Column({ name: 'last_verified_at', type: 'timestamptz', nullable: true })
  lastVerifiedAt!: Date | null;

  @Column({ name: 'last_verification', type: 'jsonb', nullable: true })
  lastVerification!: LastVerification | null;

  /** What handoffs need, as last checked (DESIGN §11); null until a verification checked it. */
  @Column({ name: 'readiness', type: 'jsonb', nullable: true })
  readiness!: Readiness | null;

  @Column({ name: 'consecutive_unreachable', type: 'integer', default: 0 })
  consecutiveUnreachable!: number;

  /** When the nightly sweep last verified this row (its run's cutoff is compared to this). */
  @Column({ name: 'last_swept_at', type: 'timestamptz', nullable: true })
  lastSweptAt!: Date | null;

  /** Lease of the sweep instance verifying this row; expired leases are picked up again. */
  @Column({ name: 'claimed_until', type: 'timestamptz', nullable: true })
  claimedUntil!: Date | null;

  @Column({ name: 'claimed_by', type: 'text', nullable: true })
  claimedBy!: string | null;

  @Column({ name: 'version', type: 'integer', default: 1 })
  version!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
