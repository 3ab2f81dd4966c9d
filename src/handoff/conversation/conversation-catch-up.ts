// Nothing the representative says is lost (DESIGN §9.4). Microsoft posts each activity to the
// webhook three times at most, then gives up — during our outage, a deploy, a network fault. So
// while a conversation is open, its messages are read back through `GET …/conversation/{id}/messages`
// when its webhook has been silent for MESSAGING_CATCHUP_AFTER, and every open conversation is read
// back when the service starts (it may have been down). What the webhook missed is stored, streamed
// and posted like a webhook call, once (HandoffEventRepository.insert recognises what it has).
// Microsoft asks not to poll this endpoint: one read per conversation per silence, only while open.
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { MessagingClient } from '../../microsoft/messaging-client/messaging.client.js';
import { UpstreamFailure } from '../../microsoft/upstream.js';
import { SettingsRepository } from '../../settings/settings.repository.js';
import { StoredCredentials } from '../../settings/stored-credentials.js';
import { ConversationReadRepository, DueConversation } from '../conversation-read.repository.js';
import { HandoffTokens } from '../delivery/handoff-tokens.js';
import { HandoffMetrics } from '../handoff.metrics.js';
import { CustomerData } from '../customer-data.js';
import { OWN_SENDER_IDS } from '../handoff.types.js';
import { activityId, activityTime, contentKey, mapActivity } from './activity-mapping.js';
import { ConversationActivities } from './conversation-activities.js';

/** Conversations claimed per pass, and read at once. */
const BATCH = 20;
const PARALLEL = 4;
/** A claim lapses after this, when the instance holding it died. */
const CLAIM_MS = 120_000;
const PAGE_SIZE = 100;
/** Pages read per conversation per pass; the rest is read on the next pass. */
const MAX_PAGES = 50;
/** Reads start this far before the newest message seen: a clock apart or a late write is not missed. */
const OVERLAP_MS = 10 * 60_000;

