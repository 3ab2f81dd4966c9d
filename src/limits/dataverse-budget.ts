// The call budget of each Dataverse environment, all instances together (DESIGN.md §14).
// Dataverse limits each application user to 52 concurrent requests, 6,000 requests and 20 minutes
// of execution time per 5 minutes, and every caller of the environment — this service's
// deliveries, verifications, sweeps and readiness checks on every instance, and the customer's own
// users and flows — shares that. So:
//  - at most DATAVERSE_MAX_CONCURRENCY calls are in flight per environment host, cluster-wide:
//    each call holds one of the environment's slots (rows of dataverse_call_slots, leased, the
//    lease renewed while the instance lives, so a crashed instance's slots come free when their
//    leases lapse);
//  - a 429 from any call pauses every instance's calls to the environment until its Retry-After
//    (dataverse_environment_pauses, announced with NOTIFY);
//  - slot 0 is kept for interactive calls (Test & Save, test, Verify now): a backlog of deliveries
//    never makes an admin wait; and an instance's waiting calls are served interactive first,
//    then deliveries, then background work (the nightly sweep).
// A slot this instance holds goes straight to its next waiting call, without a database round
// trip, for up to HOLD_MS; then it goes back, so other instances waiting for the environment get
// their turn.
import { randomUUID } from 'node:crypto';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { AppConfig } from '../config/app-config.js';
import type { CallPriority } from './call-priority.js';
import { DataverseBudgetRepository, Pause } from './dataverse-budget.repository.js';
import { LimitsMetrics } from './limits.metrics.js';

const RANK: Record<CallPriority, number> = { interactive: 0, delivery: 1, background: 2 };

/** How long a slot serves this instance's waiting calls before it goes back to every instance. */
const HOLD_MS = 1000;
/** How often calls waiting for a slot held elsewhere look again. */
const POLL_MS = 25;
const RECONNECT_MS = 1000;

/** No slot came free (or the environment stayed paused) before the call's deadline. */
export class BudgetWaitExceeded extends Error {
  constructor(
    readonly environment: string,
    readonly waitedMs: number,
    /** The pause that kept the call waiting, when one did. */
    readonly pause: { remainingMs: number; code: string | null } | null,
  ) {
    super(
      pause
        ? `Dataverse asked that ${environment} not be called for ${Math.ceil(pause.remainingMs / 1000)} s more (HTTP 429${pause.code ? `, ${pause.code}` : ''}).`
        : `No call slot for ${environment} came free within ${Math.round(waitedMs)} ms (DATAVERSE_MAX_CONCURRENCY calls are in flight).`,
    );
    this.name = 'BudgetWaitExceeded';
  }
}

/** A call's slot: give it back with what the call's answer said about throttling. */
export interface CallSlot {
  leave(throttled?: { retryAfterMs: number; code: string | null }): void;
}

