// One delivery attempt of a handoff, run by a queue worker on any instance: claim the row, check
// the org's connection, create the records in Dataverse (each by the exactly-once PATCH rule),
// record the outcome. Never called from a request handler.
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { AppError } from '../../common/errors.js';
import { retryDelayMs } from '../../common/retry-delay.js';
import { DataverseCall, DataverseClient } from '../../microsoft/dynamics-client/dataverse.client.js';
import { MessagingCall, MessagingClient } from '../../microsoft/messaging-client/messaging.client.js';
import { UpstreamFailure, UpstreamStage } from '../../microsoft/upstream.js';
import type { IntegrationSettings } from '../../settings/settings.entity.js';
import { SettingsRepository } from '../../settings/settings.repository.js';
import { PlainCredentials, StoredCredentials } from '../../settings/stored-credentials.js';
import { hintFor } from '../../verification/hints.js';
import { CONNECTION_CODES, deliveryHint } from './delivery-hints.js';
import { HandoffQueue, DELIVERY_QUEUE } from '../handoff-queue.js';
import { HandoffMetrics } from '../handoff.metrics.js';
import { AttemptEnd, DeliveryProgress, HandoffRepository } from '../handoff.repository.js';
import type { Handoff } from '../handoff.entity.js';
import type { HandoffError, HandoffReason } from '../handoff.types.js';
import { HandoffTokens } from './handoff-tokens.js';
import { AI_DISPLAY_NAME, conversationPlan } from './conversation-route.js';
import {
  anonymousContactBody,
  contactBody,
  contactIdFor,
  contactMarker,
  incidentBody,
  notePartId,
  odataString,
  transcriptNotes,
} from './incident-route.js';

/** The longest wait between attempts, whatever the backoff or Retry-After says. */
const MAX_RETRY_DELAY_MS = 15 * 60_000;

type Outcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; error: HandoffError; retryAfterMs: number | null }
  | { kind: 'held'; reason: HandoffReason; error: HandoffError }
  | { kind: 'failed'; reason: HandoffReason; error: HandoffError }
  | { kind: 'cancelled' };

/** The attempt ran past HANDOFF_ATTEMPT_TIMEOUT: give up this attempt, retry later. */
class AttemptTimedOut extends Error {
  constructor(readonly stage: UpstreamStage) {
    super('The delivery attempt ran out of time (HANDOFF_ATTEMPT_TIMEOUT); it will be retried.');
  }
}

