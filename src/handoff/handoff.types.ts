// The vocabulary of handoffs, shared by the table, the API documents and the delivery.

export const HANDOFF_CHANNELS = [
  'web',
  'sms',
  'whatsapp',
  'email',
  'phone_voice',
  'web_voice',
  'slack',
  'instagram',
  'messenger',
  'api',
] as const;
export type HandoffChannel = (typeof HANDOFF_CHANNELS)[number];

/** Chat channels: an Omnichannel conversation when messaging is configured, a case otherwise. */
export const CHAT_CHANNELS: readonly HandoffChannel[] = ['web', 'sms', 'whatsapp'];

export const HANDOFF_STATES = ['pending', 'delivering', 'delivered', 'held', 'failed', 'cancelled'] as const;
export type HandoffState = (typeof HANDOFF_STATES)[number];

export type HandoffRoute = 'incident' | 'conversation';

/** Why a handoff is held, failed or cancelled. */
export const HANDOFF_REASONS = [
  'connection_invalid',
  'secret_undecryptable',
  'configuration',
  'attempts_exhausted',
  'expired',
  'disconnected',
] as const;
export type HandoffReason = (typeof HANDOFF_REASONS)[number];

export interface HandoffError {
  stage: string;
  upstream_status: number | null;
  upstream_code: string | null;
  message: string;
  hint: string | null;
}

export const TRANSCRIPT_ROLES = ['customer', 'ai', 'agent', 'system'] as const;

export interface TranscriptEntry {
  role: (typeof TRANSCRIPT_ROLES)[number];
  text: string;
  at: string;
}

/** A handoff as submitted (validated): what the host platform knows of the conversation. */
export interface HandoffRequest {
  session_id: string;
  channel: HandoffChannel;
  customer?: { name?: string; email?: string; phone?: string };
  classification?: string;
  sentiment?: string;
  summary?: string;
  transcript?: TranscriptEntry[];
}

/**
 * The `from.id` of what the service sends into a conversation (the transcript's follow-ups, the
 * customer's later messages): a read back of the conversation's messages skips its own side by it.
 */
export const OWN_SENDER_IDS = {
  ai: 'dynamics365-connector:ai',
  customer: 'dynamics365-connector:customer',
} as const;
