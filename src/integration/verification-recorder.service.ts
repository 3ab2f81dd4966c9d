import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { AuditContext, AuditService } from '../audit/audit.service.js';
import type {
  IntegrationSettings,
  IntegrationStatus,
  LastVerification,
} from '../settings/settings.entity.js';
import { SettingsRepository } from '../settings/settings.repository.js';
import type { VerificationResult } from './credential-verifier.service.js';

/**
 * Records a verification of stored credentials on the org's row (POST /verify and the nightly
 * sweep share this): last_verification, the status rules of DESIGN section 5, and an
 * `integration.status_changed` audit event in the same transaction when the status moves.
 */
@Injectable()
export class VerificationRecorder {
  constructor(
    private readonly settings: SettingsRepository,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Returns the updated row, or null when the org disconnected meanwhile. `swept` marks the row
   * as verified by the current sweep and releases its lease.
   */
  async record(
    orgId: string,
    result: VerificationResult,
    context: AuditContext,
    options: { swept?: boolean } = {},
  ): Promise<IntegrationSettings | null> {
    return this.settings.transaction(async (manager) => {
      const row = await this.settings.lockExistingByOrg(manager, orgId);
      if (!row) return null;
      const now = new Date();
      const from = row.status;
      row.lastVerification = summarise(result, now);
      if (result.ok) {
        row.lastVerifiedAt = now;
        row.consecutiveUnreachable = 0;
        row.status = 'active';
      } else if (result.failure.outcome === 'rejected') {
        row.consecutiveUnreachable = 0;
        row.status = 'invalid';
      } else {
        row.consecutiveUnreachable += 1;
        if (from === 'active' && row.consecutiveUnreachable >= this.config.revalidationUnreachableThreshold) {
          row.status = 'unreachable';
        }
      }
      if (options.swept) {
        row.lastSweptAt = now;
        row.claimedUntil = null;
        row.claimedBy = null;
      }
      row.version += 1;
      row.updatedAt = await this.settings.update(manager, orgId, {
        status: row.status,
        lastVerification: row.lastVerification,
        lastVerifiedAt: row.lastVerifiedAt,
        consecutiveUnreachable: row.consecutiveUnreachable,
        version: row.version,
        ...(options.swept ? { lastSweptAt: row.lastSweptAt, claimedUntil: null, claimedBy: null } : {}),
      });
      const saved = row;
      if (from !== row.status)
        await this.recordStatusChange(manager, orgId, from, row.status, row.lastVerification, context);
      return saved;
    });
  }

  private recordStatusChange(
    manager: Parameters<AuditService['record']>[0],
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

/** The stage that decided the outcome (the failing one, or the probe when both passed). */
export function summarise(result: VerificationResult, checkedAt: Date): LastVerification {
  const decisive = result.ok ? result.stages[result.stages.length - 1] : result.failure;
  const total = result.stages.reduce((sum, s) => sum + s.duration_ms, 0);
  return { ...decisive, duration_ms: total, checked_at: checkedAt.toISOString() };
}
