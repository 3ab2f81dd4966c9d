import { Injectable } from '@nestjs/common';
import { EntraTokenClient } from '../microsoft/auth/entra-token.client.js';
import { DataverseClient } from '../microsoft/dynamics-client/dataverse.client.js';
import type { RetryPolicy } from '../microsoft/upstream-http.js';
import { UpstreamFailure } from '../microsoft/upstream.js';
import { hintFor, HintInput } from './hints.js';
import type { StageResult } from '../settings/verification.types.js';

export interface Credentials extends HintInput {
  clientId: string;
  clientSecret: string;
  tenantId: string;
  environmentUrl: string;
  /** With Omnichannel messaging: the scope a third stage gets a token for. */
  messagingScope?: string;
}

export type VerificationResult =
  | { ok: true; stages: StageResult[] }
  | { ok: false; stages: StageResult[]; failure: StageResult; retryAfterMs: number | null };

/**
 * The live check shared by Test & Save, test, verify and the nightly sweep: a fresh
 * client credentials token (never cached), then the incidents probe with it, then — with
 * Omnichannel messaging configured — a token for the Messaging API's scope.
 */
@Injectable()
export class CredentialVerifier {
  constructor(
    private readonly entra: EntraTokenClient,
    private readonly dataverse: DataverseClient,
  ) {}

  /** `retry` overrides the HTTP-level retries (the sweep retries whole verifications itself). */
  async verify(credentials: Credentials, retry?: RetryPolicy): Promise<VerificationResult> {
    const stages: StageResult[] = [];
    try {
      const token = await this.entra.exchangeClientCredentials(credentials, retry);
      stages.push(okStage('token_exchange', token.durationMs));
      const probe = await this.dataverse.probeIncidents(credentials.environmentUrl, token.accessToken, retry);
      stages.push(okStage('dynamics_probe', probe.durationMs));
      if (credentials.messagingScope) {
        const messaging = await this.entra.exchangeClientCredentials(credentials, retry, {
          scope: credentials.messagingScope,
          stage: 'messaging_token',
        });
        stages.push(okStage('messaging_token', messaging.durationMs));
      }
      return { ok: true, stages };
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
        duration_ms: error.durationMs,
      };
      stages.push(failure);
      return { ok: false, stages, failure, retryAfterMs: error.retryAfterMs };
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
