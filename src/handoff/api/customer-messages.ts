// `POST …/{session_id}/messages`: the customer's later messages, relayed to the representative's
// conversation. Accepted means queued (no Microsoft call from a request handler); a worker sends
// each as a Bot Framework message activity, retried by pg-boss while Microsoft does not answer.
import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Principal } from '../../access/principal.js';
import { AppConfig } from '../../config/app-config.js';
import { AppError } from '../../common/errors.js';
import { MessagingClient } from '../../microsoft/messaging-client/messaging.client.js';
import { UpstreamFailure } from '../../microsoft/upstream.js';
import { SettingsRepository } from '../../settings/settings.repository.js';
import { StoredCredentials } from '../../settings/stored-credentials.js';
import { HandoffQueue, MESSAGE_QUEUE, MessageJob } from '../handoff-queue.js';
import { HandoffTokens } from '../delivery/handoff-tokens.js';
import { HandoffRepository } from '../handoff.repository.js';
import { CustomerData } from '../customer-data.js';
import { HandoffCustomerMessage } from '../handoff-customer-message.entity.js';
import { HandoffCustomerMessageRepository } from '../handoff-customer-message.repository.js';

/** The field a customer message's text is sealed to. */
const MESSAGE_FIELD = 'handoff_customer_messages.content';
import { OWN_SENDER_IDS } from '../handoff.types.js';

const CONCURRENCY = 4;

@Injectable()
export class CustomerMessages implements OnModuleInit {
  private readonly logger = new Logger(CustomerMessages.name);

  constructor(
    private readonly config: AppConfig,
    private readonly handoffs: HandoffRepository,
    private readonly queue: HandoffQueue,
    private readonly settings: SettingsRepository,
    private readonly stored: StoredCredentials,
    private readonly tokens: HandoffTokens,
    private readonly messaging: MessagingClient,
    private readonly messages: HandoffCustomerMessageRepository,
    private readonly customerData: CustomerData,
  ) {}

  onModuleInit(): void {
    this.queue.process(MESSAGE_QUEUE, CONCURRENCY, (_jobId, job) => this.relay(job));
  }

  /** Queues the message; 409 unless the handoff's conversation is open. */
  async submit(
    principal: Principal,
    sessionId: string,
    text: string,
  ): Promise<{ message_id: string; state: 'queued' }> {
    const handoff = await this.handoffs.findBySession(principal.org_id, sessionId);
    if (!handoff) throw new AppError('not_found', `No handoff with session_id ${sessionId}.`);
    if (handoff.route !== 'conversation') {
      throw new AppError(
        'conflict',
        'Messages are relayed for conversation handoffs only; this handoff is a case.',
      );
    }
    if (!handoff.conversationId) {
      throw new AppError(
        'conflict',
        `The conversation has not started yet (the handoff is ${handoff.state}); send again once it is delivered.`,
      );
    }
    if (handoff.conversationState === 'closed') {
      throw new AppError(
        'conflict',
        'The conversation has ended; the representative no longer receives messages.',
      );
    }
    const messageId = randomUUID();
    // The text waits sealed in its own table; the job carries its id, never the text.
    const sealed = this.customerData.seal(handoff.orgId, handoff.id, MESSAGE_FIELD, text);
    await this.handoffs.transaction(async (manager) => {
      await this.messages.insert(
        manager,
        Object.assign(new HandoffCustomerMessage(), {
          id: messageId,
          handoffId: handoff.id,
          orgId: handoff.orgId,
          content: sealed.ciphertext,
          keyId: sealed.keyId,
        }),
      );
      await this.queue.send(manager, MESSAGE_QUEUE, { handoff_id: handoff.id, message_id: messageId });
    });
    this.queue.wake(MESSAGE_QUEUE);
    this.logger.log(
      { session_id: sessionId, org_id: principal.org_id, message_id: messageId },
      'Customer message queued',
    );
    return { message_id: messageId, state: 'queued' };
  }

  /** One message to Microsoft; throws (pg-boss retries) while Microsoft does not answer. */
  private async relay(job: MessageJob): Promise<void> {
    const handoff = await this.handoffs.findById(job.handoff_id);
    const settings = handoff ? await this.settings.findByOrg(handoff.orgId) : null;
    const log = { session_id: handoff?.sessionId, org_id: handoff?.orgId, message_id: job.message_id };
    const stored = job.text === undefined ? await this.messages.find(job.message_id) : null;
    const text =
      job.text ??
      (stored
        ? this.customerData.open<string>(stored.orgId, stored.handoffId, MESSAGE_FIELD, {
            ciphertext: stored.content,
            keyId: stored.keyId,
          })
        : undefined);
    if (
      text === undefined ||
      !handoff?.conversationId ||
      !settings?.messagingEndpoint ||
      handoff.conversationState === 'closed'
    ) {
      this.logger.warn(
        log,
        'Customer message dropped: the conversation, the message or the messaging connection is gone',
      );
      if (stored) await this.messages.delete(stored.id);
      return;
    }
    const customerName = this.customerData.requestOf(handoff).customer?.name;
    const credentials = this.stored.of(settings);
    const scope = credentials.messagingScope!;
    const send = async (accessToken: string) =>
      this.messaging.sendActivity(
        {
          endpoint: settings.messagingEndpoint!,
          channelId: settings.messagingChannelId!,
          organizationId: settings.messagingOrganizationId!,
          accessToken,
        },
        handoff.conversationId!,
        {
          type: 'message',
          id: job.message_id,
          channelId: settings.messagingChannelId,
          from: { id: OWN_SENDER_IDS.customer, name: customerName ?? 'Customer' },
          conversation: { id: handoff.conversationId },
          text,
        },
      );
    try {
      await this.tokens.withToken(handoff.orgId, settings.version, credentials, scope, send);
      if (stored) await this.messages.delete(stored.id);
      this.logger.log(log, 'Customer message relayed');
    } catch (error) {
      if (error instanceof UpstreamFailure && error.outcome === 'rejected') {
        // A definite no (the conversation closed, 30013; a refused activity): retrying cannot help.
        this.logger.warn(
          {
            ...log,
            stage: error.stage,
            upstream_status: error.upstreamStatus,
            upstream_code: error.upstreamCode,
          },
          'Customer message refused by Microsoft',
        );
        if (stored) await this.messages.delete(stored.id);
        return;
      }
      throw error;
    }
  }
}
