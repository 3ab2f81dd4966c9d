import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Principal } from '../../access/principal.js';
import { AppError } from '../../common/errors.js';
import { AppConfig } from '../../config/app-config.js';
import { HandoffRateLimitRepository } from '../handoff-rate-limit.repository.js';
import { ConnectionHooks } from '../../settings/connection-hooks.js';
import { SettingsRepository } from '../../settings/settings.repository.js';
import { connectionInvalidError } from '../handoff-error.js';
import { HandoffQueue } from '../handoff-queue.js';
import { HandoffTokens } from '../delivery/handoff-tokens.js';
import {
  HandoffAttemptDto,
  HandoffAttemptsDto,
  HandoffDocumentDto,
  HandoffPageDto,
  HandoffQueryDto,
  SubmitHandoffDto,
} from './handoff.dto.js';
import { Handoff } from '../handoff.entity.js';
import { TRANSITIONS } from '../handoff-states.js';
import { HandoffMetrics } from '../handoff.metrics.js';
import { HandoffFilters, HandoffRepository } from '../handoff.repository.js';
import { CHAT_CHANNELS, HandoffRequest } from '../handoff.types.js';
import { CustomerData } from '../customer-data.js';

const DEFAULT_LIMIT = 50;
/** A handoff's attempt history shows its latest attempts (HANDOFF_MAX_ATTEMPTS is at most 100). */
const MAX_ATTEMPTS_LISTED = 100;

/** The handoff API: accept (commit the row and its job), read, list, retry. Never calls Microsoft. */
@Injectable()
export class HandoffService implements OnModuleInit {
  private readonly logger = new Logger(HandoffService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly handoffs: HandoffRepository,
    private readonly rateLimits: HandoffRateLimitRepository,
    private readonly queue: HandoffQueue,
    private readonly settings: SettingsRepository,
    private readonly tokens: HandoffTokens,
    private readonly metrics: HandoffMetrics,
    private readonly hooks: ConnectionHooks,
    private readonly customerData: CustomerData,
  ) {}

  onModuleInit(): void {
    // A connection verified again (save, verify, sweep) resumes what was held for it.
    this.hooks.onVerified((orgId) => this.resumeHeld(orgId, new Date()).then(() => undefined));
    // A disconnect cancels, in its own transaction, everything not delivered.
    this.hooks.onDisconnect(async (manager, orgId) => {
      const cancelled = await this.handoffs.cancelOpen(manager, orgId);
      this.tokens.forget(orgId);
      if (cancelled > 0) {
        this.metrics.outcome('incident', 'cancelled', cancelled);
        this.logger.log({ org_id: orgId, cancelled }, 'Handoffs cancelled: the org disconnected');
      }
    });
  }

  /** 202 and the new document; 200 and the same document when the same body comes again. */
  async submit(
    principal: Principal,
    dto: SubmitHandoffDto,
  ): Promise<{ created: boolean; document: HandoffDocumentDto }> {
    const orgId = principal.org_id;
    const request = canonicalRequest(dto);
    // Keyed (HMAC), never a plain digest of what the customer wrote; every hash key matches.
    const requestHashes = this.customerData.hashesOf('request', stableJson(request));
    const existing = await this.handoffs.findBySession(orgId, request.session_id);
    if (existing) return { created: false, document: sameOrConflict(existing, requestHashes) };
    // Each new handoff creates records in the customer's Dynamics: at most so many a minute per org.
    const counted = await this.rateLimits.count(orgId);
    if (counted.accepted > this.config.handoffRateLimitPerMinute) {
      throw new AppError(
        'rate_limited',
        `Too many handoffs: at most ${this.config.handoffRateLimitPerMinute} per minute per organisation. Try again in ${counted.retry_after} s.`,
        { headers: { 'retry-after': String(counted.retry_after) } },
      );
    }

    const settings = await this.settings.findByOrg(orgId);
    if (!settings) {
      throw new AppError(
        'not_connected',
        'This organisation has no Dynamics 365 connection: an admin must connect it (Test & Save) before handoffs can be delivered.',
      );
    }
    const chat = CHAT_CHANNELS.includes(request.channel);
    const conversation = chat && settings.messagingEndpoint !== null;
    const held = settings.status === 'invalid';
    const row: Handoff = Object.assign(new Handoff(), {
      id: randomUUID(),
      orgId,
      sessionId: request.session_id,
      channel: request.channel,
      route: conversation ? 'conversation' : 'incident',
      routeReason: chat && !conversation ? 'messaging_not_configured' : null,
      state: TRANSITIONS[held ? 'acceptHeld' : 'accept'].to,
      reason: held ? 'connection_invalid' : null,
      attempts: 0,
      nextAttemptAt: null,
      jobId: null,
      lastError: held ? connectionInvalidError(settings) : null,
      legacyRequest: null,
      ...this.sealed(orgId, request),
      contentPurgedAt: null,
      requestHash: requestHashes[0],
      incidentId: randomUUID(),
      noteId: randomUUID(),
      contactId: null,
      contactCreated: null,
      ticketNumber: null,
      queueItemId: null,
      conversationId: null,
      conversationState: null,
      conversationPartsSent: 0,
      deliveredAt: null,
    } satisfies Partial<Handoff>);

    // The row and its job commit together; a concurrent submit of the same session won: this
    // one's job goes with the rollback.
    const inserted = await this.handoffs.commitUnlessNull(async (manager) => {
      if (!held) row.jobId = await this.queue.enqueue(manager, row);
      return this.handoffs.insert(manager, row);
    });
    if (!inserted) {
      const winner = await this.handoffs.findBySession(orgId, request.session_id);
      return { created: false, document: sameOrConflict(winner!, requestHashes) };
    }
    this.queue.wake();
    this.metrics.refreshSoon();
    if (held) this.metrics.outcome(inserted.route, 'held');
    this.logger.log(
      { session_id: inserted.sessionId, org_id: orgId, channel: inserted.channel, state: inserted.state },
      'Handoff accepted',
    );
    return { created: true, document: toDocument(inserted) };
  }

