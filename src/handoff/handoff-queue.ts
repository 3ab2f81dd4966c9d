// The delivery queue: pg-boss (its 10.x line, the last on Node 20) in its own schema of the
// service's database (created by a migration), over the service's own connection pool. A job is one delivery attempt of
// one handoff; it is written in the same transaction as the handoff row it serves, so an
// accepted handoff always has its job and a rolled-back one never does. A worker that dies
// mid-attempt leaves its job active until it expires (HANDOFF_ATTEMPT_TIMEOUT); pg-boss then
// hands the same job to any instance.
import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import PgBoss from 'pg-boss';
import type { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config.js';

/** pg-boss's schema: its tables, created and upgraded by pg-boss at start. */
export const QUEUE_SCHEMA = 'pgboss';
export const QUEUE = 'handoff-delivery';
/** How often an idle instance looks for due jobs (a submit on this instance wakes it at once). */
const POLL_MS = 500;
/** A job whose worker crashed is retried this often before pg-boss gives it up (maintenance then requeues the handoff). */
const CRASH_RETRIES = 20;

export interface DeliveryJob {
  handoff_id: string;
}

type Handler = (jobId: string, job: DeliveryJob) => Promise<void>;

@Injectable()
export class HandoffQueue implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HandoffQueue.name);
  private readonly boss: PgBoss;
  private handler?: Handler;
  private running = false;
  private inFlight = 0;
  private readonly finishing = new Set<Promise<void>>();
  private pumping?: Promise<void>;
  private wakeUp?: () => void;
  private drained?: () => void;

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
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
    this.boss.on('error', (error) => this.logger.error(`Delivery queue: ${error.message}`));
  }

  async onModuleInit(): Promise<void> {
    await this.boss.start();
    const options = {
      name: QUEUE,
      retryLimit: CRASH_RETRIES,
      retryDelay: 1,
      retryBackoff: true,
      expireInSeconds: Math.ceil(this.config.handoffAttemptTimeoutMs / 1000),
    };
    if (await this.boss.getQueue(QUEUE)) await this.boss.updateQueue(QUEUE, options);
    else await this.boss.createQueue(QUEUE, options);
  }

  /** Registers the delivery; the pump starts once the application is up. */
  process(handler: Handler): void {
    this.handler = handler;
  }

  onApplicationBootstrap(): void {
    // HANDOFF_CONCURRENCY=0: an instance that only accepts (the API tier of a split deployment).
    if (!this.handler || this.config.handoffConcurrency === 0) return;
    this.running = true;
    this.pumping = this.pump();
  }

  async onModuleDestroy(): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.pumping;
    // Attempts under way finish (bounded by the upstream timeouts); jobs not fetched stay queued.
    if (this.inFlight > 0 || this.finishing.size > 0) {
      await new Promise<void>((resolve) => (this.drained = resolve));
    }
    await this.boss.stop({ graceful: false, wait: true, close: false });
  }

  /**
   * Queues an attempt of a handoff inside the caller's transaction (it commits or rolls back
   * with the row), to start at `startAfter`. Returns the job id.
   */
  async enqueue(manager: EntityManager, handoffId: string, startAfter?: Date): Promise<string> {
    const runner = manager.queryRunner;
    if (!runner) throw new Error('enqueue needs a transaction');
    const id = randomUUID();
    const data: DeliveryJob = { handoff_id: handoffId };
    await this.boss.send(QUEUE, data, {
      id,
      ...(startAfter ? { startAfter } : {}),
      db: {
        executeSql: async (text, values) => ({ rows: (await runner.query(text, values, true)).records }),
      },
    });
    return id;
  }

  /** After a commit that queued work due now: look at once instead of at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  private async pump(): Promise<void> {
    while (this.running) {
      const free = this.config.handoffConcurrency - this.inFlight;
      let fetched = 0;
      if (free > 0) {
        try {
          const jobs = await this.boss.fetch<DeliveryJob>(QUEUE, { batchSize: free });
          fetched = jobs.length;
          for (const job of jobs) this.run(job.id, job.data);
        } catch (error) {
          this.logger.warn(`Could not fetch delivery jobs: ${(error as Error).message}`);
        }
      }
      if (fetched > 0 && fetched === free) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  private run(jobId: string, job: DeliveryJob): void {
    this.inFlight += 1;
    const settled = this.handler!(jobId, job).then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error: error as Error }),
    );
    // The slot is free as soon as the attempt's outcome is recorded; marking the job done
    // follows in the background (a job left active by a crash here expires and finds nothing to do).
    const finishing = settled
      .then(async (result) => {
        this.inFlight -= 1;
        this.wakeUp?.();
        if (result.ok) {
          await this.boss.complete(QUEUE, jobId);
        } else {
          this.logger.error(`Delivery job ${jobId} failed: ${result.error.message}`);
          await this.boss.fail(QUEUE, jobId, { message: result.error.message });
        }
      })
      .catch((error: unknown) =>
        this.logger.warn(`Could not settle delivery job ${jobId}: ${(error as Error).message}`),
      )
      .finally(() => {
        this.finishing.delete(finishing);
        if (this.inFlight === 0 && this.finishing.size === 0) this.drained?.();
      });
    this.finishing.add(finishing);
  }
}
