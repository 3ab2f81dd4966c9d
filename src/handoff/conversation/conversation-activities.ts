// What arrives on the messaging webhook: the representative's side of a conversation, as Bot
// Framework activities. Checked (token of the org's tenant for its app), mapped to the service's
// event documents, stored once, and announced. A read back of the conversation's messages
// (ConversationCatchUp) stores what the webhook missed the same way.
import { Injectable, Logger } from '@nestjs/common';
import { ORG_ID_PATTERN } from '../../access/principal.js';
import { AppError } from '../../common/errors.js';
import { AppConfig } from '../../config/app-config.js';
import { SettingsRepository } from '../../settings/settings.repository.js';
import { ConversationEventPoster } from './event-poster.js';
import { activityId, activityTime, contentKey, mapActivity, type Mapped } from './activity-mapping.js';
import { ConversationReadRepository } from '../conversation-read.repository.js';
import { ActivityIdentity, HandoffEventRepository } from '../handoff-event.repository.js';
import { HandoffRepository } from '../handoff.repository.js';
import { HandoffMetrics } from '../handoff.metrics.js';
import { CustomerData } from '../customer-data.js';
import { AlertFacts } from '../../alerts/alert-facts.js';
import { WebhookRejection, WebhookTokenRefused, WebhookTokenVerifier } from './webhook-token.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class ConversationActivities {
  private readonly activityHash = (fingerprint: string) => this.customerData.hash('activity', fingerprint);
  private readonly logger = new Logger(ConversationActivities.name);

  constructor(
    private readonly config: AppConfig,
    private readonly reads: ConversationReadRepository,
    private readonly settings: SettingsRepository,
    private readonly handoffs: HandoffRepository,
    private readonly stored: HandoffEventRepository,
    private readonly tokens: WebhookTokenVerifier,
    private readonly poster: ConversationEventPoster,
    private readonly metrics: HandoffMetrics,
    private readonly customerData: CustomerData,
    private readonly alerts: AlertFacts,
  ) {}

  /** Stores one activity; returns the event id (null when it was stored before). */
  async receive(
    orgId: string,
    conversationId: string,
    token: string | undefined,
    activity: unknown,
  ): Promise<string | null> {
    const refuse = (why: WebhookRejection) => {
      // The reason and the org, never the token: counted, and logged for the admin's set-up.
      this.metrics.webhookRejected(why);
      this.logger.warn({ org_id: orgId, reason: why }, 'Messaging webhook call refused');
      return new AppError(
        'unauthorized',
        'The token on this webhook call is not valid for the organisation.',
      );
    };
    if (!token) throw refuse('no_token');
    const settings = ORG_ID_PATTERN.test(orgId) ? await this.settings.findByOrg(orgId) : null;
    if (!settings?.messagingEndpoint) throw refuse('no_messaging_connection');
    try {
      await this.tokens.verify(token, settings);
    } catch (error) {
      if (error instanceof WebhookTokenRefused) {
        // A token of the org's tenant refused for its set-up (audience, caller…): the admin hears of it.
        await this.alerts
          .webhookRejected(orgId, error.reason)
          .catch((e: unknown) => this.logger.warn(`Alert not raised: ${(e as Error).message}`));
        throw refuse(error.reason);
      }
      throw error;
    }
    await this.alerts
      .webhookAccepted(orgId)
      .catch((e: unknown) => this.logger.warn(`Alert not resolved: ${(e as Error).message}`));
    if (!GUID.test(conversationId)) {
      throw AppError.validation([{ field: 'conversation_id', message: 'conversation_id must be a GUID' }]);
    }
    const handoff = await this.handoffs.findByConversation(orgId, conversationId.toLowerCase());
    if (!handoff) throw new AppError('not_found', `No handoff has conversation ${conversationId}.`);
    const mapped = mapActivity(activity);
    const a = activity as Record<string, unknown>;
    const id = await this.record(
      handoff,
      mapped,
      {
        activityId: activityId(a),
        messageId: null,
        contentKey: contentKey(a, this.activityHash),
        at: null,
        saidAt: activityTime(a),
      },
      true,
    );
    this.logger.log(
      { session_id: handoff.sessionId, org_id: orgId, event: mapped.type },
      'Conversation activity received',
    );
    return id;
  }

  /**
   * Stores an activity unless it was stored before (HandoffEventRepository.insert says when two
   * are the same), queues its post, and closes the conversation on an ending event — in one
   * transaction. `heard`: it came on the webhook, so the next read back is a silence away.
   */
  async record(
    handoff: { id: string; orgId: string },
    mapped: Mapped,
    identity: ActivityIdentity,
    heard: boolean,
  ): Promise<string | null> {
    const id = await this.handoffs.transaction(async (manager) => {
      const stored = await this.stored.insert(manager, handoff, mapped.type, mapped.data, identity);
      if (heard) await this.reads.heard(manager, handoff.id, this.config.messagingCatchupAfterMs);
      if (stored) await this.poster.enqueue(manager, stored);
      if (stored && mapped.type === 'conversation.closed') {
        await this.handoffs.closeConversation(manager, handoff.id);
      }
      return stored;
    });
    if (id) this.poster.wake();
    return id;
  }
}
