// What arrives on the messaging webhook: the representative's side of a conversation, as Bot
// Framework activities. Checked (token of the org's tenant for its app), mapped to the service's
// event documents, stored once, and announced.
import { Injectable, Logger } from '@nestjs/common';
import { ORG_ID_PATTERN } from '../../access/principal.js';
import { AppError } from '../../common/errors.js';
import { SettingsRepository } from '../../settings/settings.repository.js';
import { ConversationEventPoster } from './event-poster.js';
import type { ConversationEventDocument } from './conversation-events.js';
import { HandoffEventRepository } from '../handoff-event.repository.js';
import { HandoffRepository } from '../handoff.repository.js';
import { WebhookTokenRefused, WebhookTokenVerifier } from './webhook-token.js';

/** Event names that end the conversation (Microsoft's webhook page lists them). */
const CLOSING = ['ConversationClosed', 'AgentClosed', 'AgentEndedSession'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Mapped = { type: ConversationEventDocument['type']; data: Record<string, unknown> };

@Injectable()
export class ConversationActivities {
  private readonly logger = new Logger(ConversationActivities.name);

  constructor(
    private readonly settings: SettingsRepository,
    private readonly handoffs: HandoffRepository,
    private readonly stored: HandoffEventRepository,
    private readonly tokens: WebhookTokenVerifier,
    private readonly poster: ConversationEventPoster,
  ) {}

  /** Stores one activity; returns the event id (null when it was stored before). */
  async receive(
    orgId: string,
    conversationId: string,
    token: string | undefined,
    activity: unknown,
  ): Promise<string | null> {
    const refuse = (why: string) => {
      this.logger.warn({ org_id: orgId, reason: why }, 'Messaging webhook call refused');
      return new AppError(
        'unauthorized',
        'The token on this webhook call is not valid for the organisation.',
      );
    };
    if (!token) throw refuse('no token');
    const settings = ORG_ID_PATTERN.test(orgId) ? await this.settings.findByOrg(orgId) : null;
    if (!settings?.messagingEndpoint) throw refuse('no messaging connection');
    try {
      await this.tokens.verify(token, settings);
    } catch (error) {
      if (error instanceof WebhookTokenRefused) throw refuse(error.message);
      throw error;
    }
    if (!GUID.test(conversationId)) {
      throw AppError.validation([{ field: 'conversation_id', message: 'conversation_id must be a GUID' }]);
    }
    const handoff = await this.handoffs.findByConversation(orgId, conversationId.toLowerCase());
    if (!handoff) throw new AppError('not_found', `No handoff has conversation ${conversationId}.`);
    const mapped = mapActivity(activity);
    const activityId =
      typeof (activity as { id?: unknown }).id === 'string' ? (activity as { id: string }).id : null;
    const id = await this.handoffs.transaction(async (manager) => {
      const stored = await this.stored.insert(manager, handoff, mapped.type, mapped.data, activityId);
      if (stored) await this.poster.enqueue(manager, stored);
      if (stored && mapped.type === 'conversation.closed') {
        await this.handoffs.closeConversation(manager, handoff.id);
      }
      return stored;
    });
    if (id) this.poster.wake();
    this.logger.log(
      { session_id: handoff.sessionId, org_id: orgId, event: mapped.type },
      'Conversation activity received',
    );
    return id;
  }
}

/** A Bot Framework activity as an event document's type and data. */
function mapActivity(activity: unknown): Mapped {
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
  if (CLOSING.includes(name)) return { type: 'conversation.closed', data: { reason: name } };
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