interface Waiter {
  rank: number;
  enteredAt: number;
  deadline: number;
  resolve: (slot: number) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** This instance's view of one environment. */
interface Environment {
  host: string;
  ensured: boolean;
  /** The slots this instance holds, with when it took each from the database. */
  held: Map<number, number>;
  inUse: number;
  waiters: Waiter[];
  pausedUntil: number;
  pauseCode: string | null;
  acquiring: boolean;
  timer?: NodeJS.Timeout;
}

@Injectable()
export class DataverseBudget implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DataverseBudget.name);
  /** This instance, as the holder of its slots. */
  private readonly holder = randomUUID();
  private readonly environments = new Map<string, Environment>();
  private renewer?: NodeJS.Timeout;
  private listener?: PoolClient;
  private reconnect?: NodeJS.Timeout;
  private stopped = false;
  private lastWarning = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly repository: DataverseBudgetRepository,
    private readonly metrics: LimitsMetrics,
  ) {
    metrics.observe(() =>
      [...this.environments.values()].map((e) => ({
        environment: e.host,
        inFlight: e.inUse,
      })),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.listen();
    await this.refreshPauses().catch((error: unknown) => this.warn('read the pauses', error));
    this.renewer = setInterval(() => void this.renew(), this.config.handoffLeaseMs / 3);
    this.renewer.unref();
  }

  /** After every module stopped its work: this instance's slots come free at once, not at lease end. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.renewer);
    clearTimeout(this.reconnect);
    this.listener?.release();
    this.listener = undefined;
    for (const environment of this.environments.values()) clearTimeout(environment.timer);
    await this.repository
      .releaseAll(this.holder)
      .catch((error: unknown) => this.warn('give back its call slots', error));
  }

  /**
   * Waits for a slot of the environment (`host`, lower case) — at most until `waitUntil` (epoch
   * ms), else BudgetWaitExceeded. A paused environment whose pause outlasts the deadline answers
   * at once.
   */
  enter(host: string, priority: CallPriority, waitUntil: number): Promise<CallSlot> {
    const environment = this.environment(host);
    const enteredAt = Date.now();
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        rank: RANK[priority],
        enteredAt,
        deadline: waitUntil,
        resolve,
        reject,
        timer: setTimeout(() => this.giveUp(environment, waiter), Math.max(0, waitUntil - enteredAt)),
      };
      // In order of rank, then of arrival.
      const at = environment.waiters.findIndex((w) => w.rank > waiter.rank);
      environment.waiters.splice(at === -1 ? environment.waiters.length : at, 0, waiter);
      this.serve(environment);
    }).then((slot) => {
      this.metrics.waited(priority, Date.now() - enteredAt);
      let left = false;
      return {
        leave: (throttled) => {
          if (left) return;
          left = true;
          this.leave(environment, slot, throttled);
        },
      };
    });
  }

  private environment(host: string): Environment {
    let environment = this.environments.get(host);
    if (!environment) {
      environment = {
        host,
        ensured: false,
        held: new Map(),
        inUse: 0,
        waiters: [],
        pausedUntil: 0,
        pauseCode: null,
        acquiring: false,
      };
      this.environments.set(host, environment);
    }
    return environment;
  }

  private giveUp(environment: Environment, waiter: Waiter): void {
    const at = environment.waiters.indexOf(waiter);
    if (at === -1) return;
    environment.waiters.splice(at, 1);
    const remainingMs = environment.pausedUntil - Date.now();
    waiter.reject(
      new BudgetWaitExceeded(
        environment.host,
        Date.now() - waiter.enteredAt,
        remainingMs > 0 ? { remainingMs, code: environment.pauseCode } : null,
      ),
    );
  }

  /** Serves the waiting calls: from a pause's end, or with slots from the database. */
  private serve(environment: Environment): void {
    clearTimeout(environment.timer);
    environment.timer = undefined;
    if (environment.waiters.length === 0 || this.stopped) return;
    const pausedFor = environment.pausedUntil - Date.now();
    if (pausedFor > 0) {
      // Calls whose deadline comes before the pause ends are answered now, not at their deadline.
      for (const waiter of [...environment.waiters]) {
        if (waiter.deadline < environment.pausedUntil) {
          clearTimeout(waiter.timer);
          this.giveUp(environment, waiter);
        }
      }
      if (environment.waiters.length > 0) {
        environment.timer = setTimeout(() => this.serve(environment), pausedFor);
      }
      return;
    }
    if (!environment.acquiring) void this.acquire(environment);
  }

  private async acquire(environment: Environment): Promise<void> {
    environment.acquiring = true;
    try {
      const max = this.config.dataverseMaxConcurrency;
      if (!environment.ensured) {
        await this.repository.ensure(environment.host, max);
        environment.ensured = true;
      }
      // Slot 0 is for interactive calls only (unless the budget is a single call).
      const interactive = environment.waiters.some((w) => w.rank === RANK.interactive);
      const from = interactive || max === 1 ? 0 : 1;
      const { slots, pause } = await this.repository.acquire(
        environment.host,
        { from, to: max },
        environment.waiters.length,
        this.holder,
        this.config.handoffLeaseMs,
      );
      if (pause) this.paused(pause);
      const now = Date.now();
      // Slot 0 first, so it goes to an interactive call.
      for (const slot of slots.sort((a, b) => a - b)) {
        environment.held.set(slot, now);
        this.give(environment, slot);
      }
    } catch (error) {
      this.warn(`take call slots for ${environment.host}`, error);
    } finally {
      environment.acquiring = false;
    }
    if (environment.waiters.length === 0 || this.stopped) return;
    const pausedFor = environment.pausedUntil - Date.now();
    if (pausedFor > 0) this.serve(environment);
    else environment.timer ??= setTimeout(() => this.serve(environment), POLL_MS);
  }

  /** A held slot to the first waiting call that may have it; back to the database when none may. */
  private give(environment: Environment, slot: number): void {
    const reserved = slot === 0 && this.config.dataverseMaxConcurrency > 1;
    const at = environment.waiters.findIndex((w) => !reserved || w.rank === RANK.interactive);
    if (at === -1 || this.stopped) {
      this.release(environment, slot);
      return;
    }
    const [waiter] = environment.waiters.splice(at, 1);
    clearTimeout(waiter.timer);
    environment.inUse += 1;
    waiter.resolve(slot);
  }

  private leave(
    environment: Environment,
    slot: number,
    throttled?: { retryAfterMs: number; code: string | null },
  ): void {
    environment.inUse -= 1;
    if (throttled) this.throttled(environment, throttled);
    const takenAt = environment.held.get(slot);
    if (takenAt === undefined) return; // its lease lapsed and another instance took it: not ours to give
    const paused = environment.pausedUntil > Date.now();
    if (!paused && environment.waiters.length > 0 && Date.now() - takenAt < HOLD_MS) {
      this.give(environment, slot);
    } else {
      this.release(environment, slot);
      if (environment.waiters.length > 0) this.serve(environment);
    }
  }

  private release(environment: Environment, slot: number): void {
    environment.held.delete(slot);
    this.repository
      .release(environment.host, [slot], this.holder)
      .catch((error: unknown) => this.warn(`give back a call slot of ${environment.host}`, error));
  }

  /** A 429 with Retry-After: this instance stops at once; every other one when it hears the pause. */
  private throttled(
    environment: Environment,
    throttled: { retryAfterMs: number; code: string | null },
  ): void {
    this.metrics.throttled(environment.host, throttled.retryAfterMs);
    this.paused({ environment: environment.host, remainingMs: throttled.retryAfterMs, code: throttled.code });
    this.repository
      .pause(environment.host, throttled.retryAfterMs, throttled.code)
      .catch((error: unknown) => this.warn(`share the pause of ${environment.host}`, error));
  }

  private paused(pause: Pause): void {
    const environment = this.environment(pause.environment);
    const until = Date.now() + pause.remainingMs;
    if (until <= environment.pausedUntil) return;
    environment.pausedUntil = until;
    environment.pauseCode = pause.code;
    if (environment.waiters.length > 0) this.serve(environment);
  }

  /** Keeps this instance's leases; a slot that lapsed and was taken elsewhere is no longer ours. */
  private async renew(): Promise<void> {
    try {
      const kept = new Set(
        (await this.repository.renew(this.holder, this.config.handoffLeaseMs)).map(
          (r) => `${r.environment} ${r.slot}`,
        ),
      );
      for (const environment of this.environments.values()) {
        for (const slot of environment.held.keys()) {
          if (!kept.has(`${environment.host} ${slot}`)) environment.held.delete(slot);
        }
      }
      // A pause announced while the listening connection was down is read here.
      await this.refreshPauses();
      await this.repository.forgetEndedPauses();
    } catch (error) {
      this.warn('renew its call slots', error);
    }
  }

  private async refreshPauses(): Promise<void> {
    for (const pause of await this.repository.activePauses()) this.paused(pause);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    try {
      this.listener = await this.repository.listen(
        (pause) => this.paused(pause),
        (client, error) => this.lost(client, error),
      );
    } catch (error) {
      this.warn('listen for Dataverse pauses', error);
      this.reconnect = setTimeout(() => void this.listen(), RECONNECT_MS);
    }
  }

  private lost(client: PoolClient, error: Error): void {
    if (this.listener !== client) return;
    this.logger.warn(`Lost the Dataverse pauses connection: ${error.message}; reconnecting`);
    this.listener = undefined;
    client.release(error);
    this.reconnect = setTimeout(() => void this.listen(), RECONNECT_MS);
  }

  /** At most one warning a second: a database outage must not flood the log. */
  private warn(what: string, error: unknown): void {
    if (Date.now() - this.lastWarning < 1000) return;
    this.lastWarning = Date.now();
    this.logger.warn(`Could not ${what}: ${(error as Error).message}`);
  }
}
