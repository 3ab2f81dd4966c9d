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
//  - an interactive call (Test & Save, test, Verify now) goes first: while one waits on any
//    instance (announced with NOTIFY), every instance gives each slot that comes free back to the
//    database instead of to its own waiting deliveries, and none but the interactive call may
//    take slot 0 — so the admin has a slot within about one call's time, however long the
//    backlog; and an instance's own waiting calls are served interactive first, then deliveries,
//    then background work (the nightly sweep). Without an admin waiting, deliveries use every slot.
// A slot this instance holds goes straight to its next waiting call, without a database round
// trip, for up to HOLD_MS; then it goes back, so other instances waiting for the environment get
// their turn. A slot no call waits for stays LINGER_MS before it goes back: a delivery's next
// call (after its own database write) finds it there, so a delivery's four calls cost one
// round trip to take a slot and one to give it back, not four of each. While calls wait for an
// environment somewhere (announced at most once a second), slots given back are announced too,
// so they are taken at once rather than at the waiters' next poll.
// One concern in one file (past 350 lines): the slots an instance holds, its waiting calls, the
// pause and the announcements are one state per environment that every path reads and changes.
// Ours rather than a library's: the semaphores on PostgreSQL we found hold a session (an advisory
// lock) per permit, which a call budget of 16 per environment across thousands of environments
// cannot afford, and none knows Retry-After or an interactive call that must go first.
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
/**
 * How often calls waiting for a slot held elsewhere look again — besides at once when a slot is
 * given back anywhere (announced with NOTIFY).
 */
const POLL_MS = 50;
/** How long a slot no call waits for stays with this instance before it goes back. */
const LINGER_MS = 20;
/**
 * How long after calls here waited for a slot a slot given back is announced to every instance
 * (without contention nobody waits for it, and the announcement would only cost each instance).
 */
