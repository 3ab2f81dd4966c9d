// The delivery worker, run by the queue on any instance: claim the row, check the org's connection,
// run one attempt (attempt.ts), and write its outcome as the policy says (delivery-outcome.ts).
// Never called from a request handler.
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { AppError } from '../../common/errors.js';
import { DataverseClient } from '../../microsoft/dynamics-client/dataverse.client.js';
import { MessagingClient } from '../../microsoft/messaging-client/messaging.client.js';
import { UpstreamFailure } from '../../microsoft/upstream.js';
import { SettingsRepository } from '../../settings/settings.repository.js';
import { PlainCredentials, StoredCredentials } from '../../settings/stored-credentials.js';
import { connectionInvalidError, expiredError, handoffError } from '../handoff-error.js';
import { DELIVERY_QUEUE, HandoffQueue } from '../handoff-queue.js';
import { HandoffMetrics } from '../handoff.metrics.js';
import { AlertFacts } from '../../alerts/alert-facts.js';
import { CustomerData } from '../customer-data.js';
import { DeliveryProgress, HandoffRepository } from '../handoff.repository.js';
import type { Handoff } from '../handoff.entity.js';
import { Attempt } from './attempt.js';
import { AttemptSuperseded, AttemptTimedOut, classifyFailure, Outcome, planEnd } from './delivery-outcome.js';
import { HandoffTokens } from './handoff-tokens.js';

@Injectable()
export class DeliveryWorker implements OnModuleInit {
  private readonly logger = new Logger(DeliveryWorker.name);

  constructor(
    private readonly config: AppConfig,
    private readonly handoffs: HandoffRepository,
    private readonly queue: HandoffQueue,
    private readonly settings: SettingsRepository,
    private readonly stored: StoredCredentials,
    private readonly tokens: HandoffTokens,
    private readonly dataverse: DataverseClient,
    private readonly messaging: MessagingClient,
    private readonly metrics: HandoffMetrics,
    private readonly alerts: AlertFacts,
    private readonly customerData: CustomerData,
  ) {}

  /** Registered before the application starts: the queue's pump starts once it is up. */
  onModuleInit(): void {
    this.queue.process(
      DELIVERY_QUEUE,
      this.config.handoffConcurrency,
      (jobId, job) => this.attempt(jobId, job.handoff_id),
      { groupConcurrency: orgDeliveryCap(this.config.dataverseMaxConcurrency) },
    );
  }

  /** One attempt for a queue job; returns when its outcome is recorded. */
  async attempt(jobId: string, handoffId: string): Promise<void> {
    const row = await this.handoffs.claim(handoffId, jobId);
    if (!row) return; // cancelled, delivered, or taken over by a newer job: this job has nothing to do
    const recorded: DeliveryProgress = {};
    const outcome = await this.deliver(row, recorded);
    await this.record(row, outcome, recorded);
  }

  private async deliver(row: Handoff, recorded: DeliveryProgress): Promise<Outcome> {
    if (Date.now() - row.createdAt.getTime() > this.config.handoffMaxAgeMs) {
      return { kind: 'failed', reason: 'expired', error: expiredError(this.config.handoffMaxAgeMs) };
    }
    const settings = await this.settings.findByOrg(row.orgId);
    if (!settings) return { kind: 'cancelled' };
    if (settings.status === 'invalid') {
      return { kind: 'held', reason: 'connection_invalid', error: connectionInvalidError(settings) };
    }
    let credentials: PlainCredentials;
    try {
      credentials = this.stored.of(settings);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      return {
        kind: 'held',
        reason: 'secret_undecryptable',
        error: handoffError('token_exchange', error.message),
      };
    }
    // Purged (an erasure) before it was delivered: nothing is left to deliver.
    if (row.contentPurgedAt) return { kind: 'cancelled' };
    this.customerData.requestOf(row);
    const tools = {
      dataverse: this.dataverse,
      messaging: this.messaging,
      tokens: this.tokens,
      handoffs: this.handoffs,
    };
    const attempt = new Attempt(
      tools,
      row,
      settings,
      credentials,
      Date.now() + this.config.handoffAttemptTimeoutMs,
    );
    try {
      if (row.route === 'conversation' && settings.messagingEndpoint && credentials.messagingScope) {
        await attempt.conversationRoute();
      } else {
        // Messaging settings removed since the handoff was accepted: it becomes a case.
        if (row.route === 'conversation') attempt.reroute();
        await attempt.incidentRoute();
      }
      return { kind: 'delivered' };
    } catch (error) {
      const known = [UpstreamFailure, AttemptTimedOut, AttemptSuperseded].some(
        (type) => error instanceof type,
      );
      if (!known) this.logger.error(error);
      return classifyFailure(error, credentials, settings);
    } finally {
      Object.assign(recorded, attempt.recorded);
    }
  }