/** The row moved on while the attempt ran (cancelled by a disconnect): its new job is rolled back. */
class Superseded extends Error {}

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
  ) {}

  /** Registered before the application starts: the queue's pump starts once it is up. */
  onModuleInit(): void {
    this.queue.process(DELIVERY_QUEUE, this.config.handoffConcurrency, (jobId, job) =>
      this.attempt(jobId, job.handoff_id),
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
        error: {
          stage: 'token_exchange',
          upstream_status: null,
          upstream_code: null,
          message: error.message,
          hint: null,
        },
      };
    }
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
      return this.classify(error, settings, credentials);
    } finally {
      Object.assign(recorded, attempt.recorded);
    }
  }

  private classify(error: unknown, settings: IntegrationSettings, credentials: PlainCredentials): Outcome {
    if (error instanceof Superseded) return { kind: 'cancelled' };
    if (error instanceof AttemptTimedOut) {
      return {
        kind: 'retry',
        retryAfterMs: null,
        error: {
          stage: error.stage,
          upstream_status: null,
          upstream_code: null,
          message: error.message,
          hint: null,
        },
      };
    }
    if (!(error instanceof UpstreamFailure)) {
      this.logger.error(error);
      return {
        kind: 'retry',
        retryAfterMs: null,
        error: {
          stage: 'internal',
          upstream_status: null,
          upstream_code: null,
          message: 'An internal error interrupted the delivery; it will be retried.',
          hint: null,
        },
      };
    }
    const base = {
      stage: error.stage,
      upstream_status: error.upstreamStatus,
      upstream_code: error.upstreamCode,
      message: error.message,
    };
    if (error.outcome === 'unreachable') {
      return { kind: 'retry', retryAfterMs: error.retryAfterMs, error: { ...base, hint: null } };
    }
    // Microsoft's definite refusals: the connection itself (held until it is verified again) …
    if (error.stage === 'token_exchange' || error.stage === 'messaging_token') {
      return {
        kind: 'held',
        reason: 'connection_invalid',
        error: { ...base, hint: hintFor(error, credentials) },
      };
    }
    if (
      error.upstreamStatus === 401 &&
      (error.stage === 'conversation_create' || error.stage === 'message_send')
    ) {
      return {
        kind: 'failed',
        reason: 'configuration',
        error: { ...base, hint: deliveryHint(error, settings) },
      };
    }
    if (error.upstreamStatus === 401) {
      return {
        kind: 'held',
        reason: 'connection_invalid',
        error: {
          ...base,
          hint: 'Dataverse refused a freshly issued token. Check the connection with Verify; held handoffs resume when it succeeds.',
        },
      };
    }
    if (error.upstreamCode && CONNECTION_CODES.includes(error.upstreamCode)) {
      return {
        kind: 'held',
        reason: 'connection_invalid',
        error: { ...base, hint: deliveryHint(error, settings) },
      };
    }
    // … or the configuration of this step (privileges, queue, owner, columns): failed at once.
    return {
      kind: 'failed',
      reason: 'configuration',
      error: { ...base, hint: deliveryHint(error, settings) },
    };
  }

  private async record(row: Handoff, outcome: Outcome, recorded: DeliveryProgress): Promise<void> {
    const log = { session_id: row.sessionId, org_id: row.orgId, attempt: row.attempts };
    switch (outcome.kind) {
      case 'delivered':
        if (await this.handoffs.endAttempt(row.id, row.attempts, { state: 'delivered' }, recorded)) {
          this.metrics.delivered(row.route, row.createdAt);
          this.logger.log({ ...log, state: 'delivered' }, 'Handoff delivered');
        } else {
          await this.handoffs.recordOnCancelled(row.id, recorded);
          this.logger.log(log, 'Handoff attempt finished after the handoff was cancelled; its records stay');
        }
        return;
      case 'retry': {
        if (row.attempts >= this.config.handoffMaxAttempts) {
          await this.end(
            row,
            { state: 'failed', reason: 'attempts_exhausted', error: outcome.error },
            'failed',
          );
          return;
        }
        const delay = retryDelayMs(
          row.attempts - 1,
          this.config.handoffRetryBaseMs,
          outcome.retryAfterMs,
          MAX_RETRY_DELAY_MS,
        );
        const nextAttemptAt = new Date(Date.now() + delay);
        const requeued = await this.handoffs
          .transaction(async (manager) => {
            const jobId = await this.queue.enqueue(manager, row.id, nextAttemptAt);
            const ended = await this.handoffs.endAttempt(
              row.id,
              row.attempts,
              { state: 'pending', jobId, nextAttemptAt, error: outcome.error },
              recorded,
              manager,
            );
            // Moved on meanwhile: roll the new job back with the transaction.
            if (!ended) throw new Superseded();
            return ended;
          })
          .catch((error: unknown) => {
            if (error instanceof Superseded) return null;
            throw error;
          });
        if (requeued) {
          this.metrics.outcome(row.route, 'retried');
          this.logger.warn(
            {
              ...log,
              state: 'pending',
              stage: outcome.error.stage,
              upstream_status: outcome.error.upstream_status,
              retry_in_ms: Math.round(delay),
            },
            'Handoff attempt failed; retrying',
          );
        }
        return;
      }
      case 'held':
        await this.end(
          row,
          { state: 'held', reason: outcome.reason, error: outcome.error },
          'held',
          recorded,
        );
        return;
      case 'failed':
        await this.end(
          row,
          { state: 'failed', reason: outcome.reason, error: outcome.error },
          outcome.reason === 'expired' ? 'expired' : 'failed',
          recorded,
        );
        return;
      case 'cancelled':
        await this.end(row, { state: 'cancelled', reason: 'disconnected', error: null }, 'cancelled');
        return;
    }
  }

  private async end(
    row: Handoff,
    end: Extract<AttemptEnd, { state: 'held' | 'failed' | 'cancelled' }>,
    outcome: 'held' | 'failed' | 'expired' | 'cancelled',
    recorded: DeliveryProgress = {},
  ): Promise<void> {
    if (!(await this.handoffs.endAttempt(row.id, row.attempts, end, recorded))) return;
    this.metrics.outcome(row.route, outcome);
    this.logger.warn(
      {
        session_id: row.sessionId,
        org_id: row.orgId,
        attempt: row.attempts,
        state: end.state,
        reason: end.reason,
        stage: end.error?.stage,
        upstream_status: end.error?.upstream_status,
        upstream_code: end.error?.upstream_code,
      },
      `Handoff ${end.state}`,
    );
  }
}

/** What an attempt works with. */
interface AttemptTools {
  dataverse: DataverseClient;
  messaging: MessagingClient;
  tokens: HandoffTokens;
  handoffs: HandoffRepository;
}

