import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Certificate credentials (DESIGN §15).
 *  - A connection's credential is a client secret or a certificate: `credential_type`; for a
 *    certificate its public PEM and id, the private key sealed in the credential columns
 *    (client_secret_encrypted, client_secret_key_id) as a secret is, and `secret_expires_at` the
 *    certificate's own expiry.
 *  - dynamics365_pending_certificates: key pairs made (or imported) for an org and not saved yet —
 *    the admin uploads the certificate to Azure, then Test & Save takes it. The key is sealed to
 *    the org and the certificate's id.
 */
export class CertificateCredentials1764390000000 implements MigrationInterface {
  name = 'CertificateCredentials1764390000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE dynamics365_integration_settings
        ADD COLUMN credential_type text NOT NULL DEFAULT 'client_secret',
        ADD COLUMN certificate_id uuid,
        ADD COLUMN certificate_pem text,
        ADD CONSTRAINT dynamics365_integration_settings_credential_type_check
          CHECK (credential_type IN ('client_secret', 'certificate')),
        ADD CONSTRAINT dynamics365_integration_settings_certificate_check
          CHECK ((credential_type = 'certificate') = (certificate_pem IS NOT NULL AND certificate_id IS NOT NULL))`,
    );
    await queryRunner.query(
      `CREATE TABLE dynamics365_pending_certificates (
        id uuid NOT NULL,
        org_id text NOT NULL,
        private_key_encrypted bytea NOT NULL,
        private_key_key_id text NOT NULL,
        certificate_pem text NOT NULL,
        thumbprint text NOT NULL,
        not_after timestamptz NOT NULL,
        source text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT dynamics365_pending_certificates_pkey PRIMARY KEY (id),
        CONSTRAINT dynamics365_pending_certificates_source_check CHECK (source IN ('generated', 'imported'))
      )`,
    );
    await queryRunner.query(
      'CREATE INDEX dynamics365_pending_certificates_org ON dynamics365_pending_certificates (org_id, created_at)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE dynamics365_pending_certificates');
    await queryRunner.query(
      `ALTER TABLE dynamics365_integration_settings
        DROP CONSTRAINT dynamics365_integration_settings_certificate_check,
        DROP CONSTRAINT dynamics365_integration_settings_credential_type_check,
        DROP COLUMN certificate_pem,
        DROP COLUMN certificate_id,
        DROP COLUMN credential_type`,
    );
  }
}
