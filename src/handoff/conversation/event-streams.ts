import { createHash } from 'node:crypto';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../../config/app-config.js';
import type { Principal } from '../../access/principal.js';
import { AppError } from '../../common/errors.js';
import { ConversationEventDocument, ConversationEvents } from './conversation-events.js';
import { HandoffEventRepository } from '../handoff-event.repository.js';
import { HandoffRepository } from '../handoff.repository.js';

const EVENT_ID = /^\d{1,18}$/;
/** A client that lets this much pile up unread is too slow to follow: its stream is ended. */
const MAX_UNREAD_BYTES = 1024 * 1024;
/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `GET …/{session_id}/events`: Server-Sent Events of a conversation handoff — every event after
 * Last-Event-ID, then each new one as it arrives on any instance; a comment line every
 * HANDOFF_EVENTS_HEARTBEAT; the stream ends after `conversation.closed`, when its bearer token
 * expires, or when the client reads too slowly. One token holds at most EVENT_STREAMS_PER_TOKEN
 * streams open on an instance.
 */
@Injectable()
export class ConversationEventStreams implements OnModuleDestroy {
  private readonly open = new Set<() => void>();
  private readonly perToken = new Map<string, number>();

  constructor(
    private readonly config: AppConfig,
    private readonly handoffs: HandoffRepository,
    private readonly events: ConversationEvents,
    private readonly stored: HandoffEventRepository,
  ) {}

  /** Ends every open stream (clients reconnect to another instance with Last-Event-ID). */
  onModuleDestroy(): void {
    for (const end of [...this.open]) end();
  }

  get openStreams(): number {
    return this.open.size;
  }

  async stream(
    principal: Principal,
    sessionId: string,
    lastEventId: string | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    const last = lastEventId?.trim() || '0';
    if (!EVENT_ID.test(last)) {
      throw AppError.validation([
        { field: 'Last-Event-ID', message: 'Last-Event-ID must be the id of an event this stream sent' },
      ]);
    }
    const handoff = await this.handoffs.findBySession(principal.org_id, sessionId);
    if (!handoff) throw new AppError('not_found', `No handoff with session_id ${sessionId}.`);
    if (handoff.route !== 'conversation') {
      throw new AppError(
        'conflict',
        'Events are streamed for conversation handoffs only; this handoff is a case.',
      );
    }

    // Counted per bearer token (its digest, never the token), on the one route that needs it.
    const tokenId = createHash('sha256')
      .update(request.headers.authorization ?? principal.sub)
      .digest('base64url');
    const held = this.perToken.get(tokenId) ?? 0;
    if (held >= this.config.eventStreamsPerToken) {
      throw new AppError(
        'rate_limited',
        `This token already holds ${held} open event streams (at most ${this.config.eventStreamsPerToken}); close one first.`,
        { headers: { 'retry-after': '5' } },
      );
    }
    this.perToken.set(tokenId, held + 1);

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    raw.write('retry: 2000\n\n');
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      clearTimeout(expiry);
      unsubscribe();
      this.open.delete(end);
      const left = (this.perToken.get(tokenId) ?? 1) - 1;
      if (left <= 0) this.perToken.delete(tokenId);
      else this.perToken.set(tokenId, left);
      raw.end();
    };
    /** Writes, unless the client has let too much pile up unread: then it is dropped. */
    const send = (text: string) => {
      if (ended) return;
      if (raw.writableLength > MAX_UNREAD_BYTES) {
        raw.destroy();
        end();
        return;
      }
      raw.write(text);
    };
    const heartbeat = setInterval(() => send(': keep-alive\n\n'), this.config.handoffEventsHeartbeatMs);
    const expiry = setTimeout(
      end,
      principal.expires_at === undefined
        ? MAX_TIMER_MS
        : Math.min(MAX_TIMER_MS, Math.max(0, principal.expires_at * 1000 - Date.now())),
    );
    this.open.add(end);
    raw.once('close', end);
    const unsubscribe = this.events.subscribe(
      handoff.id,
      BigInt(last),
      (event: ConversationEventDocument) => {
        send(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        if (event.type === 'conversation.closed') end();
      },
    );
    // A conversation closed before this (re)connection, with nothing left to send: nothing will come.
    if (handoff.conversationState === 'closed' && !(await this.stored.hasAfter(handoff.id, last))) end();
  }
}
