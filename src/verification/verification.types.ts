// The vocabulary of a verification, shared by the settings row that stores the last result and
// the API documents that show it.
import type { UpstreamOutcome, UpstreamStage } from '../microsoft/upstream.js';

/** Where a verification stopped: the token exchange with Entra ID, or the Dataverse probe. */
type VerificationStage = Extract<UpstreamStage, 'token_exchange' | 'dynamics_probe'>;

type VerificationOutcome = 'ok' | UpstreamOutcome;

export type IntegrationStatus = 'active' | 'invalid' | 'unreachable';

export interface StageResult {
  stage: VerificationStage;
  outcome: VerificationOutcome;
  upstream_status: number | null;
  upstream_code: string | null;
  message: string | null;
  hint: string | null;
  duration_ms: number;
}

export interface LastVerification extends StageResult {
  checked_at: string;
}
