import { Injectable } from '@nestjs/common';
import type { Principal } from '../access/principal.js';
import { AuditContext, AuditService } from '../audit/audit.service.js';
import { AppError } from '../common/errors.js';
import {
  CertificateFacts,
  CertificateProblem,
  generateKeyPair,
  importKeyPair,
  importPfx,
  KeyPair,
  readCertificate,
} from '../settings/certificates.js';
import { PendingCertificateRepository } from '../settings/pending-certificate.repository.js';
import type { IntegrationSettings } from '../settings/settings.entity.js';
import { SettingsRepository } from '../settings/settings.repository.js';
import { StoredCredentials } from '../settings/stored-credentials.js';
import type { NamedCertificate } from './integration-input.js';
import { CertificateDto, CreateCertificateDto } from './integration.dto.js';
import { VerificationRateLimiter } from './verification-rate-limiter.js';

/**
 * Certificate credentials of an org's connection (DESIGN §15): a key pair made or imported and
 * kept until Test & Save takes it, the certificate answered (never the key), and the certificate a
 * `certificate_id` names when a save or test uses one.
 */
@Injectable()
export class IntegrationCertificates {
  constructor(
    private readonly settings: SettingsRepository,
    private readonly stored: StoredCredentials,
    private readonly pending: PendingCertificateRepository,
    private readonly rateLimiter: VerificationRateLimiter,
    private readonly audit: AuditService,
  ) {}

  /** The certificate `certificate_id` names: one made for this org and not saved yet, or the stored one. */
  async named(orgId: string, id: string, existing: IntegrationSettings | null): Promise<NamedCertificate> {
    if (existing?.certificateId === id && existing.certificatePem) {
      const credential = this.stored.credentialOf(existing);
      if (credential.type === 'certificate') {
        return {
          id,
          privateKeyPem: credential.privateKeyPem,
          facts: readCertificate(existing.certificatePem),
          source: 'stored',
        };
      }
    }
    const pending = await this.pending.find(orgId, id);
    if (!pending) {
      throw AppError.validation([
        {
          field: 'certificate_id',
          message: `certificate_id ${id} names no certificate of this organisation: make one with POST /api/v1/integrations/dynamics365/certificate (certificates not saved within 7 days are dropped)`,
        },
      ]);
    }
    const facts = readCertificate(pending.certificatePem);
    if (facts.notAfter.getTime() <= Date.now()) {
      throw AppError.validation([
        {
          field: 'certificate_id',
          message: `the certificate ${id} expired on ${facts.notAfter.toISOString()}: make a new one`,
        },
      ]);
    }
    return { id, privateKeyPem: this.pending.privateKeyOf(pending), facts, source: 'pending' };
  }

  /**
   * A key pair for the org's app registration (generated, or imported from PEM), kept until Test &
   * Save takes it; answers the public certificate to upload in Azure, never the key.
   */
  async create(
    principal: Principal,
    dto: CreateCertificateDto,
    context: AuditContext,
  ): Promise<CertificateDto> {
    const orgId = principal.org_id;
    let pair: KeyPair;
    const pem = dto.certificate_pem !== undefined || dto.private_key_pem !== undefined;
    const pfx = dto.pfx !== undefined;
    if (pem && pfx) {
      throw AppError.validation([
        { field: 'pfx', message: 'send pfx or certificate_pem with private_key_pem, not both' },
      ]);
    }
    if (dto.pfx_password !== undefined && !pfx) {
      throw AppError.validation([{ field: 'pfx_password', message: 'pfx_password goes with pfx' }]);
    }
    const importing = pem || pfx;
    try {
      // Counted with the org's verifications (a key pair costs as much CPU as one), once the
      // input is known to be usable.
      if (importing) {
        pair = pfx
          ? importPfx(dto.pfx!, dto.pfx_password)
          : importKeyPair(dto.certificate_pem ?? '', dto.private_key_pem ?? '');
        await this.rateLimiter.consume(orgId);
      } else {
        await this.rateLimiter.consume(orgId);
        pair = await generateKeyPair(`dynamics365-connector ${orgId}`);
      }
    } catch (error) {
      if (error instanceof CertificateProblem) {
        throw AppError.validation([{ field: error.field, message: error.message }]);
      }
      throw error;
    }
    const source = importing ? 'imported' : 'generated';
    const created = await this.settings.transaction(async (manager) => {
      const row = await this.pending.create(manager, orgId, pair, source);
      await this.audit.record(manager, orgId, 'integration.certificate_created', context, {
        certificate_id: row.id,
        source,
        thumbprint: pair.thumbprint,
        not_after: pair.notAfter.toISOString(),
      });
      return row;
    });
    return certificateDocument(created.id, pair, source);
  }

  /** A certificate of the org — not saved yet, or the stored one — to download again. */
  async get(principal: Principal, id: string): Promise<CertificateDto> {
    const orgId = principal.org_id;
    const row = await this.settings.findByOrg(orgId);
    if (row?.certificateId === id && row.certificatePem) {
      return certificateDocument(id, readCertificate(row.certificatePem), 'stored');
    }
    const pending = await this.pending.find(orgId, id);
    if (!pending) throw new AppError('not_found', `No certificate ${id} for this organisation.`);
    return certificateDocument(id, readCertificate(pending.certificatePem), pending.source);
  }
}

function certificateDocument(
  id: string,
  facts: CertificateFacts,
  source: 'generated' | 'imported' | 'stored',
): CertificateDto {
  return {
    certificate_id: id,
    source,
    thumbprint: facts.thumbprint,
    thumbprint_sha256: facts.thumbprintSha256,
    subject: facts.subject,
    not_before: facts.notBefore.toISOString(),
    not_after: facts.notAfter.toISOString(),
    certificate_pem: facts.certificatePem,
  };
}
