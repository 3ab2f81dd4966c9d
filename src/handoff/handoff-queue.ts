// The work queues of handoffs: pg-boss 12 in its own schema of the service's database (created by
// our migrations), over the service's own connection pool.
//  - handoff-delivery: one job per delivery attempt of a handoff, written in the same transaction
//    as the row it serves; the delivery fences its writes itself and schedules the next attempt.
//  - handoff-event-post: posts one event to HANDOFF_EVENTS_URL; retried by pg-boss with backoff.
//  - handoff-message: relays one customer message to the conversation; retried by pg-boss.
// Every job a worker holds is leased (pg-boss's job heartbeat, HANDOFF_LEASE): the worker renews
// the lease while the job runs, and once it lapses (the instance was killed, lost its database or
// froze) pg-boss's supervisor on any instance puts the job back, to be resumed within seconds.
// The pump is ours rather than pg-boss's work(): one fetch fills every free slot of a queue, a
// slot is free again as soon as the job's outcome is recorded, and a commit that queued work
// wakes it at once.
// Fair share across orgs (DESIGN.md §14): a delivery job's priority is the queue's head less the
// org's own jobs already queued, so orgs are served in turn — a new org's next handoff waits for
// at most one delivery of each org with a backlog, not for the backlog. And each org is a pg-boss
// group whose active jobs, all instances together, are capped (groupConcurrency): a backlog never
// fills every worker with deliveries that would only wait for their environment's call budget.
import { randomUUID } from 'node:crypto';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PgBoss } from 'pg-boss';
import type { Db, Job, JobAttempt, Queue } from 'pg-boss';
import type { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { poolOf } from '../database/pool.js';

/** pg-boss's schema: its tables, created by the DeliveryQueue12 migration. */
export const QUEUE_SCHEMA = 'pgboss';
export const DELIVERY_QUEUE = 'handoff-delivery';
export const EVENT_POST_QUEUE = 'handoff-event-post';
export const MESSAGE_QUEUE = 'handoff-message';
/** How often an idle instance looks for due jobs (a commit on this instance wakes it at once). */
const POLL_MS = 500;
/** Leases are renewed this many times per lease, so one slow renewal never lets a live job lapse. */
const RENEWALS_PER_LEASE = 3;

interface DeliveryJob {
  handoff_id: string;
}
interface EventPostJob {
  event_id: string;
}
export interface MessageJob {
  handoff_id: string;
  message_id: string;
  /** Only in jobs queued by versions before customer data was sealed: the text now waits in its own table. */
  text?: string;
}
interface JobData {
  [DELIVERY_QUEUE]: DeliveryJob;
  [EVENT_POST_QUEUE]: EventPostJob;
  [MESSAGE_QUEUE]: MessageJob;
}
type QueueName = keyof JobData;

interface Worker<Q extends QueueName> {
  handler: (jobId: string, job: JobData[Q]) => Promise<void>;
  concurrency: number;
  /** Active jobs per group (org), cluster-wide; none when the queue's jobs have no groups. */
  groupConcurrency?: number;
  inFlight: number;
  /** The attempts this instance holds, by job id: their leases are renewed until they settle. */
  held: Map<string, JobAttempt>;
  wakeUp?: () => void;
  pumping?: Promise<void>;
}

@Injectable()
export class HandoffQueue implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HandoffQueue.name);
  private readonly boss: PgBoss;
  private readonly workers = new Map<QueueName, Worker<QueueName>>();
  private running = false;
  private renewer?: NodeJS.Timeout;
  private readonly finishing = new Set<Promise<void>>();
  private drained?: () => void;

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() dataSource: DataSource,
  ) {
    const pool = poolOf(dataSource);
    // The supervisor's pass, on whichever instance runs it first, fails jobs whose lease lapsed (and
    // jobs past their attempt timeout): a fifth of the lease apart, a dead instance's jobs are back
    // in the queue at most 1.2 leases after their last renewal.
    const passSeconds = Math.max(1, Math.round(config.handoffLeaseMs / 5000));
    this.boss = new PgBoss({
      db: { executeSql: (text, values) => pool.query(text, values) } satisfies Db,
      schema: QUEUE_SCHEMA,
      // Its schema is a migration of ours (DeliveryQueue12): at start it is only checked.
      migrate: false,
      supervise: true,
      schedule: false,
      superviseIntervalSeconds: passSeconds,
      monitorIntervalSeconds: passSeconds,
      // Settled jobs are deleted after their retention; looking for them every few minutes is enough.
      maintenanceIntervalSeconds: 300,
      // REINDEX needs the tables' owner, and the service may run as a role that owns nothing.
      reindex: false,
    });
    this.boss.on('error', (error) => this.logger.error(`Handoff queue: ${error.message}`));
  }

  async onModuleInit(): Promise<void> {
    await this.boss.start();
    for (const queue of queueSettings(this.config)) {
      const { name, ...options } = queue;
      if (await this.boss.getQueue(name)) await this.boss.updateQueue(name, options);
      else await this.boss.createQueue(name, options);
    }
  }

  /** Registers a queue's worker; pumps start once the application is up. */
  process<Q extends QueueName>(
    queue: Q,
    concurrency: number,
    handler: Worker<Q>['handler'],
    options: { groupConcurrency?: number } = {},
  ): void {
    this.workers.set(queue, {
      handler,
      concurrency,
      groupConcurrency: options.groupConcurrency,
      inFlight: 0,
      held: new Map(),
    } as unknown as Worker<QueueName>);
  }

  onApplicationBootstrap(): void {
    // HANDOFF_CONCURRENCY=0: an instance that only accepts (the API tier of a split deployment).
    if (this.config.handoffConcurrency === 0) return;
    this.running = true;
    for (const [queue, worker] of this.workers) worker.pumping = this.pump(queue, worker);
    this.renewer = setInterval(
      () => void this.renewLeases(),
      this.config.handoffLeaseMs / RENEWALS_PER_LEASE,
    );
    this.renewer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.running = false;
    for (const worker of this.workers.values()) worker.wakeUp?.();
    await Promise.all([...this.workers.values()].map((w) => w.pumping ?? Promise.resolve()));
    // Jobs under way finish (bounded by the upstream timeouts), their leases renewed meanwhile;
    // jobs not fetched stay queued.
    if (this.busy()) await new Promise<void>((resolve) => (this.drained = resolve));
    clearInterval(this.renewer);
    await this.boss.stop({ graceful: false, close: false });
  }

  /**
   * Renews the lease of every job this instance holds, one statement per queue. An attempt whose
   * lease lapsed anyway (the database was out of reach longer than a lease) is not renewed: it was
   * given back, and the row's attempt fence keeps this worker from recording over the new one.
   */
  private async renewLeases(): Promise<void> {
    for (const [queue, worker] of this.workers) {
      if (worker.held.size === 0) continue;
      try {
        await this.boss.touch(queue, [...worker.held.values()]);
      } catch (error) {
        this.logger.warn(`Could not renew the leases of ${queue} jobs: ${(error as Error).message}`);
      }
    }
  }

  /**
   * Queues a delivery attempt in the caller's transaction, to start at `startAfter`, in its org's
   * turn (fairPriority). Returns the job id.
   */
  async enqueue(
    manager: EntityManager,
    handoff: { id: string; orgId: string },
    startAfter?: Date,
  ): Promise<string> {
    const priority = await this.fairPriority(manager, handoff.orgId);
    return this.send(manager, DELIVERY_QUEUE, { handoff_id: handoff.id }, startAfter, {
      priority,
      group: { id: handoff.orgId },
    });
  }

  /**
   * The priority that puts an org's new delivery in its turn: the head of the queue (the highest
   * priority of a job due now; 0 when none is) less the org's jobs already queued. pg-boss takes
   * the highest priority first, then the oldest, so with orgs A (3,000 queued, priorities 0 … −2,999)
   * and B (none), B's next job gets the head's priority and goes right after A's next one; once A
   * and B both have backlogs, they alternate. The head is read through pg-boss's own fetch index
   * (job_i11), the org's count through handoff_delivery_queued_by_org (migration FairShareAndBudget).
   */
  private async fairPriority(manager: EntityManager, orgId: string): Promise<number> {
    const [row] = await manager.query<{ priority: number }[]>(
      `SELECT (COALESCE((SELECT max(priority) FROM ${QUEUE_SCHEMA}.job
                          WHERE name = $1 AND state < 'active' AND NOT blocked
                            AND start_after <= ${QUEUE_SCHEMA}.job_now()), 0)
             - (SELECT count(*) FROM ${QUEUE_SCHEMA}.job
                 WHERE name = $1 AND group_id = $2 AND state < 'active'))::int AS priority`,
      [DELIVERY_QUEUE, orgId],
    );
    // pg-boss's priority is a 32-bit integer; the head climbs back to 0 whenever the queue empties.
    return Math.max(row.priority, -2_147_483_647);
  }

  /** Queues a job of another queue in the caller's transaction. */
  async send<Q extends QueueName>(
    manager: EntityManager,
    queue: Q,
    data: JobData[Q],
    startAfter?: Date,
    options: { priority?: number; group?: { id: string } } = {},
  ): Promise<string> {
    const runner = manager.queryRunner;
    if (!runner) throw new Error('jobs are queued inside a transaction');
    const id = randomUUID();
    await this.boss.send(queue, data as object, {
      id,
      ...options,
      ...(startAfter ? { startAfter } : {}),
      db: {
        executeSql: async (text, values) => ({ rows: (await runner.query(text, values, true)).records }),
      },
    });
    return id;
  }

  /**
   * Jobs of each queue by state, as pg-boss's monitor pass last counted them: `ready` (due now),
   * `deferred` (a retry's later start) and `active` (held by a worker on some instance).
   */
  async depths(): Promise<{ queue: QueueName; state: 'ready' | 'deferred' | 'active'; jobs: number }[]> {
    const queues = await this.boss.getQueues([DELIVERY_QUEUE, EVENT_POST_QUEUE, MESSAGE_QUEUE]);
    return queues.flatMap((q) => [
      { queue: q.name as QueueName, state: 'ready' as const, jobs: q.readyCount },
      { queue: q.name as QueueName, state: 'deferred' as const, jobs: q.deferredCount },
      { queue: q.name as QueueName, state: 'active' as const, jobs: q.activeCount },
    ]);
  }

  /** After a commit that queued work due now: look at once instead of at the next poll. */
  wake(queue: QueueName = DELIVERY_QUEUE): void {
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
          const jobs = await this.boss.fetch<JobData[QueueName]>(queue, {
            batchSize: free,
            ...(worker.groupConcurrency ? { groupConcurrency: worker.groupConcurrency } : {}),
          });
          fetched = jobs.length;
          for (const job of jobs) this.run(queue, worker, job);
        } catch (error) {
          this.logger.warn(`Could not fetch ${queue} jobs: ${(error as Error).message}`);
        }
      }
      // A full batch: there may be more. (A batch cut short by a group's cap leaves other orgs'
      // jobs for the next look — at once when a delivery ends, which under load is soon; their
      // fair priority puts them at the top of the batch, so they are rarely the ones cut.)
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

  private run(queue: QueueName, worker: Worker<QueueName>, job: Job<JobData[QueueName]>): void {
    const jobId = job.id;
    // Settling names the attempt, so a worker whose lease lapsed cannot complete the job's next run.
    const attempt: JobAttempt = { id: job.id, retryCount: job.retryCount };
    worker.inFlight += 1;
    worker.held.set(jobId, attempt);
    const settled = worker.handler(jobId, job.data).then(
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
          await this.boss.complete(queue, attempt);
        } else {
          this.logger.warn(`${queue} job ${jobId} failed (pg-boss retries it): ${result.error.message}`);
          await this.boss.fail(queue, attempt, { message: result.error.message });
        }
      })
      .catch((error: unknown) =>
        this.logger.warn(`Could not settle ${queue} job ${jobId}: ${(error as Error).message}`),
      )
      .finally(() => {
        worker.held.delete(jobId);
        this.finishing.delete(finishing);
        if (!this.busy()) this.drained?.();
      });
    this.finishing.add(finishing);
  }
}

