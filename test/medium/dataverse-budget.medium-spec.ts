// The Dataverse call budget on the real embedded PostgreSQL with the real migrations, as several
// instances see it (one DataverseBudget each, one database): the cluster-wide bound, the slot kept
// for interactive calls, leases a crashed instance cannot leak, and the shared pause after a 429.
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../src/config/app-config.js';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { BudgetWaitExceeded, DataverseBudget } from '../../src/limits/dataverse-budget.js';
import { DataverseBudgetRepository } from '../../src/limits/dataverse-budget.repository.js';
import { LimitsMetrics } from '../../src/limits/limits.metrics.js';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { createTestDatabase } from '../support/database.js';
import { eventually } from '../support/eventually.js';

const MAX = 4;

describe('DataverseBudget on PostgreSQL, several instances', () => {
  let dataSource: DataSource;
  const started: DataverseBudget[] = [];

  beforeAll(async () => {
    dataSource = new DataSource(dataSourceOptions(await createTestDatabase('medium_budget')));
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((b) => b.beforeApplicationShutdown()));
  });
  afterAll(() => dataSource.destroy());

  /** One instance's budget. */
  async function instance(leaseMs = 15_000): Promise<DataverseBudget> {
    const config = { dataverseMaxConcurrency: MAX, handoffLeaseMs: leaseMs } as AppConfig;
    const budget = new DataverseBudget(
      config,
      new DataverseBudgetRepository(dataSource),
      new LimitsMetrics(new MetricsService({} as AppConfig)),
    );
    await budget.onApplicationBootstrap();
    started.push(budget);
    return budget;
  }

  const host = () => `${randomUUID()}.crm.dynamics.com`;
  const soon = (ms = 10_000) => Date.now() + ms;
  /** Whether a promise settled yet. */
  async function settled(promise: Promise<unknown>): Promise<boolean> {
    let done = false;
    void promise.then(
      () => (done = true),
      () => (done = true),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    return done;
  }

  it('holds at most DATAVERSE_MAX_CONCURRENCY calls in flight across instances; an interactive call takes the next slot that comes free', async () => {
    const [a, b] = [await instance(), await instance()];
    const env = host();
    const held3 = await Promise.all([
      a.enter(env, 'delivery', soon()),
      a.enter(env, 'delivery', soon()),
      a.enter(env, 'delivery', soon()),
    ]);
    const onB = await b.enter(env, 'delivery', soon());
    expect(await held(env)).toBe(MAX);
    // Every slot is taken: another delivery waits on b …
    const waiting = b.enter(env, 'delivery', soon());
    expect(await settled(waiting)).toBe(false);
    // … and so does Test & Save on a, which tells every instance.
    const interactive = a.enter(env, 'interactive', soon());
    expect(await settled(interactive)).toBe(false);
    // b's slot comes free: it goes to a's interactive call, not to b's own waiting delivery.
    onB.leave();
    const admin = await interactive;
    expect(await settled(waiting)).toBe(false);
    expect(await held(env)).toBe(MAX);
    // With every slot taken again, an interactive call that cannot wait is answered at its deadline.
    await expect(b.enter(env, 'interactive', soon(300))).rejects.toBeInstanceOf(BudgetWaitExceeded);
    admin.leave();
    const served = await waiting;
    for (const slot of [served, ...held3]) slot.leave();
    await eventually(async () => (await held(env)) === 0, 'every slot given back');
  });

  it('serves an instance’s waiting calls interactive first, then deliveries, then background work', async () => {
    const a = await instance();
    const env = host();
    const slots = await Promise.all(Array.from({ length: MAX - 1 }, () => a.enter(env, 'delivery', soon())));
    const order: string[] = [];
    const background = a.enter(env, 'background', soon()).then((s) => (order.push('background'), s));
    const delivery = a.enter(env, 'delivery', soon()).then((s) => (order.push('delivery'), s));
    expect(await settled(background)).toBe(false);
    slots[0].leave();
    slots[1].leave();
    for (const slot of [await delivery, await background, slots[2]]) slot.leave();
    expect(order).toEqual(['delivery', 'background']);
  });

  it('takes back the slots of an instance that stopped without giving them back, once their leases lapse', async () => {
    const env = host();
    const a = await instance();
    const crashed = randomUUID();
    await dataSource.query(
      `INSERT INTO dataverse_call_slots (environment, slot, holder, lease_until)
       SELECT $1, s, $2, clock_timestamp() + interval '1.5 seconds' FROM generate_series(0, $3 - 1) s`,
      [env, crashed, MAX],
    );
    await expect(a.enter(env, 'delivery', soon(300))).rejects.toThrow(/No call slot for .* came free/);
    const taken = await a.enter(env, 'delivery', soon());
    const [{ n }] = await dataSource.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM dataverse_call_slots WHERE environment = $1 AND holder = $2',
      [env, crashed],
    );
    expect(n).toBe(MAX - 1);
    taken.leave();
  });

  it('a 429 on one instance pauses every instance until its Retry-After, and answers calls that cannot wait that long at once', async () => {
    const [a, b] = [await instance(), await instance()];
    const env = host();
    // Every slot is taken (three by b, one by a) and b has one more delivery waiting.
    const slots = await Promise.all(Array.from({ length: MAX - 1 }, () => b.enter(env, 'delivery', soon())));
    const admin = await a.enter(env, 'interactive', soon());
    const waiting = b.enter(env, 'delivery', soon());
    const throttledAt = Date.now();
    admin.leave({ retryAfterMs: 1500, code: '0x80072322' });
    await eventually(() => paused(env), 'the pause stored');
    await new Promise((resolve) => setTimeout(resolve, 100)); // b hears it (NOTIFY, or its next look at the table)
    // b's slot is not handed to its waiting delivery during the pause …
    slots[0].leave();
    // … a call that cannot wait for the end is answered at once, with Dataverse's code …
    const refused = b.enter(env, 'interactive', Date.now() + 500);
    await expect(refused).rejects.toBeInstanceOf(BudgetWaitExceeded);
    await expect(refused).rejects.toMatchObject({ pause: { code: '0x80072322' } });
    await expect(refused).rejects.toThrow(/HTTP 429, 0x80072322/);
    // … and the waiting one is served when the pause is over, not before.
    const served = await waiting;
    expect(Date.now() - throttledAt).toBeGreaterThanOrEqual(1450);
    for (const slot of [served, ...slots.slice(1)]) slot.leave();
    // An instance started later reads the pause from the table.
    const again = await a.enter(env, 'delivery', soon());
    again.leave({ retryAfterMs: 60_000, code: '0x80072321' });
    await eventually(() => paused(env), 'the pause stored');
    const c = await instance();
    await expect(c.enter(env, 'delivery', soon(1000))).rejects.toMatchObject({
      pause: { code: '0x80072321' },
    });
  });

  async function paused(env: string): Promise<boolean> {
    const rows = await dataSource.query<unknown[]>(
      'SELECT 1 FROM dataverse_environment_pauses WHERE environment = $1 AND paused_until > clock_timestamp()',
      [env],
    );
    return rows.length > 0;
  }

  async function held(env: string): Promise<number> {
    const [{ n }] = await dataSource.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM dataverse_call_slots WHERE environment = $1 AND holder IS NOT NULL',
      [env],
    );
    return n;
  }
});
