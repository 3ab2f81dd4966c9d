// The events of conversation handoffs: stored in PostgreSQL, announced with NOTIFY, and streamed
// to subscribers on every instance. Each instance keeps one LISTEN connection; a notification
// makes it read the handoff's new events once and hand them to all of that handoff's
// subscribers, so a stream never depends on which instance received the webhook, and a
// reconnecting client resumes from the table (Last-Event-ID), losing and repeating nothing.
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { PoolClient } from 'pg';
import {
  ConversationEventRow,
  ConversationEventType,
  HandoffEventRepository,
} from '../handoff-event.repository.js';

const PAGE = 500;
const RECONNECT_MS = 1000;

/** An event as streamed and posted: the same document everywhere. */
export interface ConversationEventDocument {
  id: string;
  type: ConversationEventType;
  session_id: string;
  conversation_id: string;
  occurred_at: string;
  data: Record<string, unknown>;
}

interface Subscriber {
  lastId: bigint;
  send: (event: ConversationEventDocument) => void;
}

@Injectable()
export class ConversationEvents implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ConversationEvents.name);
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private readonly pulling = new Map<string, { again: boolean; done: Promise<void> }>();
  private listener?: PoolClient;
  private stopped = false;
  private reconnect?: NodeJS.Timeout;

  constructor(private readonly repository: HandoffEventRepository) {}

  async onModuleInit(): Promise<void> {
    await this.listen();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnect);
    this.listener?.release();
    this.listener = undefined;
  }

  /** An event by id, as a document (for the outgoing webhook). */
  async document(id: string): Promise<ConversationEventDocument | undefined> {
    const row = await this.repository.findById(id);
    return row ? toDocument(row) : undefined;
  }

  /**
   * Streams the handoff's events after `lastId` to `send`, in order, then each new one as it
   * is stored on any instance. Returns the unsubscribe function.
   */
  subscribe(handoffId: string, lastId: bigint, send: (event: ConversationEventDocument) => void): () => void {
    const subscriber: Subscriber = { lastId, send };
    let set = this.subscribers.get(handoffId);
    if (!set) {
      set = new Set();
      this.subscribers.set(handoffId, set);
    }
    set.add(subscriber);
    void this.pull(handoffId);
    return () => {
      set.delete(subscriber);
      if (set.size === 0 && this.subscribers.get(handoffId) === set) this.subscribers.delete(handoffId);
    };
  }

  get subscriberCount(): number {
    let count = 0;
    for (const set of this.subscribers.values()) count += set.size;
    return count;
  }

  /** Reads the handoff's events after its slowest subscriber's last one and hands them out; one read at a time per handoff. */
  private pull(handoffId: string): Promise<void> {
    const running = this.pulling.get(handoffId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const state = { again: false, done: Promise.resolve() };
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await this.pullOnce(handoffId);
        } while (state.again);
      } catch (error) {
        this.logger.warn(`Could not read events of handoff ${handoffId}: ${(error as Error).message}`);
      } finally {
        this.pulling.delete(handoffId);
      }
    })();
    this.pulling.set(handoffId, state);
    return state.done;
  }

  private async pullOnce(handoffId: string): Promise<void> {
    for (;;) {
      const set = this.subscribers.get(handoffId);
      if (!set || set.size === 0) return;
      const after = [...set].reduce(
        (min, s) => (s.lastId < min ? s.lastId : min),
        set.values().next().value!.lastId,
      );
      const rows = await this.repository.after(handoffId, after, PAGE);
      for (const row of rows) {
        const id = BigInt(row.id);
        const event = toDocument(row);
        for (const subscriber of this.subscribers.get(handoffId) ?? []) {
          if (id <= subscriber.lastId) continue;
          subscriber.lastId = id;
          subscriber.send(event);
        }
      }
      if (rows.length < PAGE) return;
    }
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    try {
      this.listener = await this.repository.listen(
        (handoffId) => void this.pull(handoffId),
        (client, error) => this.lost(client, error),
      );
      // Whatever was stored while no connection listened: every subscribed handoff reads again.
      for (const handoffId of this.subscribers.keys()) void this.pull(handoffId);
    } catch (error) {
      this.logger.warn(`Could not listen for handoff events: ${(error as Error).message}; retrying`);
      this.reconnect = setTimeout(() => void this.listen(), RECONNECT_MS);
    }
  }

  private lost(client: PoolClient, error: Error): void {
    if (this.listener !== client) return;
    this.logger.warn(`Lost the handoff events connection: ${error.message}; reconnecting`);
    this.listener = undefined;
    client.release(error);
    this.reconnect = setTimeout(() => void this.listen(), RECONNECT_MS);
  }
}

function toDocument(row: ConversationEventRow): ConversationEventDocument {
  return {
    id: row.id,
    type: row.type,
    session_id: row.session_id,
    conversation_id: row.conversation_id,
    occurred_at: row.occurred_at.toISOString(),
    data: row.data,
  };
}
