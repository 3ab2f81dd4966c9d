import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { SYSTEM_CONTEXT } from '../audit/audit.service.js';
import { NO_RETRY } from '../microsoft/upstream-http.js';
import { SettingsMetrics } from '../settings/settings.metrics.js';
import { ClaimedRow, SettingsRepository } from '../settings/settings.repository.js';
import { StoredCredentials } from '../settings/stored-credentials.js';
import { CredentialVerifier, VerificationResult } from '../verification/credential-verifier.js';
import { VerificationRecorder } from '../verification/verification-recorder.js';
import type { IntegrationStatus } from '../settings/verification.types.js';
import { retryDelayMs } from '../common/retry-delay.js';
import { RevalidationMetrics } from './revalidation.metrics.js';
import { RevalidationRepository, RevalidationRun } from './revalidation.repository.js';
import { readinessTargetOf } from '../verification/readiness-checker.js';
import type { Credentials } from '../verification/credential-verifier.js';

export interface SweepSummary {
  run_id: string;
  joined_running_sweep: boolean;
  trigger: 'schedule' | 'manual';
  checked: number;
  ok: number;
  rejected: number;
  unreachable: number;
  errors: number;
  status_changes: number;
  transitions: Record<string, number>;
  duration_ms: number;
}

/** How often a sweeping instance refreshes its run's heartbeat (a run silent for a lease is stale). */
const HEARTBEAT_MS = 5000;

/** Longest wait for a Retry-After within a sweep; longer ones are left to the next attempt. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * Re-verifies every connected org with the same two-stage check as Test & Save and records the
 * outcome through the same recorder as POST /verify. Safe on any number of instances (see
 * RevalidationRepository); at most REVALIDATION_CONCURRENCY verifications in flight here.
 */
@Injectable()
export class RevalidationService {
  private readonly logger = new Logger(RevalidationService.name);
  readonly instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly config: AppConfig,
    private readonly repository: RevalidationRepository,
    private readonly settings: SettingsRepository,
    private readonly stored: StoredCredentials,
    private readonly verifier: CredentialVerifier,
    private readonly recorder: VerificationRecorder,
    private readonly metrics: RevalidationMetrics,
    private readonly settingsMetrics: SettingsMetrics,
  ) {}

  /** Lease per claimed org: long enough for every attempt of one verification. */
  get leaseMs(): number {
    const attempts = this.config.revalidationRetries + 1;
    const perAttempt = 2 * this.config.upstreamTimeoutMs;
    const backoff = this.config.revalidationRetryBaseMs * (2 ** attempts - 1) * 1.5 + MAX_RETRY_AFTER_MS;
    return Math.max(60_000, attempts * perAttempt + backoff);
  }

  async sweep(trigger: 'schedule' | 'manual' = 'manual', tick: Date | null = null): Promise<SweepSummary> {
    const started = Date.now();
    const run = await this.repository.startOrJoinRun(trigger, tick, this.leaseMs);
    const summary: SweepSummary = {
      run_id: run.id,
      joined_running_sweep: run.joined,
      trigger,
      checked: 0,
      ok: 0,
      rejected: 0,
      unreachable: 0,
      errors: 0,
      status_changes: 0,
      transitions: {},
      duration_ms: 0,
    };
    let lastBeat = Date.now();
    const heartbeat = async () => {
      if (Date.now() - lastBeat < HEARTBEAT_MS) return;
      lastBeat = Date.now();
      await this.repository.heartbeat(run);
    };
    const workers = Array.from({ length: this.config.revalidationConcurrency }, () =>
      this.work(run, summary, heartbeat),
    );
    await Promise.all(workers);
    await this.finishIfComplete(run).catch((error: unknown) => {
      this.logger.warn(`Could not close revalidation run ${run.id}: ${(error as Error).message}`);
    });
    summary.duration_ms = Date.now() - started;
    this.metrics.sweepDuration.observe({ trigger }, summary.duration_ms / 1000);
    await this.settingsMetrics.refresh();
    this.logger.log({ summary }, 'Revalidation sweep finished');
    return summary;
  }

  /** A run is finished once no org is due any more (all verified, none held by a live lease). */
  private async finishIfComplete(run: RevalidationRun): Promise<void> {
    if ((await this.settings.countDue(run.cutoff)) === 0) await this.repository.finishRun(run);
  }

  /** One worker: claim a due org, verify it, record it; until nothing is left to claim. */
  private async work(
    run: RevalidationRun,
    summary: SweepSummary,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    for (;;) {
      let claimed: ClaimedRow | null;
      try {
        claimed = await this.settings.claimNextDue(run.cutoff, this.instanceId, this.leaseMs);
        await heartbeat();
      } catch (error) {
        this.logger.error(`Revalidation could not claim work: ${(error as Error).message}`);
        summary.errors += 1;
        return;
      }
      if (!claimed) return;
      const orgId = claimed.orgId;
      try {
        await this.verifyOrg(claimed, run, summary);
      } catch (error) {
        // One org's failure never stops the sweep; the next run tries it again.
        summary.errors += 1;
        this.logger.error(`Revalidation of org ${orgId} failed: ${(error as Error).message}`);
        await this.settings.releaseUnverified(orgId, this.instanceId).catch(() => undefined);
      }
    }
  }

  private async verifyOrg(row: ClaimedRow, run: RevalidationRun, summary: SweepSummary): Promise<void> {
    const orgId = row.orgId;
    const credentials = { ...this.stored.of(row), readiness: readinessTargetOf(row) };
    const result = await this.verifyWithRetries(credentials);
    const outcome = result.ok ? 'ok' : result.failure.outcome;
    this.metrics.verifications.inc({
      trigger: run.trigger,
      outcome,
      code: result.ok
        ? 'none'
        : (result.failure.upstream_code ?? String(result.failure.upstream_status ?? 'none')),
    });
    const before: IntegrationStatus = row.status;
    const updated = await this.recorder.record(orgId, result, SYSTEM_CONTEXT, { swept: true });
    if (!updated) return;
    summary.checked += 1;
    summary[outcome] += 1;
    if (updated.status !== before) {
      summary.status_changes += 1;
      const key = `${before}->${updated.status}`;
      summary.transitions[key] = (summary.transitions[key] ?? 0) + 1;
    }
  }

  /** Unreachable outcomes are retried with exponential backoff and jitter, honouring Retry-After. */
  private async verifyWithRetries(credentials: Credentials) {
    let result: VerificationResult = await this.verifier.verify(credentials, {
      retry: NO_RETRY,
      priority: 'background',
    });
    for (let attempt = 0; attempt < this.config.revalidationRetries; attempt++) {
      if (result.ok || result.failure.outcome === 'rejected') break;
      const wait = retryDelayMs(
        attempt,
        this.config.revalidationRetryBaseMs,
        result.retryAfterMs,
        MAX_RETRY_AFTER_MS,
      );
      await new Promise((resolve) => setTimeout(resolve, wait));
      result = await this.verifier.verify(credentials, { retry: NO_RETRY, priority: 'background' });
    }
    return result;
  }
}
