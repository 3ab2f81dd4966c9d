import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AlertsModule } from '../alerts/alerts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { CustomerDataController } from './api/customer-data.controller.js';
import { CustomerDataService } from './api/customer-data.service.js';
import { CustomerDataRepository } from './customer-data.repository.js';
import { AuthModule } from '../microsoft/auth/auth.module.js';
import { DynamicsClientModule } from '../microsoft/dynamics-client/dynamics-client.module.js';
import { MessagingClientModule } from '../microsoft/messaging-client/messaging-client.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { ConversationActivities } from './conversation/conversation-activities.js';
import { ConversationCatchUp } from './conversation/conversation-catch-up.js';
import { ConversationReadRepository } from './conversation-read.repository.js';
import { CustomerMessages } from './api/customer-messages.js';
import { ConversationEventPoster } from './conversation/event-poster.js';
import { HandoffController } from './api/handoff.controller.js';
import { HandoffAttempt } from './handoff-attempt.entity.js';
import { HandoffEvent } from './handoff-event.entity.js';
import { HandoffCustomerMessage } from './handoff-customer-message.entity.js';
import { HandoffCustomerMessageRepository } from './handoff-customer-message.repository.js';
import { CustomerData } from './customer-data.js';
import { ConversationEvents } from './conversation/conversation-events.js';
import { ConversationEventStreams } from './conversation/event-streams.js';
import { MessagingWebhookController } from './conversation/messaging-webhook.controller.js';
import { WebhookTokenVerifier } from './conversation/webhook-token.js';
import { DeliveryWorker } from './delivery/delivery-worker.js';
import { Handoff } from './handoff.entity.js';
import { HandoffMaintenance } from './delivery/handoff-maintenance.js';
import { HandoffMetrics } from './handoff.metrics.js';
import { HandoffQueue } from './handoff-queue.js';
import { HandoffRepository } from './handoff.repository.js';
import { HandoffEventRepository } from './handoff-event.repository.js';
import { HandoffRateLimit } from './handoff-rate-limit.entity.js';
import { HandoffRateLimitRepository } from './handoff-rate-limit.repository.js';
import { HandoffService } from './api/handoff.service.js';
import { HandoffTokens } from './delivery/handoff-tokens.js';

/** Handoffs into Dynamics 365: the API that accepts them, the queue and the workers that deliver them. */
@Module({
  imports: [
    TypeOrmModule.forFeature([
      Handoff,
      HandoffAttempt,
      HandoffEvent,
      HandoffRateLimit,
      HandoffCustomerMessage,
    ]),
    SettingsModule,
    AuthModule,
    DynamicsClientModule,
    MessagingClientModule,
    AlertsModule,
    AuditModule,
  ],
  controllers: [HandoffController, MessagingWebhookController, CustomerDataController],
  providers: [
    HandoffRepository,
    HandoffEventRepository,
    HandoffCustomerMessageRepository,
    CustomerData,
    CustomerDataRepository,
    CustomerDataService,
    ConversationReadRepository,
    HandoffRateLimitRepository,
    HandoffQueue,
    HandoffTokens,
    HandoffMetrics,
    HandoffService,
    DeliveryWorker,
    HandoffMaintenance,
    ConversationEvents,
    ConversationEventStreams,
    ConversationActivities,
    ConversationCatchUp,
    WebhookTokenVerifier,
    ConversationEventPoster,
    CustomerMessages,
  ],
})
export class HandoffModule {}