/** The incident route for one claimed row: each step skipped when an earlier attempt recorded it. */
class Attempt {
  private accessToken?: string;
  /** What the steps found or created so far: written with the outcome, whatever it is. */
  readonly recorded: DeliveryProgress = {};

  constructor(
    private readonly tools: AttemptTools,
    private readonly row: Handoff,
    private readonly settings: IntegrationSettings,
    private readonly credentials: PlainCredentials,
    private readonly deadline: number,
  ) {}

  async incidentRoute(): Promise<void> {
    const { dataverse } = this.tools;
    const row = this.row;
    if (!row.contactId) {
      const contact = await this.resolveContact();
      this.progress({ contactId: contact.id, contactCreated: contact.created });
    }
    if (!row.ticketNumber) {
      const body = incidentBody(row.request, row.contactId!, this.settings);
      const created = await this.call('incident_create', (call) =>
        dataverse.createOnce(call, 'incidents', row.incidentId, body, ['incidentid', 'ticketnumber']),
      );
      let ticketNumber = created.record?.ticketnumber;
      if (typeof ticketNumber !== 'string') {
        // 412: an earlier attempt made it and its answer was lost; read back what it returned.
        const existing = await this.call('incident_read', (call) =>
          dataverse.retrieve(call, 'incidents', row.incidentId, ['ticketnumber']),
        );
        ticketNumber = existing.ticketnumber;
      }
      this.progress({ ticketNumber: typeof ticketNumber === 'string' ? ticketNumber : '' });
    }
    const notes = transcriptNotes(row.request);
    for (const [index, note] of notes.entries()) {
      await this.call('note_create', (call) =>
        dataverse.createOnce(call, 'annotations', notePartId(row.noteId, index + 1), {
          ...note,
          'objectid_incident@odata.bind': `/incidents(${row.incidentId})`,
        }),
      );
    }
    const queueId = this.settings.defaultQueueId;
    if (queueId && !row.queueItemId) {
      // AddToQueue is safe to repeat: a case already in the queue keeps its one queue item.
      const result = await this.call('add_to_queue', (call) =>
        dataverse.callBoundAction(call, 'queues', queueId, 'AddToQueue', {
          Target: { '@odata.type': 'Microsoft.Dynamics.CRM.incident', incidentid: row.incidentId },
        }),
      );
      if (typeof result.QueueItemId === 'string') this.progress({ queueItemId: result.QueueItemId });
    }
  }

  /**
   * The customer: an active contact with the email, else with the phone, else one created with
   * an id derived from the email or phone (or the org's anonymous contact). A contact found or
   * re-found by its derived id counts as created by this handoff when its description names
   * this session (an earlier attempt made it and lost the answer).
   */
  private async resolveContact(): Promise<{ id: string; created: boolean }> {
    const { dataverse } = this.tools;
    const customer = this.row.request.customer ?? {};
    const email = customer.email?.trim();
    const phone = customer.phone?.trim();
    const marker = contactMarker(this.row.sessionId);
    const lookups: [string, string | undefined][] = [
      ['emailaddress1', email],
      ['mobilephone', phone],
    ];
    for (const [column, value] of lookups) {
      if (!value) continue;
      const found = await this.call('contact_lookup', (call) =>
        dataverse.findFirst(call, 'contacts', {
          select: ['contactid', 'description'],
          filter: `${column} eq ${odataString(value)} and statecode eq 0`,
          orderBy: 'createdon asc',
        }),
      );
      if (found && typeof found.contactid === 'string') {
        const derived = contactIdFor(this.row.orgId, { email, phone });
        return { id: found.contactid, created: found.contactid === derived && found.description === marker };
      }
    }
    if (!email && !phone) {
      const id = contactIdFor(this.row.orgId, 'anonymous');
      const result = await this.call('contact_create', (call) =>
        dataverse.createOnce(call, 'contacts', id, anonymousContactBody()),
      );
      return { id, created: result.created };
    }
    const id = contactIdFor(this.row.orgId, { email, phone });
    const result = await this.call('contact_create', (call) =>
      dataverse.createOnce(call, 'contacts', id, contactBody(this.row.request)),
    );
    if (result.created) return { id, created: true };
    const existing = await this.call('contact_lookup', (call) =>
      dataverse.retrieve(call, 'contacts', id, ['description']),
    );
    return { id, created: existing.description === marker };
  }

  /** A conversation handoff whose org removed its messaging settings: delivered as a case. */
  reroute(): void {
    this.progress({ route: 'incident', routeReason: 'messaging_removed' });
  }

