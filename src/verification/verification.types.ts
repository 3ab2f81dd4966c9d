// The vocabulary of a verification, shared by the Microsoft clients that report failures, the
// settings row that stores the last result, and the API documents that show it.

/** Where a verification stopped: the token exchange with Entra ID, or the Dataverse probe. */
export type VerificationStage = 'token_exchange' | 'dynamics_probe';

/** `rejected`: Microsoft said no (a definite answer); `unreachable`: no answer to decide on. */
export type VerificationOutcome = 'ok' | 'rejected' | 'unreachable';

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
