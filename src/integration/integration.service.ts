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
    const input = this.resolve(dto, existing);
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
    const input = this.resolve(dto, existing);
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
      await this.audit.record(manager, principal.org_id, 'integration.disconnected', context, {
        client_id: row.clientId,
        tenant_id: row.tenantId,
        environment_url: row.environmentUrl,
        client_secret_hint: row.clientSecretHint,
      });
    });
    this.settingsMetrics.refreshSoon();
  }

  private resolve(dto: IntegrationCredentialsDto, existing: IntegrationSettings | null): ResolvedInput {
    return resolveInput(
      dto,
      existing,
      () => this.stored.secretOf(existing!),
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
    const secretRotated =
      !!current && input.secretProvided && !this.stored.holds(current, input.credentials.clientSecret);
    const previousHint = current?.clientSecretHint ?? null;
    if (!current || input.secretProvided) this.stored.seal(row, input.credentials.clientSecret);
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
            .concat(secretRotated ? ['client_secret'] : [])
        : Object.keys(after).concat('client_secret'),
      secret_rotated: secretRotated,
      client_secret_hint: saved.clientSecretHint,
      previous_client_secret_hint: secretRotated ? previousHint : null,
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
        client_secret_hint: Array.from(input.credentials.clientSecret).slice(0, 3).join(''),
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