  async get(principal: Principal, sessionId: string): Promise<HandoffDocumentDto> {
    return toDocument(await this.require(principal.org_id, sessionId));
  }

  /** Each delivery attempt as it ended: where it stopped and Microsoft's answer, newest first. */
  async attempts(principal: Principal, sessionId: string): Promise<HandoffAttemptsDto> {
    const handoff = await this.require(principal.org_id, sessionId);
    const rows = await this.handoffs.attemptsOf(handoff.id, MAX_ATTEMPTS_LISTED);
    return {
      items: rows.map((row) => ({
        attempt: row.attempt,
        outcome: row.outcome as HandoffAttemptDto['outcome'],
        reason: row.reason,
        error: row.error,
        next_attempt_at: row.nextAttemptAt?.toISOString() ?? null,
        ended_at: row.endedAt.toISOString(),
      })),
    };
  }

  async list(principal: Principal, query: HandoffQueryDto): Promise<HandoffPageDto> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const { filters, before } = pageOf(query);
    const rows = await this.handoffs.list(principal.org_id, filters, limit + 1, before);
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toDocument),
      next_cursor:
        rows.length > limit ? encodeCursor({ at: last.createdAt.toISOString(), id: last.id, filters }) : null,
    };
  }

  /** A failed handoff back to pending, its attempts counted afresh. */
  async retry(principal: Principal, sessionId: string): Promise<HandoffDocumentDto> {
    const orgId = principal.org_id;
    const current = await this.require(orgId, sessionId);
    if (current.state !== 'failed') {
      throw new AppError('conflict', `Only a failed handoff can be retried; this one is ${current.state}.`);
    }
    if (current.contentPurgedAt) {
      throw new AppError(
        'conflict',
        'What the customer wrote was purged (retention or erasure): this handoff cannot be delivered again. Submit a new one.',
      );
    }
    if (!(await this.settings.findByOrg(orgId))) {
      throw new AppError(
        'not_connected',
        'This organisation has no Dynamics 365 connection: connect it first (Test & Save).',
      );
    }
    const requeued = await this.handoffs.commitUnlessNull(async (manager) =>
      this.handoffs.requeueFailed(manager, orgId, sessionId, await this.queue.enqueue(manager, current)),
    );
    if (!requeued) throw new AppError('conflict', 'The handoff changed meanwhile; read it again.');
    this.queue.wake();
    this.metrics.refreshSoon();
    this.logger.log({ session_id: sessionId, org_id: orgId }, 'Handoff retried by an admin');
    return toDocument(requeued);
  }

  /** The org's handoffs held before `heldBefore` go back to the queue. Returns how many. */
  async resumeHeld(orgId: string, heldBefore: Date): Promise<number> {
    if (!(await this.handoffs.hasHeld(orgId, heldBefore))) return 0;
    const resumed = await this.handoffs.transaction(async (manager: EntityManager) => {
      const held = await this.handoffs.lockHeld(manager, orgId, heldBefore);
      for (const { id } of held)
        await this.handoffs.release(manager, 'resume', id, await this.queue.enqueue(manager, { id, orgId }));
      return held.length;
    });
    if (resumed > 0) {
      this.queue.wake();
      this.metrics.refreshSoon();
      this.logger.log({ org_id: orgId, resumed }, 'Held handoffs resumed: the connection was verified');
    }
    return resumed;
  }

  /** The request sealed, and the keyed hashes an erasure finds the customer by. */
  private sealed(orgId: string, request: HandoffRequest) {
    const sealed = this.customerData.sealRequest(orgId, request.session_id, request);
    const email = request.customer?.email;
    const phone = request.customer?.phone;
    return {
      content: sealed.ciphertext,
      contentKeyId: sealed.keyId,
      customerEmailHash: email
        ? this.customerData.hash('email', CustomerData.normalise('email', email))
        : null,
      customerPhoneHash: phone
        ? this.customerData.hash('phone', CustomerData.normalise('phone', phone))
        : null,
    };
  }

  private async require(orgId: string, sessionId: string): Promise<Handoff> {
    const row = await this.handoffs.findBySession(orgId, sessionId);
    if (!row) throw new AppError('not_found', `No handoff with session_id ${sessionId}.`);
    return row;
  }
}

