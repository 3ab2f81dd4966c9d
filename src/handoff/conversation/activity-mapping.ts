// A Bot Framework activity from the messaging webhook as the service's event document: its type
// and its data, cleaned (no non-http(s) attachment URLs, bounded names). Pure, tested as a table.
import { AppError } from '../../common/errors.js';
import type { ConversationEventDocument } from './conversation-events.js';

/**
 * Event names that end the conversation: those Microsoft's generally-available webhook page lists
 * (AgentEndSession, PrimaryAgentEndConversation, ConversationClose, SupervisorForceClosedConversation,
 * CustomerDisconnected) and those of its samples and the preview (AgentClosed, ConversationClosed,
 * AgentEndedSession). Any other event passes through as `conversation.event`.
 */
export const ENDING_EVENTS = [
  'AgentEndSession',
  'PrimaryAgentEndConversation',
  'ConversationClose',
  'SupervisorForceClosedConversation',
  'CustomerDisconnected',
  'AgentClosed',
  'ConversationClosed',
  'AgentEndedSession',
] as const;

const ENDING: readonly string[] = ENDING_EVENTS;

/**
 * What the activity said and who said it, hashed: Microsoft's generally-available webhook sends
 * no activity id and retries a call it saw time out, and a read of the conversation's messages
 * returns what the webhook delivered with other members (messageId, timestamp) — what stays the
 * same is the sender, the type, the event name, the text and the attachments. Null for typing:
 * a repeated typing indicator is harmless, and two within minutes are common.
 */
export function contentKey(
  activity: Record<string, unknown>,
  /** A keyed hash (CustomerData.hash): never a plain digest of what was said. */
  hash: (fingerprint: string) => string,
): string | null {
  if (activity.type === 'typing') return null;
  const from =
    typeof activity.from === 'object' && activity.from !== null
      ? (activity.from as Record<string, unknown>)
      : {};
  const attachments = (Array.isArray(activity.attachments) ? activity.attachments : []).map(
    (item: Record<string, unknown>) => [
      item?.contentType ?? null,
      item?.contentUrl ?? null,
      item?.name ?? null,
    ],
  );
  const fingerprint = JSON.stringify([
    from.id ?? null,
    activity.type ?? null,
    activity.name ?? null,
    activity.text ?? null,
    attachments,
    activity.value ?? null,
  ]);
  return `hmac:${hash(fingerprint)}`;
}

/** An activity's own timestamp (Bot Framework `timestamp`), when it carries a valid one. */
export function activityTime(activity: Record<string, unknown>): Date | null {
  if (typeof activity.timestamp !== 'string') return null;
  const at = new Date(activity.timestamp);
  return Number.isNaN(at.getTime()) ? null : at;
}

/** An activity's own id, when its sender gave one (Bot Framework `id`). */
export function activityId(activity: Record<string, unknown>): string | null {
  return typeof activity.id === 'string' && activity.id !== '' ? activity.id.slice(0, 200) : null;
}

export type Mapped = { type: ConversationEventDocument['type']; data: Record<string, unknown> };

/** A Bot Framework activity as an event document's type and data. */
export function mapActivity(activity: unknown): Mapped {
  if (typeof activity !== 'object' || activity === null || Array.isArray(activity)) {
    throw AppError.validation([
      { field: 'body', message: 'must be a Bot Framework activity (a JSON object)' },
    ]);
  }
  const a = activity as Record<string, unknown>;
  const from = typeof a.from === 'object' && a.from !== null ? (a.from as Record<string, unknown>) : {};
  const sender = { id: bounded(str(from.id), 200), name: bounded(str(from.name), SENDER_NAME_MAX) };
  const name = str(a.name);
  switch (a.type) {
    case 'message':
      if (name) return eventNamed(name, a);
      return {
        type: 'agent.message',
        data: {
          text: str(a.text),
          text_format: str(a.textFormat),
          from: sender,
          attachments: (Array.isArray(a.attachments) ? a.attachments : []).map(
            (item: Record<string, unknown>) => ({
              content_type: bounded(str(item?.contentType), 200),
              content_url: webUrl(item?.contentUrl),
              name: bounded(str(item?.name), 400),
            }),
          ),
        },
      };
    case 'typing':
      return { type: 'agent.typing', data: { from: sender } };
    case 'event':
      if (!name)
        throw AppError.validation([{ field: 'name', message: 'an event activity must have a name' }]);
      return eventNamed(name, a);
    case 'endOfConversation':
      return { type: 'conversation.closed', data: { reason: 'endOfConversation' } };
    default:
      throw AppError.validation([
        { field: 'type', message: 'type must be message, typing, event or endOfConversation' },
      ]);
  }
}

function eventNamed(name: string, activity: Record<string, unknown>): Mapped {
  if (ENDING.includes(name)) return { type: 'conversation.closed', data: { reason: name } };
  return {
    type: 'conversation.event',
    data: { name, ...(activity.value !== undefined ? { value: activity.value } : {}) },
  };
}

/** Longer sender names are cut: they are shown in the host platform's UI. */
const SENDER_NAME_MAX = 100;

function bounded(value: string | null, max: number): string | null {
  return value === null ? null : value.slice(0, max);
}

/**
 * An attachment's URL only when it is an http(s) address: `javascript:`, `data:` and the like are
 * dropped before the event is stored, streamed or posted (a host that renders it as a link runs it).
 */
function webUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 4096) return null;
  try {
    const { protocol } = new URL(value);
    return protocol === 'https:' || protocol === 'http:' ? value : null;
  } catch {
    return null;
  }
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