  /**
   * The conversation route: the conversation (found again by the session id as customer id when
   * an earlier attempt made it), then the transcript's follow-up messages, each recorded as sent.
   */
  async conversationRoute(): Promise<void> {
    const { messaging } = this.tools;
    const row = this.row;
    const plan = conversationPlan(row.request);
    if (!row.conversationId) {
      const { conversationId } = await this.messagingCall('conversation_create', (call) =>
        messaging.createConversation(call, plan.create),
      );
      await this.saveNow({ conversationId, conversationState: 'open' });
    }
    for (let part = row.conversationPartsSent; part < plan.followUps.length; part++) {
      try {
        await this.messagingCall('message_send', (call) =>
          messaging.sendActivity(call, row.conversationId!, {
            type: 'message',
            id: `${row.sessionId}-${part + 1}`,
            channelId: this.settings.messagingChannelId,
            from: { name: AI_DISPLAY_NAME },
            conversation: { id: row.conversationId },
            text: plan.followUps[part],
          }),
        );
      } catch (error) {
        // 30013: the conversation ended (or was closed) before the whole transcript was sent.
        if (error instanceof UpstreamFailure && error.upstreamCode === '30013') {
          this.progress({ conversationState: 'closed' });
          return;
        }
        throw error;
      }
      await this.saveNow({ conversationPartsSent: part + 1 });
    }
  }

  /** A step that must not be repeated: written at once. */
  private async saveNow(progress: DeliveryProgress): Promise<void> {
    this.progress(progress);
    if (!(await this.tools.handoffs.saveProgress(this.row.id, this.row.attempts, progress)))
      throw new Superseded();
  }

  /** A Messaging API call with the org's cached token for its scope; a 401 drops it and tries once more. */
  private async messagingCall<T>(
    stage: UpstreamStage,
    send: (call: MessagingCall) => Promise<T>,
  ): Promise<T> {
    const { tokens } = this.tools;
    if (Date.now() > this.deadline) throw new AttemptTimedOut(stage);
    const scope = this.credentials.messagingScope!;
    const target = {
      endpoint: this.settings.messagingEndpoint!,
      channelId: this.settings.messagingChannelId!,
      organizationId: this.settings.messagingOrganizationId!,
    };
    let accessToken = await tokens.get(this.row.orgId, this.settings.version, this.credentials, scope);
    try {
      return await send({ ...target, accessToken });
    } catch (error) {
      if (!(error instanceof UpstreamFailure) || error.upstreamStatus !== 401) throw error;
      await tokens.drop(this.row.orgId, accessToken, scope);
      accessToken = await tokens.get(this.row.orgId, this.settings.version, this.credentials, scope);
      return send({ ...target, accessToken });
    }
  }

  /** A step's result: kept on the row for the next steps, written with the attempt's end. */
  private progress(progress: DeliveryProgress): void {
    Object.assign(this.recorded, progress);
    Object.assign(this.row, progress);
  }

  /** A Dataverse call with the org's cached token; a 401 drops it and tries once with a fresh one. */
  private async call<T>(stage: UpstreamStage, send: (call: DataverseCall) => Promise<T>): Promise<T> {
    const { tokens } = this.tools;
    if (Date.now() > this.deadline) throw new AttemptTimedOut(stage);
    const environmentUrl = this.credentials.environmentUrl;
    this.accessToken ??= await tokens.get(this.row.orgId, this.settings.version, this.credentials);
    try {
      return await send({ environmentUrl, accessToken: this.accessToken, stage });
    } catch (error) {
      if (!(error instanceof UpstreamFailure) || error.upstreamStatus !== 401) throw error;
      await tokens.drop(this.row.orgId, this.accessToken);
      this.accessToken = await tokens.get(this.row.orgId, this.settings.version, this.credentials);
      return send({ environmentUrl, accessToken: this.accessToken, stage });
    }
  }
}

export function expiredError(maxAgeMs: number): HandoffError {
  return {
    stage: 'queue',
    upstream_status: null,
    upstream_code: null,
    message: `Not delivered within HANDOFF_MAX_AGE (${Math.round(maxAgeMs / 60_000)} minutes) of being accepted.`,
    hint: null,
  };
}

export function connectionInvalidError(settings: IntegrationSettings): HandoffError {
  const last = settings.lastVerification;
  return {
    stage: last?.stage ?? 'dynamics_probe',
    upstream_status: last?.upstream_status ?? null,
    upstream_code: last?.upstream_code ?? null,
    message: 'The Dynamics 365 connection is invalid: the last verification was rejected by Microsoft.',
    hint:
      last?.hint ??
      'Fix the connection with Test & Save; held handoffs resume as soon as it is verified again.',
  };
}