function sameOrConflict(existing: Handoff, requestHashes: string[]): HandoffDocumentDto {
  if (!requestHashes.includes(existing.requestHash)) {
    throw new AppError(
      'conflict',
      `session_id ${existing.sessionId} was already handed off with a different body; a session is handed off once.`,
    );
  }
  return toDocument(existing);
}

/** The validated body as stored: absent and null fields left out, so equal bodies compare equal. */
function canonicalRequest(dto: SubmitHandoffDto): HandoffRequest {
  const customer = dto.customer
    ? stripEmpty({ name: dto.customer.name, email: dto.customer.email, phone: dto.customer.phone })
    : undefined;
  return stripEmpty({
    session_id: dto.session_id,
    channel: dto.channel,
    customer: customer && Object.keys(customer).length > 0 ? customer : undefined,
    classification: dto.classification,
    sentiment: dto.sentiment,
    summary: dto.summary,
    transcript: dto.transcript?.map((entry) => ({ role: entry.role, text: entry.text, at: entry.at })),
  }) as HandoffRequest;
}

function stripEmpty<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined && v !== null),
  ) as Partial<T>;
}

/** JSON with object keys sorted, so key order in the body does not matter. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function toDocument(row: Handoff): HandoffDocumentDto {
  const incidentExists = row.ticketNumber !== null;
  return {
    session_id: row.sessionId,
    channel: row.channel,
    route: row.route,
    route_reason: row.routeReason,
    state: row.state,
    reason: row.reason,
    attempts: row.attempts,
    next_attempt_at: row.state === 'pending' ? (row.nextAttemptAt?.toISOString() ?? null) : null,
    last_error: row.lastError,
    dynamics: {
      incident_id: incidentExists ? row.incidentId : null,
      ticket_number: row.ticketNumber || null,
      contact_id: row.contactId,
      contact_created: row.contactCreated,
      queue_item_id: row.queueItemId,
      conversation_id: row.conversationId,
      conversation_state: row.conversationState,
    },
    created_at: row.createdAt.toISOString(),
    delivered_at: row.deliveredAt?.toISOString() ?? null,
    content_purged_at: row.contentPurgedAt?.toISOString() ?? null,
  };
}

interface Cursor {
  at: string;
  id: string;
  filters: HandoffFilters;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** A cursor continues its listing: its filters apply; stating other filters beside it is a 400. */
function pageOf(query: HandoffQueryDto): {
  filters: HandoffFilters;
  before?: { createdAt: string; id: string };
} {
  const stated = stripEmpty({
    state: query.state,
    channel: query.channel,
    since: query.since,
    until: query.until,
  }) as HandoffFilters;
  if (!query.cursor) return { filters: stated };
  const invalid = () =>
    AppError.validation([{ field: 'cursor', message: 'cursor is not a cursor this API returned' }]);
  let cursor: Cursor;
  try {
    cursor = JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8')) as Cursor;
  } catch {
    throw invalid();
  }
  if (
    typeof cursor?.at !== 'string' ||
    Number.isNaN(Date.parse(cursor.at)) ||
    typeof cursor.id !== 'string' ||
    !/^[0-9a-f-]{36}$/.test(cursor.id) ||
    typeof cursor.filters !== 'object' ||
    cursor.filters === null
  ) {
    throw invalid();
  }
  if (Object.keys(stated).length > 0 && stableJson(stated) !== stableJson(cursor.filters)) {
    throw AppError.validation([
      {
        field: 'cursor',
        message: 'cursor belongs to a listing with other filters: repeat the same filters, or send none',
      },
    ]);
  }
  return { filters: sanitizeFilters(cursor.filters), before: { createdAt: cursor.at, id: cursor.id } };
}

/** Filters from a cursor, kept only where they have the shape the API gave them. */
function sanitizeFilters(filters: HandoffFilters): HandoffFilters {
  const list = (value: unknown) =>
    Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  const date = (value: unknown) =>
    typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? value : undefined;
  return stripEmpty({
    state: list(filters.state) as HandoffFilters['state'],
    channel: list(filters.channel) as HandoffFilters['channel'],
    since: date(filters.since),
    until: date(filters.until),
  });
}
