import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Principal } from '../access/principal.js';
import { AuditExpectations } from '../audit/audit-expectations.js';
import { AuditContext, AuditService } from '../audit/audit.service.js';
import { AppConfig } from '../config/app-config.js';
import { AppError } from '../common/errors.js';
import { ConnectionHooks } from '../settings/connection-hooks.js';
import { SettingsMetrics } from '../settings/settings.metrics.js';
import { StoredCredentials } from '../settings/stored-credentials.js';
import { IntegrationSettings } from '../settings/settings.entity.js';
import { SettingsRepository } from '../settings/settings.repository.js';
import { CredentialVerifier, VerificationResult } from '../verification/credential-verifier.js';
import { summarise } from '../verification/status-rules.js';
import { VerificationRecorder } from '../verification/verification-recorder.js';
import type { StageResult } from '../settings/verification.types.js';
import { checkIfMatch, checkIfMatchSyntax, ResolvedInput, resolveInput } from './integration-input.js';
import { IntegrationCredentialsDto, IntegrationStatusDto, TestResultDto } from './integration.dto.js';
import type { AppCredential } from '../microsoft/auth/entra-token.client.js';
import { readCertificate } from '../settings/certificates.js';
import { PendingCertificateRepository } from '../settings/pending-certificate.repository.js';
import { IntegrationCertificates } from './integration-certificates.js';
import { adminFields, toStatusDocument } from './status-document.js';
import { VerificationRateLimiter } from './verification-rate-limiter.js';
import { readinessTargetOf } from '../verification/readiness-checker.js';
import { readinessChange, summariseReadiness } from '../verification/readiness-change.js';

/** Test & Save, test, verify, status and disconnect of an org's Dynamics 365 credentials. */
@Injectable()
export class IntegrationService implements OnModuleInit {
  constructor(
    private readonly config: AppConfig,
    private readonly settings: SettingsRepository,
    private readonly stored: StoredCredentials,
    private readonly verifier: CredentialVerifier,
    private readonly recorder: VerificationRecorder,
    private readonly rateLimiter: VerificationRateLimiter,
    private readonly audit: AuditService,
    private readonly expectations: AuditExpectations,
    private readonly settingsMetrics: SettingsMetrics,
    private readonly hooks: ConnectionHooks,
    private readonly pending: PendingCertificateRepository,
    private readonly certificates: IntegrationCertificates,
  ) {}

  onModuleInit(): void {
    // A stored connection is written with its audit event (Test & Save): an org that has one and an
    // empty chain had its events erased.
    this.expectations.expectChainWhen(async (orgId) =>
      (await this.settings.findByOrg(orgId)) ? 'a stored Dynamics 365 connection' : null,
    );
  }

  async status(principal: Principal): Promise<IntegrationStatusDto> {
    return this.document(await this.requireRow(principal.org_id));
  }

  async test(principal: Principal, dto: IntegrationCredentialsDto): Promise<TestResultDto> {
    const existing = await this.settings.findByOrg(principal.org_id);
    const input = await this.resolve(principal.org_id, dto, existing);
    await this.rateLimiter.consume(principal.org_id);
    const result = await this.verifier.verify(input.credentials);
    if (!result.ok) throw verificationError(result.failure, false);
    return { ok: true, stages: result.stages, readiness: result.readiness };
  }

  async save(
    principal: Principal,
    dto: IntegrationCredentialsDto,
    ifMatch: string | undefined,
    context: AuditContext,
  ): Promise<IntegrationStatusDto> {
    const orgId = principal.org_id;
    const existing = await this.settings.findByOrg(orgId);
    checkIfMatch(ifMatch, existing);
    const input = await this.resolve(orgId, dto, existing);
    await this.rateLimiter.consume(orgId);
    const result = await this.verifier.verify(input.credentials);
    if (!result.ok) {
      await this.recordRejectedSave(orgId, input, result.failure, context);
      throw verificationError(result.failure, true);
    }
    const saved = await this.settings.transaction(async (manager) => {
      const current = await this.settings.lockByOrg(manager, orgId);
      checkIfMatch(ifMatch, current);
      return this.upsert(manager, orgId, current, input, result, context);
    });
    this.settingsMetrics.refreshSoon();
    await this.hooks.verified(orgId);
    return this.document(saved);
  }