  private async record(row: Handoff, outcome: Outcome, recorded: DeliveryProgress): Promise<void> {
    const plan = planEnd(outcome, row.attempts, {
      maxAttempts: this.config.handoffMaxAttempts,
      retryBaseMs: this.config.handoffRetryBaseMs,
    });
    const log = { session_id: row.sessionId, org_id: row.orgId, attempt: row.attempts };
    if (plan.kind === 'retry') {
      const nextAttemptAt = new Date(Date.now() + plan.delayMs);
      // The next attempt's job and the row's end commit together; the row moved on meanwhile
      // (cancelled, taken over): nothing is written, and the job goes with the rollback.
      const requeued = await this.handoffs.commitUnlessNull(async (manager) =>
        this.handoffs.endAttempt(
          row.id,
          row.attempts,
          {
            state: 'pending',
            jobId: await this.queue.enqueue(manager, row, nextAttemptAt),
            nextAttemptAt,
            error: plan.error,
          },
          recorded,
          manager,
        ),
      );
      if (!requeued) return;
      this.metrics.outcome(row.route, 'retried');
      this.logger.warn(
        {
          ...log,
          state: 'pending',
          stage: plan.error.stage,
          upstream_status: plan.error.upstream_status,
          retry_in_ms: Math.round(plan.delayMs),
        },
        'Handoff attempt failed; retrying',
      );
      return;
    }
    const { end, metric } = plan;
    // A cancelled attempt leaves the row as the disconnect left it.
    const ended = await this.handoffs.endAttempt(
      row.id,
      row.attempts,
      end,
      end.state === 'cancelled' ? {} : recorded,
    );
    if (end.state === 'delivered') {
      if (ended) {
        this.metrics.delivered(row.route, row.createdAt);
        this.logger.log({ ...log, state: 'delivered' }, 'Handoff delivered');
        await this.alerts
          .handoffDelivered(row.orgId)
          .catch((error: unknown) => this.logger.warn(`Alert not resolved: ${(error as Error).message}`));
      } else {
        await this.handoffs.recordOnCancelled(row.id, recorded);
        this.logger.log(log, 'Handoff attempt finished after the handoff was cancelled; its records stay');
      }
      return;
    }
    if (!ended) return;
    this.metrics.outcome(row.route, metric);
    this.logger.warn(
      {
        ...log,
        state: end.state,
        reason: end.reason,
        stage: end.error?.stage,
        upstream_status: end.error?.upstream_status,
        upstream_code: end.error?.upstream_code,
      },
      `Handoff ${end.state}`,
    );
    if (end.state === 'failed') {
      await this.alerts
        .handoffFailed({
          orgId: row.orgId,
          sessionId: row.sessionId,
          stage: end.error?.stage ?? null,
          code: end.error?.upstream_code ?? null,
          message: end.error?.message ?? null,
          hint: end.error?.hint ?? null,
        })
        .catch((error: unknown) => this.logger.warn(`Alert not raised: ${(error as Error).message}`));
    }
  }
}

/**
 * An org's deliveries in flight, all instances together. Its environment takes at most
 * DATAVERSE_MAX_CONCURRENCY calls at once, and a delivery spends part of its time away from
 * Dataverse (its token, its own database writes): twice the budget keeps every slot busy while
 * leaving the other workers to other orgs.
 */
function orgDeliveryCap(dataverseMaxConcurrency: number): number {
  return dataverseMaxConcurrency * 2;
}
