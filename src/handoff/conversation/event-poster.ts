// Each conversation event also goes to the host platform when HANDOFF_EVENTS_URL is set: posted
// as JSON signed per the Standard Webhooks spec (the `standardwebhooks` package signs; the
// receiver verifies with the same secret), through the queue, so a receiver that is down gets
// it later (pg-boss retries with exponential backoff). `webhook-id` is the same on every retry.
import { Injectable, OnModuleInit } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../../config/app-config.js';
import { ConversationEvents } from './conversation-events.js';
import { EVENT_POST_QUEUE, HandoffQueue } from '../handoff-queue.js';

const POST_TIMEOUT_MS = 10_000;
const CONCURRENCY = 4;

@Injectable()
export class ConversationEventPoster implements OnModuleInit {
  private readonly webhook?: Webhook;

  constructor(
    private readonly config: AppConfig,
    private readonly queue: HandoffQueue,
    private readonly events: ConversationEvents,
  ) {
    if (config.handoffEventsSecret) this.webhook = new Webhook(config.handoffEventsSecret);
  }

  onModuleInit(): void {
    if (this.webhook)
      this.queue.process(EVENT_POST_QUEUE, CONCURRENCY, (_jobId, job) => this.post(job.event_id));
  }

  /** In the transaction that stored the event: its post is queued with it. */
  async enqueue(manager: EntityManager, eventId: string): Promise<void> {
    if (this.webhook) await this.queue.send(manager, EVENT_POST_QUEUE, { event_id: eventId });
  }

  wake(): void {
    this.queue.wake(EVENT_POST_QUEUE);
  }

  private async post(eventId: string): Promise<void> {
    const event = await this.events.document(eventId);
    if (!event || !this.webhook) return;
    const payload = JSON.stringify({ type: event.type, timestamp: event.occurred_at, data: event });
    const id = `handoff-event-${event.id}`;
    const now = new Date();
    // To the host platform (HANDOFF_EVENTS_URL), not Microsoft.
    // eslint-disable-next-line no-restricted-globals
    const response = await fetch(this.config.handoffEventsUrl!, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'dynamics365-connector',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': this.webhook.sign(id, now, payload),
      },
      body: payload,
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (response.status < 200 || response.status >= 300) {
      throw new Error(`HANDOFF_EVENTS_URL answered HTTP ${response.status} for event ${event.id}`);
    }
  }
}
