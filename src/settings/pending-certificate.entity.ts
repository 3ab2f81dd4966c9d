import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A key pair made (or imported) for an org's app registration and not saved yet: the admin
 * uploads its certificate to Azure, then Test & Save takes it into the connection (and deletes
 * this row). The private key is sealed to the org and this id (SecretCipher); never return it.
 */
@Entity({ name: 'dynamics365_pending_certificates' })
@Index('dynamics365_pending_certificates_org', ['orgId', 'createdAt'])
export class PendingCertificate {
  @PrimaryColumn({ name: 'id', type: 'uuid' })
  id!: string;

  @Column({ name: 'org_id', type: 'text' })
  orgId!: string;

  @Column({ name: 'private_key_encrypted', type: 'bytea' })
  privateKeyEncrypted!: Buffer;

  @Column({ name: 'private_key_key_id', type: 'text' })
  privateKeyKeyId!: string;

  @Column({ name: 'certificate_pem', type: 'text' })
  certificatePem!: string;

  /** SHA-1, upper-case hex: as the Azure portal lists it. */
  @Column({ name: 'thumbprint', type: 'text' })
  thumbprint!: string;

  @Column({ name: 'not_after', type: 'timestamptz' })
  notAfter!: Date;

  @Column({ name: 'source', type: 'text' })
  source!: 'generated' | 'imported';

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
