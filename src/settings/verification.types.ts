// The vocabulary of a verification, shared by the settings row that stores the last result and
// the API documents that show it.
import type { UpstreamOutcome, UpstreamStage } from '../microsoft/upstream.js';

/**
 * Where a verification stopped: the token exchange with Entra ID, the Dataverse probe, or (with
 * Omnichannel messaging configured) the token for the Messaging API.
 */
type VerificationStage = Extract<UpstreamStage, 'token_exchange' | 'dynamics_probe' | 'messaging_token'>;

type VerificationOutcome = 'ok' | UpstreamOutcome;

export type IntegrationStatus = 'active' | 'invalid' | 'unreachable';

export interface StageResult {
  stage: VerificationStage;
  outcome: VerificationOutcome;
  upstream_status: number | null;
  upstream_code: string | null;
  message: string | null;
  hint: string | null;
  /** On a failure: the input the hint is about (`client_secret`, `tenant_id`, …), when it is one of them. */
  field?: string | null;
  duration_ms: number;
}

export interface LastVerification extends StageResult {
  checked_at: string;
}

/** One thing a handoff needs, checked (DESIGN §11). */
export interface ReadinessCheck {
  /** `application_user`, `privilege:<name>`, `default_queue`, `default_owner`, `default_workstream`, `messaging_conversations`. */
  check: string;
  ok: boolean;
  /** What was found, for display. */
  detail: string;
  /** What to grant or fix, where, and which handoff step it breaks; null when ok. */
  hint: string | null;
}

/** Whether the app can do everything a handoff will ask, as last checked. */
export interface Readiness {
  checked_at: string;
  ready: boolean;
  checks: ReadinessCheck[];
}
