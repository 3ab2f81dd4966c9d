import { randomBytes } from 'node:crypto';
import { startTestApp, TestApp } from './support/app.js';
import { connect, HANDOFF_TEST_ENV, handoffBody, records, submit, waitForState } from './support/handoff.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

describe('Handoffs on two instances sharing one database', () => {
  let ms: MicrosoftWorld;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    ms = await startMicrosoft();
    // The same keys on both, as instances of one deployment have.
    const shared = {
      ...ms.env,
      ...HANDOFF_TEST_ENV,
      HANDOFF_CONCURRENCY: '4',
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    };
    a = await startTestApp({ env: shared });
    b = await startTestApp({ env: shared, databaseUrl: a.databaseUrl });
    await connect(a, ms, 'acme');
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await ms.sandbox.close();
  });

  it('delivers 50 handoffs submitted to either instance: 50 cases, 50 notes, no duplicates, work shared', async () => {
    ms.environment.latencyMs = 20;
    const before = { ...ms.environment.creates };
    const token = await a.token({ org: 'acme', roles: ['handoff'] });
    const sessions = Array.from({ length: 50 }, (_, i) => `multi-${i}`);
    const accepted = await Promise.all(
      sessions.map((session, i) =>
        submit(i % 2 ? a : b, token, handoffBody(session, { customer: { email: `c${i % 10}@example.com` } })),
      ),
    );
    expect(accepted.map((r) => r.status)).toEqual(sessions.map(() => 202));
    // Submitting the same sessions again to the other instance: the same documents, nothing new.
    const again = await Promise.all(
      sessions
        .slice(0, 10)
        .map((session, i) =>
          submit(
            i % 2 ? b : a,
            token,
            handoffBody(session, { customer: { email: `c${i % 10}@example.com` } }),
          ),
        ),
    );
    expect(again.map((r) => r.status)).toEqual(sessions.slice(0, 10).map(() => 200));

    const docs = await Promise.all(
      sessions.map((session) => waitForState(a, token, session, ['delivered'], 60_000)),
    );
    expect(ms.environment.creates.incidents - before.incidents).toBe(50);
    expect(ms.environment.creates.annotations - before.annotations).toBe(50);
    // Ten distinct customers: ten contacts, however the deliveries interleaved.
    expect(ms.environment.creates.contacts - before.contacts).toBe(10);
    expect(new Set(docs.map((d) => d.dynamics.incident_id)).size).toBe(50);
    expect(new Set(docs.map((d) => d.dynamics.ticket_number)).size).toBe(50);
    const titles = records(ms, 'incidents').filter((r) => docs.some((d) => d.dynamics.incident_id === r.id));
    expect(titles).toHaveLength(50);
    // Each instance counts what it delivered (its own metrics registry).
    const deliveredBy = async (t: TestApp) => {
      const text = await (await t.request('/metrics')).text();
      return Number(
        /dynamics365_handoffs_total\{route="incident",outcome="delivered"\} (\d+)/.exec(text)?.[1] ?? 0,
      );
    };
    const [byA, byB] = [await deliveredBy(a), await deliveredBy(b)];
    expect(byA + byB).toBe(50);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
  });
});
