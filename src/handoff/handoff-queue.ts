// The work queues of handoffs: pg-boss (its 10.x line, the last on Node 20) in its own schema of
// the service's database (created by a migration), over the service's own connection pool.
//  - handoff-delivery: one job per delivery attempt of a handoff, written in the same transaction
//    as the row it serves; the delivery fences its writes itself and schedules the next attempt.
//  - handoff-event-post: posts one event to HANDOFF_EVENTS_URL; retried by pg-boss with backoff.
//  - handoff-message: relays one customer message to the conversation; retried by pg-boss.
// A worker that dies mid-job leaves the job active until it expires; pg-boss then hands the same
// job to any instance.
import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import PgBoss from 'pg-boss';
import type { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config.js';

/** pg-boss's schema: its tables, created by the DeliveryQueue migration. */
export const QUEUE_SCHEMA = 'pgboss';
export const QUEUE = 'handoff-delivery';
export const EVENT_POST_QUEUE = 'handoff-event-post';
export const MESSAGE_QUEUE = 'handoff-message';
/** How often an idle instance looks for due jobs (a commit on this instance wakes it at once). */
const POLL_MS = 500;

interface DeliveryJob {
  handoff_id: string;
}
interface EventPostJob {
  event_id: string;
}
export interface MessageJob {
  handoff_id: string;
  message_id: string;
  text: string;
}
interface JobData {
  [QUEUE]: DeliveryJob;
  [EVENT_POST_QUEUE]: EventPostJob;
  [MESSAGE_QUEUE]: MessageJob;
}
type QueueName = keyof JobData;

interface Worker<Q extends QueueName> {
  handler: (jobId: string, job: JobData[Q]) => Promise<void>;
  concurrency: number;
  inFlight: number;
  wakeUp?: () => void;
  pumping?: Promise<void>;
}

@Injectable()
export class HandoffQueue implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HandoffQueue.name);
  private readonly boss: PgBoss;
  private readonly workers = new Map<QueueName, Worker<QueueName>>();
  private running = false;
  private readonly finishing = new Set<Promise<void>>();
  private drained?: () => void;

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() dataSource: DataSource,
  ) {
    const pool = (dataSource.driver as unknown as { master: { query: PgBoss.Db['executeSql'] } }).master;
    this.boss = new PgBoss({
      db: { executeSql: (text, values) => pool.query(text, values) },
      schema: QUEUE_SCHEMA,
      // Its schema is a migration of ours (DeliveryQueue): at start it is only checked.
      migrate: false,
      supervise: true,
      schedule: false,
      // Expired jobs (their worker died) are found within a quarter of the attempt timeout.
      maintenanceIntervalSeconds: Math.min(
        60,
        Math.max(1, Math.round(config.handoffAttemptTimeoutMs / 4000)),
      ),
    });
    this.boss.on('error', (error) => this.logger.error(`Handoff queue: ${error.message}`));
  }

  async onModuleInit(): Promise<void> {
    await this.boss.start();
    const expireInSeconds = Math.ceil(this.config.handoffAttemptTimeoutMs / 1000);
    const queues: PgBoss.Queue[] = [
      // Delivery attempts schedule their own retries; pg-boss retries only crashed workers' jobs.
      { name: QUEUE, retryLimit: 20, retryDelay: 1, retryBackoff: true, expireInSeconds },
      // Posts and relayed messages: pg-boss's retries with exponential backoff from 2 s.
      { name: EVENT_POST_QUEUE, retryLimit: 12, retryDelay: 2, retryBackoff: true, expireInSeconds: 60 },
      {
        name: MESSAGE_QUEUE,
        retryLimit: this.config.handoffMaxAttempts,
        retryDelay: Math.max(1, Math.round(this.config.handoffRetryBaseMs / 1000)),
        retryBackoff: true,
        expireInSeconds,
      },
    ];
    for (const queue of queues) {
      if (await this.boss.getQueue(queue.name)) await this.boss.updateQueue(queue.name, queue);
      else await this.boss.createQueue(queue.name, queue);
    }
  }

  /** Registers a queue's worker; pumps start once the application is up. */
  process<Q extends QueueName>(queue: Q, concurrency: number, handler: Worker<Q>['handler']): void {
    this.workers.set(queue, { handler, concurrency, inFlight: 0 } as unknown as Worker<QueueName>);
  }

  onApplicationBootstrap(): void {
    // HANDOFF_CONCURRENCY=0: an instance that only accepts (the API tier of a split deployment).
    if (this.config.handoffConcurrency === 0) return;
    this.running = true;
    for (const [queue, worker] of this.workers) worker.pumping = this.pump(queue, worker);
  }

  async onModuleDestroy(): Promise<void> {
    this.running = false;
    for (const worker of this.workers.values()) worker.wakeUp?.();
    await Promise.all([...this.workers.values()].map((w) => w.pumping ?? Promise.resolve()));
    // Jobs under way finish (bounded by the upstream timeouts); jobs not fetched stay queued.
    if (this.busy()) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.boss.stop({ graceful: false, wait: true, close: false });
  }

  /** Queues a delivery attempt in the caller's transaction, to start at `startAfter`. Returns the job id. */
  enqueue(manager: EntityManager, handoffId: string, startAfter?: Date): Promise<string> {
    return this.send(manager, QUEUE, { handoff_id: handoffId }, startAfter);
  }

  /** Queues a job of another queue in the caller's transaction. */
  async send<Q extends QueueName>(
    manager: EntityManager,
    queue: Q,
    data: JobData[Q],
    startAfter?: Date,
  ): Promise<string> {
    const runner = manager.queryRunner;
    if (!runner) throw new Error('jobs are queued inside a transaction');
    const id = randomUUID();
    await this.boss.send(queue, data as object, {
      id,
      ...(startAfter ? { startAfter } : {}),
      db: {
        executeSql: async (text, values) => ({ rows: (await runner.query(text, values, true)).records }),
      },
    });
    return id;
  }

  /** After a commit that queued work due now: look at once instead of at the next poll. */
  wake(queue: QueueName = QUEUE): void {
    this.workers.get(queue)?.wakeUp?.();
  }

  private busy(): boolean {
    return this.finishing.size > 0 || [...this.workers.values()].some((w) => w.inFlight > 0);
  }

  private async pump(queue: QueueName, worker: Worker<QueueName>): Promise<void> {
    while (this.running) {
      const free = worker.concurrency - worker.inFlight;
      let fetched = 0;
      if (free > 0) {
        try {
          const jobs = await this.boss.fetch<JobData[QueueName]>(queue, { batchSize: free });
          fetched = jobs.length;
          for (const job of jobs) this.run(queue, worker, job.id, job.data);
        } catch (error) {
          this.logger.warn(`Could not fetch ${queue} jobs: ${(error as Error).message}`);
        }
      }
      if (fetched > 0 && fetched === free) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        worker.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      worker.wakeUp = undefined;
    }
  }

  private run(queue: QueueName, worker: Worker<QueueName>, jobId: string, job: JobData[QueueName]): void {
    worker.inFlight += 1;
    const settled = worker.handler(jobId, job).then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error: error as Error }),
    );
    // The slot is free as soon as the job's outcome is recorded; marking the job done follows
    // in the background (a job left active by a crash here expires and finds nothing to do).
    const finishing = settled
      .then(async (result) => {
        worker.inFlight -= 1;
        worker.wakeUp?.();
        if (result.ok) {
          await this.boss.complete(queue, jobId);
        } else {
          this.logger.warn(`${queue} job ${jobId} failed (pg-boss retries it): ${result.error.message}`);
          await this.boss.fail(queue, jobId, { message: result.error.message });
        }
      })
      .catch((error: unknown) =>
        this.logger.warn(`Could not settle ${queue} job ${jobId}: ${(error as Error).message}`),
      )
      .finally(() => {
        this.finishing.delete(finishing);
        if (!this.busy()) this.drained?.();
      });
    this.finishing.add(finishing);
  }
}
