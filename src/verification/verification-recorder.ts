import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditContext, AuditService } from '../audit/audit.service.js';
import { AppConfig } from '../config/app-config.js';
import type { IntegrationSettings } from '../settings/settings.entity.js';
import { ConnectionHooks } from '../settings/connection-hooks.js';
import { SettingsRepository } from '../settings/settings.repository.js';
import type { VerificationResult } from './credential-verifier.js';
import { nextStatus, summarise } from './status-rules.js';
import { readinessChange } from './readiness-change.js';
import type { IntegrationStatus, LastVerification } from '../settings/verification.types.js';

/**
 * Records a verification of stored credentials on the org's row (POST /verify and the nightly
 * sweep share this): last_verification, the status rules, readiness, and an
 * `integration.status_changed` / `integration.readiness_changed` audit event in the same
 * transaction when the status or the readiness moves.
 */
@Injectable()
export class VerificationRecorder {
  constructor(
    private readonly settings: SettingsRepository,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
    private readonly hooks: ConnectionHooks,
  ) {}

  /**
   * Returns the updated row, or null when the org disconnected meanwhile. `swept` marks the row
   * as verified by the current sweep and gives its lease back.
   */
  async record(
    orgId: string,
    result: VerificationResult,
    context: AuditContext,
    options: { swept?: boolean } = {},
  ): Promise<IntegrationSettings | null> {
    const recorded = await this.settings.transaction(async (manager) => {
      const row = await this.settings.lockExistingByOrg(manager, orgId);
      if (!row) return null;
      const now = new Date();
      const from = row.status;
      const readinessBefore = row.readiness;
      const next = nextStatus(row, result, this.config.revalidationUnreachableThreshold);
      Object.assign(row, next, {
        lastVerification: summarise(result, now),
        lastVerifiedAt: result.ok ? now : row.lastVerifiedAt,
        // Unknown this time (Microsoft did not answer its calls): the last readiness stands.
        readiness: result.ok && result.readiness ? result.readiness : row.readiness,
        version: row.version + 1,
      });
      row.updatedAt = await this.settings.update(
        manager,
        orgId,
        {
          status: row.status,
          lastVerification: row.lastVerification,
          lastVerifiedAt: row.lastVerifiedAt,
          consecutiveUnreachable: row.consecutiveUnreachable,
          readiness: row.readiness,
          version: row.version,
        },
        { releaseLease: options.swept },
      );
      if (from !== row.status) {
        await this.recordStatusChange(manager, orgId, from, row.status, row.lastVerification!, context);
      }
      const change = row.readiness ? readinessChange(readinessBefore, row.readiness) : null;
      if (change) await this.audit.record(manager, orgId, 'integration.readiness_changed', context, change);
      await this.hooks.recorded(manager, {
        orgId,
        from,
        to: row.status,
        verification: row.lastVerification,
        readiness: result.ok ? result.readiness : null,
      });
      return row;
    });
    if (recorded && result.ok) await this.hooks.verified(orgId);
    return recorded;
  }

  private recordStatusChange(
    manager: EntityManager,
    orgId: string,
    from: IntegrationStatus,
    to: IntegrationStatus,
    verification: LastVerification,
    context: AuditContext,
  ) {
    return this.audit.record(manager, orgId, 'integration.status_changed', context, {
      from,
      to,
      stage: verification.stage,
      outcome: verification.outcome,
      upstream_status: verification.upstream_status,
      code: verification.upstream_code,
      hint: verification.hint,
    });
  }
}
