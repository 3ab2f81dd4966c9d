import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../../config/app-config.js';
import { AppError } from '../../common/errors.js';
import { ConversationEventDocument, ConversationEvents } from './conversation-events.js';
import { HandoffEventRepository } from '../handoff-event.repository.js';
import { HandoffRepository } from '../handoff.repository.js';

const EVENT_ID = /^\d{1,18}$/;

/**
 * `GET …/{session_id}/events`: Server-Sent Events of a conversation handoff — every event after
 * Last-Event-ID, then each new one as it arrives on any instance; a comment line every
 * HANDOFF_EVENTS_HEARTBEAT; the stream ends after `conversation.closed`.
 */
@Injectable()
export class ConversationEventStreams implements OnModuleDestroy {
  private readonly open = new Set<() => void>();

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
    orgId: string,
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
    const handoff = await this.handoffs.findBySession(orgId, sessionId);
    if (!handoff) throw new AppError('not_found', `No handoff with session_id ${sessionId}.`);
    if (handoff.route !== 'conversation') {
      throw new AppError(
        'conflict',
        'Events are streamed for conversation handoffs only; this handoff is a case.',
      );
    }

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
      unsubscribe();
      this.open.delete(end);
      raw.end();
    };
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), this.config.handoffEventsHeartbeatMs);
    this.open.add(end);
    raw.once('close', end);
    const unsubscribe = this.events.subscribe(
      handoff.id,
      BigInt(last),
      (event: ConversationEventDocument) => {
        if (ended) return;
        raw.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        if (event.type === 'conversation.closed') end();
      },
    );
    // A conversation closed before this (re)connection, with nothing left to send: nothing will come.
    if (handoff.conversationState === 'closed' && !(await this.stored.hasAfter(handoff.id, last))) end();
  }
}