  async verifyStored(principal: Principal, context: AuditContext): Promise<IntegrationStatusDto> {
    const row = await this.requireRow(principal.org_id);
    await this.rateLimiter.consume(principal.org_id);
    const result = await this.verifier.verify({ ...this.stored.of(row), readiness: readinessTargetOf(row) });
    const updated = await this.recorder.record(principal.org_id, result, context);
    if (!updated) throw notConnected();
    this.settingsMetrics.refreshSoon();
    return this.document(updated);
  }

  async disconnect(principal: Principal, ifMatch: string | undefined, context: AuditContext): Promise<void> {
    checkIfMatchSyntax(ifMatch);
    await this.settings.transaction(async (manager) => {
      const row = await this.settings.lockExistingByOrg(manager, principal.org_id);
      if (!row) throw notConnected();
      checkIfMatch(ifMatch, row);
      await this.hooks.disconnecting(manager, principal.org_id);
      await this.settings.deleteByOrg(manager, principal.org_id);
      // Certificates made and not saved go too: nothing of the connection's credentials stays.
      await this.pending.removeAll(manager, principal.org_id);
      await this.audit.record(manager, principal.org_id, 'integration.disconnected', context, {
        client_id: row.clientId,
        tenant_id: row.tenantId,
        environment_url: row.environmentUrl,
        credential_type: row.credentialType,
        client_secret_hint: row.clientSecretHint,
        ...(row.certificatePem
          ? { certificate_thumbprint: readCertificate(row.certificatePem).thumbprint }
          : {}),
      });
    });
    this.settingsMetrics.refreshSoon();
  }

  private async resolve(
    orgId: string,
    dto: IntegrationCredentialsDto,
    existing: IntegrationSettings | null,
  ): Promise<ResolvedInput> {
    const certificate =
      dto.certificate_id !== undefined && dto.client_secret === undefined
        ? await this.certificates.named(orgId, dto.certificate_id.toLowerCase(), existing)
        : null;
    return resolveInput(
      dto,
      existing,
      () => this.stored.credentialOf(existing!),
      certificate,
      this.config.dynamicsAllowedOrigins,
    );
  }