@Injectable()
export class ConversationCatchUp implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly activityHash = (fingerprint: string) => this.customerData.hash('activity', fingerprint);
  private readonly logger = new Logger(ConversationCatchUp.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    private readonly reads: ConversationReadRepository,
    private readonly settings: SettingsRepository,
    private readonly stored: StoredCredentials,
    private readonly tokens: HandoffTokens,
    private readonly messaging: MessagingClient,
    private readonly activities: ConversationActivities,
    private readonly metrics: HandoffMetrics,
    private readonly customerData: CustomerData,
  ) {}

  /** How often an instance looks for due conversations. */
  get intervalMs(): number {
    return Math.max(500, Math.min(10_000, this.config.messagingCatchupAfterMs / 5));
  }

  async onApplicationBootstrap(): Promise<void> {
    // An instance that delivers nothing (HANDOFF_CONCURRENCY=0) reads nothing back either.
    if (this.config.handoffConcurrency === 0) return;
    const due = await this.reads.allOpenDue();
    if (due > 0) this.logger.log({ conversations: due }, 'Reading back open conversations after start');
    this.timer = setInterval(() => void this.pass(), this.intervalMs);
    this.timer.unref();
    void this.pass();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass: claims due conversations and reads each back (at most PARALLEL at a time). */
  pass(): Promise<void> {
    this.running ??= (async () => {
      try {
        for (;;) {
          if (this.stopped) return;
          const due = await this.reads.claimDue(this.config.messagingCatchupAfterMs, CLAIM_MS, BATCH);
          for (let i = 0; i < due.length; i += PARALLEL) {
            await Promise.all(due.slice(i, i + PARALLEL).map((conversation) => this.readBack(conversation)));
          }
          if (due.length < BATCH) return;
        }
      } catch (error) {
        this.logger.warn(`Conversation read back failed: ${(error as Error).message}`);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async readBack(conversation: DueConversation): Promise<void> {
    const log = { session_id: conversation.sessionId, org_id: conversation.orgId };
    let readUntil = conversation.readUntil;
    let recovered = 0;
    try {
      const settings = await this.settings.findByOrg(conversation.orgId);
      if (!settings?.messagingEndpoint) {
        // Disconnected, or messaging removed: nothing to read with; looked at again later.
        await this.reads.readDone(conversation.id, readUntil, this.config.messagingCatchupAfterMs);
        return;
      }
      const credentials = this.stored.of(settings);
      const since = readUntil ? new Date(readUntil.getTime() - OVERLAP_MS) : undefined;
      let continuationToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const answer = await this.tokens.withToken(
          settings.orgId,
          settings.version,
          credentials,
          credentials.messagingScope,
          (accessToken) =>
            this.messaging.readMessages(
              {
                endpoint: settings.messagingEndpoint!,
                channelId: settings.messagingChannelId!,
                organizationId: settings.messagingOrganizationId!,
                accessToken,
              },
              conversation.conversationId,
              { since, continuationToken, pageSize: PAGE_SIZE },
            ),
        );
        for (const message of answer.messages) {
          const when = activityTime(message);
          if (when && (!readUntil || when > readUntil)) readUntil = when;
          if (ownSide(message, conversation.sessionId)) continue;
          if (await this.store(conversation, message, when)) recovered++;
        }
        if (!answer.continuationToken || answer.messages.length === 0) break;
        continuationToken = answer.continuationToken;
      }
      await this.reads.readDone(conversation.id, readUntil, this.config.messagingCatchupAfterMs);
      this.metrics.catchUp('read', recovered);
      if (recovered > 0) {
        this.logger.warn({ ...log, recovered }, 'Read back representative messages the webhook missed');
      }
    } catch (error) {
      if (error instanceof UpstreamFailure && error.upstreamCode === '30013') {
        await this.closedMeanwhile(conversation);
        this.metrics.catchUp('closed', recovered);
        return;
      }
      this.metrics.catchUp('failed', recovered);
      this.logger.warn(
        { ...log, reason: (error as Error).message },
        'Could not read back the conversation; trying again later',
      );
      await this.reads.readDone(conversation.id, readUntil, this.config.messagingCatchupAfterMs);
    }
  }

  /** One message read back; true when it was new (the webhook never delivered it). */
  private async store(
    conversation: DueConversation,
    message: Record<string, unknown>,
    at: Date | null,
  ): Promise<boolean> {
    let mapped;
    try {
      mapped = mapActivity(message);
    } catch {
      return false; // Not something a representative's side sends (it would be a 400 on the webhook).
    }
    const id = await this.activities.record(
      { id: conversation.id, orgId: conversation.orgId },
      mapped,
      {
        activityId: activityId(message) ?? null,
        messageId:
          typeof message.messageId === 'string' && message.messageId !== '' ? message.messageId : null,
        contentKey: contentKey(message, this.activityHash),
        at,
        saidAt: null,
      },
      false,
    );
    return id !== null;
  }

  /**
   * Microsoft no longer has the conversation active (30013) and the webhook's ending event never
   * came: it ends here, so the stream and the host platform learn the representative left.
   */
  private async closedMeanwhile(conversation: DueConversation): Promise<void> {
    await this.activities.record(
      { id: conversation.id, orgId: conversation.orgId },
      { type: 'conversation.closed', data: { reason: 'not_active' } },
      { activityId: null, messageId: null, contentKey: 'closed:not_active', at: null, saidAt: null },
      false,
    );
    await this.reads.readDone(conversation.id, conversation.readUntil, this.config.messagingCatchupAfterMs);
    this.logger.warn(
      { session_id: conversation.sessionId, org_id: conversation.orgId },
      'Conversation no longer active at Microsoft; closed',
    );
  }
}

/**
 * What the service itself sent (the start message — from the customer id, which is the session
 * id —, the transcript's follow-ups and the customer's later messages): not the representative's.
 */
function ownSide(message: Record<string, unknown>, sessionId: string): boolean {
  const from = typeof message.from === 'object' && message.from !== null ? message.from : {};
  const id = (from as { id?: unknown }).id;
  return id === sessionId || id === OWN_SENDER_IDS.ai || id === OWN_SENDER_IDS.customer;
}