const CONTENDED_MS = 5000;
/** An environment this instance has not called for this long is forgotten (bounded metrics and memory). */
const IDLE_FORGET_MS = 10 * 60_000;
/** How long an interactive call's announcement holds; it is announced again while it waits. */
const WANTED_MS = 500;
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
  /** Until when calls here were seen waiting for a slot: slots given back are announced meanwhile. */
  contendedUntil: number;
  /** The slots this instance holds, with when it took each from the database. */
  held: Map<number, number>;
  /** Held slots no call uses, each until its linger ends. */
  idle: Map<number, NodeJS.Timeout>;
  inUse: number;
  waiters: Waiter[];
  pausedUntil: number;
  pauseCode: string | null;
  /** Until when an interactive call waits somewhere (announced): slots go back, slot 0 is its. */
  wantedUntil: number;
  /** When this instance last announced its own interactive call. */
  announcedAt: number;
  /** The pause this instance is storing (settled when stored, or when storing it failed). */
  storingPause: Promise<void>;
  acquiring: boolean;
  /** When a call last entered: an environment idle for IDLE_FORGET_MS is forgotten (and leaves the metrics). */
  lastEntered: number;
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
    for (const environment of this.environments.values()) {
      clearTimeout(environment.timer);
      for (const timer of environment.idle.values()) clearTimeout(timer);
      environment.idle.clear();
    }
    await this.repository
      .releaseAll(this.holder)
      .catch((error: unknown) =>
        this.logger.debug(
          `Slots not given back at shutdown (their leases lapse): ${(error as Error).message}`,
        ),
      );
  }

  /**
   * Waits for a slot of the environment (`host`, lower case) — at most until `waitUntil` (epoch
   * ms), else BudgetWaitExceeded. A paused environment whose pause outlasts the deadline answers
   * at once.
   */
  enter(host: string, priority: CallPriority, waitUntil: number): Promise<CallSlot> {
    const environment = this.environment(host);
    const enteredAt = Date.now();
    environment.lastEntered = enteredAt;
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
        contendedUntil: 0,
        held: new Map(),
        idle: new Map(),
        inUse: 0,
        waiters: [],
        pausedUntil: 0,
        pauseCode: null,
        wantedUntil: 0,
        announcedAt: 0,
        storingPause: Promise.resolve(),
        acquiring: false,
        lastEntered: Date.now(),
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
    for (const slot of [...environment.idle.keys()].sort((a, b) => a - b)) {
      if (environment.waiters.length === 0) return;
      if (this.nextWaiter(environment) === -1) break;
      clearTimeout(environment.idle.get(slot));
      environment.idle.delete(slot);
      this.give(environment, slot);
    }
    if (environment.waiters.length > 0 && !environment.acquiring) void this.acquire(environment);
  }

  private async acquire(environment: Environment): Promise<void> {
    environment.acquiring = true;
    try {
      const max = this.config.dataverseMaxConcurrency;
      // While an interactive call waits somewhere, slot 0 is its.
      const interactive = environment.waiters.some((w) => w.rank === RANK.interactive);
      const from = interactive || !this.wanted(environment) ? 0 : 1;
      const asked = environment.waiters.length;
      const take = () =>
        this.repository.acquire(
          environment.host,
          { from, to: max },
          asked,
          this.holder,
          this.config.handoffLeaseMs,
        );
      let { slots, pause, known } = await take();
      if (known < max) {
        // The environment's first call (or DATAVERSE_MAX_CONCURRENCY grew): its slots are made.
        await this.repository.ensure(environment.host, max);
        ({ slots, pause, known } = await take());
      }
      if (slots.length < asked && !pause) this.contended(environment);
      if (pause) this.paused(pause);
      if (interactive && slots.length === 0 && !pause) this.announce(environment);
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

  /**
   * The waiting call a slot of this instance goes to, or −1: the first in line, but while an
   * interactive call waits somewhere only an interactive one here (else the slot goes back for it).
   */
  private nextWaiter(environment: Environment): number {
    if (this.wanted(environment)) return environment.waiters.findIndex((w) => w.rank === RANK.interactive);
    return environment.waiters.length > 0 ? 0 : -1;
  }

  /** An interactive call waits on some instance (this one's announcement included). */
  private wanted(environment: Environment): boolean {
    return this.config.dataverseMaxConcurrency > 1 && environment.wantedUntil > Date.now();
  }

  /** This instance's interactive call has no slot: every instance yields the next that comes free. */
  private announce(environment: Environment): void {
    const now = Date.now();
    environment.wantedUntil = Math.max(environment.wantedUntil, now + WANTED_MS);
    if (now - environment.announcedAt < WANTED_MS / 2) return;
    environment.announcedAt = now;
    this.repository
      .want(environment.host)
      .catch((error: unknown) => this.warn(`ask for a call slot of ${environment.host}`, error));
  }

  /**
   * Calls here wait for slots held elsewhere: every instance (this one too) announces the slots it
   * gives back for the next CONTENDED_MS, so they look at once instead of at their next poll.
   */
  private contended(environment: Environment): void {
    const now = Date.now();
    if (environment.contendedUntil - now > CONTENDED_MS - 1000) return; // told within the last second
    environment.contendedUntil = now + CONTENDED_MS;
    this.repository
      .waiting(environment.host)
      .catch((error: unknown) => this.warn(`announce calls waiting for ${environment.host}`, error));
  }

  /** A slot of the environment was given back somewhere: calls waiting here look at once. */
  private heardFreed(host: string): void {
    const environment = this.environments.get(host);
    if (environment && environment.waiters.length > 0 && !environment.acquiring) this.serve(environment);
  }

  /** Another instance's interactive call waits: slots this instance does not use go back now. */
  private heardWanted(host: string): void {
    const environment = this.environment(host);
    environment.wantedUntil = Math.max(environment.wantedUntil, Date.now() + WANTED_MS);
    for (const [slot, timer] of environment.idle) {
      if (this.nextWaiter(environment) !== -1) continue;
      clearTimeout(timer);
      environment.idle.delete(slot);
      this.release(environment, slot);
    }
  }

  /**
   * A held slot to the first waiting call that may have it. With none: kept LINGER_MS for this
   * instance's next call, or back to the database when it has served long enough or a pause began.
   */
  private give(environment: Environment, slot: number): void {
    const at = this.nextWaiter(environment);
    if (at === -1 || this.stopped) {
      const takenAt = environment.held.get(slot) ?? 0;
      const paused = environment.pausedUntil > Date.now();
      if (this.stopped || paused || this.wanted(environment) || Date.now() - takenAt >= HOLD_MS) {
        this.release(environment, slot);
      } else {
        environment.idle.set(
          slot,
          setTimeout(() => {
            environment.idle.delete(slot);
            this.release(environment, slot);
          }, LINGER_MS),
        );
      }
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
    if (!paused && Date.now() - takenAt < HOLD_MS) {
      this.give(environment, slot);
    } else {
      this.release(environment, slot);
      if (environment.waiters.length > 0) this.serve(environment);
    }
  }

  /**
   * A slot back to every instance — after the pause this instance is storing, if any: a slot
   * given back before its pause is stored could be taken by another instance that has not heard
   * of the pause yet.
   */
  private release(environment: Environment, slot: number): void {
    environment.held.delete(slot);
    const announce = environment.contendedUntil > Date.now() || this.wanted(environment);
    void environment.storingPause
      .then(() => this.repository.release(environment.host, [slot], this.holder, announce))
      .catch((error: unknown) => this.warn(`give back a call slot of ${environment.host}`, error));
  }

  /** A 429 with Retry-After: this instance stops at once; every other one when it hears the pause. */
  private throttled(
    environment: Environment,
    throttled: { retryAfterMs: number; code: string | null },
  ): void {
    this.metrics.throttled(environment.host, throttled.retryAfterMs);
    this.paused({ environment: environment.host, remainingMs: throttled.retryAfterMs, code: throttled.code });
    environment.storingPause = this.repository
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
      this.forgetIdle();
      for (const environment of this.environments.values()) {
        for (const slot of environment.held.keys()) {
          if (kept.has(`${environment.host} ${slot}`)) continue;
          environment.held.delete(slot);
          clearTimeout(environment.idle.get(slot));
          environment.idle.delete(slot);
        }
      }
      // A pause announced while the listening connection was down is read here.
      await this.refreshPauses();
      await this.repository.forgetEndedPauses();
    } catch (error) {
      this.warn('renew its call slots', error);
    }
  }

  /** Environments with nothing held, waiting or paused, not called for IDLE_FORGET_MS. */
  private forgetIdle(): void {
    const now = Date.now();
    for (const [host, environment] of this.environments) {
      const idle =
        environment.held.size === 0 &&
        environment.waiters.length === 0 &&
        environment.inUse === 0 &&
        environment.pausedUntil < now &&
        now - environment.lastEntered > IDLE_FORGET_MS;
      if (idle) this.environments.delete(host);
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
        (host) => this.heardWanted(host),
        (host) => this.heardFreed(host),
        (host) => {
          this.environment(host).contendedUntil = Date.now() + CONTENDED_MS;
        },
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