  private async upsert(
    manager: EntityManager,
    orgId: string,
    current: IntegrationSettings | null,
    input: ResolvedInput,
    result: VerificationResult,
    context: AuditContext,
  ): Promise<IntegrationSettings> {
    const row =
      current ?? Object.assign(new IntegrationSettings(), { orgId, version: 0, consecutiveUnreachable: 0 });
    const before = current ? snapshot(current) : undefined;
    const readinessBefore = current?.readiness ?? null;
    const given = input.credentialGiven;
    const credential = input.credentials.credential;
    const previousHint = current?.clientSecretHint ?? null;
    const previousThumbprint = current?.certificatePem
      ? readCertificate(current.certificatePem).thumbprint
      : null;
    const rotated =
      !!current &&
      !!given &&
      (given.type === 'certificate'
        ? current.certificateId !== given.certificate.id
        : credential.type === 'client_secret' &&
          (current.credentialType !== 'client_secret' || !this.stored.holds(current, credential.secret)));
    if (given?.type === 'certificate' && credential.type === 'certificate') {
      this.stored.sealCertificate(row, given.certificate.id, {
        privateKeyPem: credential.privateKeyPem,
        certificatePem: given.certificate.facts.certificatePem,
      });
      if (given.certificate.source === 'pending')
        await this.pending.remove(manager, orgId, given.certificate.id);
    } else if (!current || given) {
      if (credential.type !== 'client_secret')
        throw new Error('a new connection without a secret or certificate');
      this.stored.seal(row, credential.secret);
    }
    Object.assign(row, {
      clientId: input.credentials.clientId,
      tenantId: input.credentials.tenantId,
      environmentUrl: input.credentials.environmentUrl,
      secretExpiresAt: input.secretExpiresAt,
      defaultPriority: input.defaultPriority,
      defaultOwnerId: input.defaultOwnerId,
      defaultQueueId: input.defaultQueueId,
      defaultWorkstreamId: input.defaultWorkstreamId,
      ticketProperties: input.ticketProperties,
      messagingEndpoint: input.messaging?.endpoint ?? null,
      messagingChannelId: input.messaging?.channelId ?? null,
      messagingOrganizationId: input.messaging?.organizationId ?? null,
      messagingScope: input.messaging?.scope ?? null,
      messagingWebhookAudience: input.messaging?.webhookAudience ?? null,
      messagingWebhookCallerId: input.messaging?.webhookCallerId ?? null,
      status: 'active',
      lastVerification: summarise(result, new Date()),
      lastVerifiedAt: new Date(),
      // Readiness never blocks a save; unknown this time, the last one stands.
      readiness: (result.ok && result.readiness) || readinessBefore,
      consecutiveUnreachable: 0,
      version: row.version + 1,
    });
    const saved = await this.settings.save(manager, row);
    const after = snapshot(saved);
    await this.audit.record(manager, orgId, 'integration.saved', context, {
      created: !current,
      changed_fields: before
        ? Object.keys(after)
            .filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]))
            .concat(rotated ? [credentialField(saved)] : [])
        : Object.keys(after).concat(credentialField(saved)),
      credential_type: saved.credentialType,
      secret_rotated: rotated,
      client_secret_hint: saved.clientSecretHint,
      previous_client_secret_hint: rotated ? previousHint : null,
      ...(saved.certificatePem
        ? {
            certificate_thumbprint: readCertificate(saved.certificatePem).thumbprint,
            previous_certificate_thumbprint: rotated ? previousThumbprint : null,
          }
        : {}),
      environment_url: saved.environmentUrl,
      version: saved.version,
      readiness: saved.readiness ? summariseReadiness(saved.readiness) : null,
    });
    const change = saved.readiness && current ? readinessChange(readinessBefore, saved.readiness) : null;
    if (change) await this.audit.record(manager, orgId, 'integration.readiness_changed', context, change);
    await this.hooks.recorded(manager, {
      orgId,
      from: current?.status ?? null,
      to: saved.status,
      verification: saved.lastVerification,
      readiness: result.ok ? result.readiness : null,
    });
    return saved;
  }

  private async recordRejectedSave(
    orgId: string,
    input: ResolvedInput,
    failure: StageResult,
    context: AuditContext,
  ) {
    await this.settings.transaction((manager) =>
      this.audit.record(manager, orgId, 'integration.save_rejected', context, {
        stage: failure.stage,
        outcome: failure.outcome,
        upstream_status: failure.upstream_status,
        code: failure.upstream_code,
        hint: failure.hint,
        client_id: input.credentials.clientId,
        tenant_id: input.credentials.tenantId,
        environment_url: input.credentials.environmentUrl,
        ...hintOf(input.credentials.credential),
      }),
    );
  }

  private document(row: IntegrationSettings): IntegrationStatusDto {
    return toStatusDocument(row, { secretReadable: this.stored.readable(row) });
  }

  private async requireRow(orgId: string): Promise<IntegrationSettings> {
    const row = await this.settings.findByOrg(orgId);
    if (!row) throw notConnected();
    return row;
  }
}

/** How a rejected save names the credential it tried, without any of it. */
function hintOf(credential: AppCredential): Record<string, string> {
  return credential.type === 'client_secret'
    ? {
        credential_type: 'client_secret',
        client_secret_hint: Array.from(credential.secret).slice(0, 3).join(''),
      }
    : { credential_type: 'certificate', certificate_thumbprint: credential.thumbprint };
}

function credentialField(row: IntegrationSettings): string {
  return row.credentialType === 'certificate' ? 'certificate' : 'client_secret';
}

/** The fields an admin sets, compared to list what a save changed. */
const snapshot = (row: IntegrationSettings): Record<string, unknown> => adminFields(row);

function notConnected(): AppError {
  return new AppError('not_found', 'No Dynamics 365 connection is stored for this organisation.');
}

function verificationError(failure: StageResult, saving: boolean): AppError {
  const stage = {
    token_exchange: 'token exchange with Microsoft Entra ID',
    dynamics_probe: 'Dynamics 365 probe',
    messaging_token: 'token for the Omnichannel Messaging API',
  }[failure.stage];
  const nothing = saving ? ' Nothing was saved.' : '';
  if (failure.outcome === 'rejected') {
    const code = failure.upstream_code ?? `HTTP ${failure.upstream_status}`;
    return new AppError(
      'verification_failed',
      `Microsoft rejected the credentials at the ${stage} (${code}).${nothing}`,
      {
        verification: failure,
      },
    );
  }
  return new AppError(
    'upstream_unavailable',
    `Microsoft could not be reached at the ${stage}: ${failure.message}${nothing}`,
    {
      verification: failure,
    },
  );
}
