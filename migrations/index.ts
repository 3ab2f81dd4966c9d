import type { MigrationInterface } from 'typeorm';
import { IntegrationSettings1764160000000 } from './1764160000000-IntegrationSettings.js';
import { Revalidation1764170000000 } from './1764170000000-Revalidation.js';
import { AuditLogAppendOnly1764180000000 } from './1764180000000-AuditLogAppendOnly.js';
import { AuditChainInDatabase1764190000000 } from './1764190000000-AuditChainInDatabase.js';
import { AuditChainKeyed1764200000000 } from './1764200000000-AuditChainKeyed.js';
import { RollingRateLimit1764210000000 } from './1764210000000-RollingRateLimit.js';
import { Handoffs1764220000000 } from './1764220000000-Handoffs.js';
import { DeliveryQueue1764230000000 } from './1764230000000-DeliveryQueue.js';
import { MessagingSettings1764240000000 } from './1764240000000-MessagingSettings.js';
import { HandoffConversations1764250000000 } from './1764250000000-HandoffConversations.js';
import { HandoffEvents1764260000000 } from './1764260000000-HandoffEvents.js';
import { DeliveryQueue121764270000000 } from './1764270000000-DeliveryQueue12.js';
import { MessagingWebhookIdentity1764280000000 } from './1764280000000-MessagingWebhookIdentity.js';
import { HandoffRateLimits1764290000000 } from './1764290000000-HandoffRateLimits.js';
import { AuditChainHeadsProtected1764300000000 } from './1764300000000-AuditChainHeadsProtected.js';
import { ConsoleSignInCodes1764310000000 } from './1764310000000-ConsoleSignInCodes.js';
import { ConversationCatchUp1764320000000 } from './1764320000000-ConversationCatchUp.js';
import { Readiness1764330000000 } from './1764330000000-Readiness.js';
import { Alerts1764340000000 } from './1764340000000-Alerts.js';
import { CustomerDataAtRest1764350000000 } from './1764350000000-CustomerDataAtRest.js';
import { UnsealedEventsIndex1764360000000 } from './1764360000000-UnsealedEventsIndex.js';
import { FairShareAndBudget1764370000000 } from './1764370000000-FairShareAndBudget.js';
import { HandoffAttempts1764380000000 } from './1764380000000-HandoffAttempts.js';
import { CertificateCredentials1764390000000 } from './1764390000000-CertificateCredentials.js';

/**
 * Every migration, in order. New files from `npm run migration:generate` are added here
 * (a test fails when a file in this folder is missing from the list).
 */
export const MIGRATIONS: (new () => MigrationInterface)[] = [
  IntegrationSettings1764160000000,
  Revalidation1764170000000,
  AuditLogAppendOnly1764180000000,
  AuditChainInDatabase1764190000000,
  AuditChainKeyed1764200000000,
  RollingRateLimit1764210000000,
  Handoffs1764220000000,
  DeliveryQueue1764230000000,
  MessagingSettings1764240000000,
  HandoffConversations1764250000000,
  HandoffEvents1764260000000,
  DeliveryQueue121764270000000,
  MessagingWebhookIdentity1764280000000,
  HandoffRateLimits1764290000000,
  AuditChainHeadsProtected1764300000000,
  ConsoleSignInCodes1764310000000,
  ConversationCatchUp1764320000000,
  Readiness1764330000000,
  Alerts1764340000000,
  CustomerDataAtRest1764350000000,
  UnsealedEventsIndex1764360000000,
  FairShareAndBudget1764370000000,
  HandoffAttempts1764380000000,
  CertificateCredentials1764390000000,
];