/**
 * Each queue's settings, written to pg-boss's queue table at start. Every job is leased
 * (heartbeatSeconds); HANDOFF_ATTEMPT_TIMEOUT bounds a job that keeps its lease but never ends.
 */
function queueSettings(config: AppConfig): Queue[] {
  const heartbeatSeconds = Math.ceil(config.handoffLeaseMs / 1000);
  const expireInSeconds = Math.ceil(config.handoffAttemptTimeoutMs / 1000);
  return [
    // Delivery attempts schedule their own retries; pg-boss retries only jobs whose worker was lost.
    {
      name: DELIVERY_QUEUE,
      retryLimit: 20,
      retryDelay: 1,
      retryBackoff: true,
      expireInSeconds,
      heartbeatSeconds,
    },
    // Posts and relayed messages: pg-boss's retries with exponential backoff from 2 s.
    {
      name: EVENT_POST_QUEUE,
      retryLimit: 12,
      retryDelay: 2,
      retryBackoff: true,
      expireInSeconds: 60,
      heartbeatSeconds,
    },
    {
      name: MESSAGE_QUEUE,
      retryLimit: config.handoffMaxAttempts,
      retryDelay: Math.max(1, Math.round(config.handoffRetryBaseMs / 1000)),
      retryBackoff: true,
      expireInSeconds,
      heartbeatSeconds,
    },
  ];
}
