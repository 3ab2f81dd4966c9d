import { Injectable } from '@nestjs/common';
import { AppCredential, EntraTokenClient } from '../microsoft/auth/entra-token.client.js';
import { DataverseCall, DataverseClient } from '../microsoft/dynamics-client/dataverse.client.js';
import type { CallPriority } from '../limits/call-priority.js';
import type { RetryPolicy } from '../microsoft/upstream-http.js';
import { UpstreamFailure } from '../microsoft/upstream.js';
import { fieldFor, hintFor, HintInput } from './hints.js';
import type { Readiness, StageResult } from '../settings/verification.types.js';
import { ReadinessChecker, ReadinessTarget, ReadinessUnavailable } from './readiness-checker.js';

export interface Credentials extends HintInput {
  clientId: string;
  credential: AppCredential;
  tenantId: string;
  environmentUrl: string;
  /** With Omnichannel messaging: the scope a third stage gets a token for. */
  messagingScope?: string;
  /** What handoffs will use: checked for readiness once the stages pass. */
  readiness?: ReadinessTarget;
}

export type VerificationResult =
  /** `readiness` null: not asked for, or Microsoft did not answer its calls (the last one stands). */
  | { ok: true; stages: StageResult[]; readiness: Readiness | null }
  | { ok: false; stages: StageResult[]; failure: StageResult; retryAfterMs: number | null };

/**
 * The live check shared by Test & Save, test, verify and the nightly sweep: a fresh
 * client credentials token (never cached), then the incidents probe with it, then — with
 * Omnichannel messaging configured — a token for the Messaging API's scope; then readiness with
 * the same tokens (never a reason to refuse a save: the documented calls decide that).
 */
@Injectable()
export class CredentialVerifier {
  constructor(
    private readonly entra: EntraTokenClient,
    private readonly dataverse: DataverseClient,
    private readonly readiness: ReadinessChecker,
  ) {}

  /**
   * `retry` overrides the HTTP-level retries (the sweep retries whole verifications itself);
   * `priority` places its Dataverse calls in the environment's budget — an admin waiting
   * (`interactive`, the default) goes before deliveries, the sweep (`background`) after them.
   */
  async verify(
    credentials: Credentials,
    options: { retry?: RetryPolicy; priority?: CallPriority } = {},
  ): Promise<VerificationResult> {
    const { retry } = options;
    const budget = { priority: options.priority ?? 'interactive' };
    const stages: StageResult[] = [];
    try {
      const token = await this.entra.exchangeClientCredentials(credentials, retry);
      stages.push(okStage('token_exchange', token.durationMs));
      const probe = await this.dataverse.probeIncidents({
        environmentUrl: credentials.environmentUrl,
        accessToken: token.accessToken,
        retry,
        budget,
      });
      stages.push(okStage('dynamics_probe', probe.durationMs));
      let messagingToken: string | null = null;
      if (credentials.messagingScope) {
        const messaging = await this.entra.exchangeClientCredentials(credentials, retry, {
          scope: credentials.messagingScope,
          stage: 'messaging_token',
        });
        stages.push(okStage('messaging_token', messaging.durationMs));
        messagingToken = messaging.accessToken;
      }
      return {
        ok: true,
        stages,
        readiness: credentials.readiness
          ? await this.checkReadiness(credentials, token.accessToken, messagingToken, { retry, budget })
          : null,
      };
    } catch (error) {
      if (!(error instanceof UpstreamFailure)) throw error;
      const failure: StageResult = {
        // The verifier's own calls report only its stages.
        stage:
          error.stage === 'token_exchange' || error.stage === 'messaging_token'
            ? error.stage
            : 'dynamics_probe',
        outcome: error.outcome,
        upstream_status: error.upstreamStatus,
        upstream_code: error.upstreamCode,
        message: error.message,
        hint: hintFor(error, credentials),
        field: fieldFor(error),
        duration_ms: error.durationMs,
      };
      stages.push(failure);
      return { ok: false, stages, failure, retryAfterMs: error.retryAfterMs };
    }
  }

  private async checkReadiness(
    credentials: Credentials,
    accessToken: string,
    messagingToken: string | null,
    options: Pick<DataverseCall, 'retry' | 'budget'>,
  ): Promise<Readiness | null> {
    try {
      return await this.readiness.check(
        credentials.environmentUrl,
        accessToken,
        messagingToken,
        credentials.readiness!,
        options,
      );
    } catch (error) {
      if (error instanceof ReadinessUnavailable) return null;
      throw error;
    }
  }
}

function okStage(stage: StageResult['stage'], durationMs: number): StageResult {
  return {
    stage,
    outcome: 'ok',
    upstream_status: 200,
    upstream_code: null,
    message: null,
    hint: null,
    duration_ms: durationMs,
  };
}
