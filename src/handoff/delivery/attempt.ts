// One delivery attempt of a claimed handoff: the incident route (contact, case, notes, queue) or
// the conversation route (conversation, then the transcript's follow-ups). Each step is skipped when
// an earlier attempt recorded it, and every create is exactly-once (PATCH with If-None-Match: *),
// so an attempt resumed after a crash repeats nothing in Dynamics.
import type { DataverseCall, DataverseClient } from '../../microsoft/dynamics-client/dataverse.client.js';
import type { MessagingCall, MessagingClient } from '../../microsoft/messaging-client/messaging.client.js';
import { UpstreamFailure, type UpstreamStage } from '../../microsoft/upstream.js';
import type { IntegrationSettings } from '../../settings/settings.entity.js';
import type { PlainCredentials } from '../../settings/stored-credentials.js';
import type { Handoff } from '../handoff.entity.js';
import type { DeliveryProgress, HandoffRepository } from '../handoff.repository.js';
import { AI_DISPLAY_NAME, conversationPlan } from './conversation-route.js';
import { OWN_SENDER_IDS } from '../handoff.types.js';
import { AttemptSuperseded, AttemptTimedOut } from './delivery-outcome.js';
import type { HandoffTokens } from './handoff-tokens.js';
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

/** What an attempt works with. */
export interface AttemptTools {
  dataverse: DataverseClient;
  messaging: MessagingClient;
  tokens: HandoffTokens;
  handoffs: HandoffRepository;
}

/** The incident route for one claimed row: each step skipped when an earlier attempt recorded it. */
export class Attempt {
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
      const body = incidentBody(row.request!, row.contactId!, this.settings);
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
    const notes = transcriptNotes(row.request!);
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
    const customer = this.row.request!.customer ?? {};
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
      dataverse.createOnce(call, 'contacts', id, contactBody(this.row.request!)),
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
    const plan = conversationPlan(row.request!);
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
            from: { id: OWN_SENDER_IDS.ai, name: AI_DISPLAY_NAME },
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
      throw new AttemptSuperseded();
  }

  /** A Messaging API call with the org's token for its scope (a 401: once more with a fresh one). */
  private async messagingCall<T>(
    stage: UpstreamStage,
    send: (call: MessagingCall) => Promise<T>,
  ): Promise<T> {
    if (Date.now() > this.deadline) throw new AttemptTimedOut(stage);
    const target = {
      endpoint: this.settings.messagingEndpoint!,
      channelId: this.settings.messagingChannelId!,
      organizationId: this.settings.messagingOrganizationId!,
    };
    return this.tools.tokens.withToken(
      this.row.orgId,
      this.settings.version,
      this.credentials,
      this.credentials.messagingScope,
      (accessToken) => send({ ...target, accessToken }),
    );
  }

  /** A step's result: kept on the row for the next steps, written with the attempt's end. */
  private progress(progress: DeliveryProgress): void {
    Object.assign(this.recorded, progress);
    Object.assign(this.row, progress);
  }

  /** A Dataverse call with the org's token (a 401: once more with a fresh one). */
  private async call<T>(stage: UpstreamStage, send: (call: DataverseCall) => Promise<T>): Promise<T> {
    if (Date.now() > this.deadline) throw new AttemptTimedOut(stage);
    const environmentUrl = this.credentials.environmentUrl;
    return this.tools.tokens.withToken(
      this.row.orgId,
      this.settings.version,
      this.credentials,
      undefined,
      (accessToken) =>
        send({
          environmentUrl,
          accessToken,
          stage,
          budget: { priority: 'delivery', waitUntil: this.deadline },
        }),
    );
  }
}
