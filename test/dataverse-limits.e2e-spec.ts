// Limits and fairness (DESIGN.md §14) with three instances on one database, against the sandbox
// enforcing Dataverse's service protection limits scaled down: the concurrency limit at
// DATAVERSE_MAX_CONCURRENCY, 50–100 ms per call.
import { randomBytes } from 'node:crypto';
import type { Environment } from '../sandbox/model.js';
import { startTestApp, TestApp } from './support/app.js';
import { eventually } from './support/eventually.js';
import {
  connect,
  countRows,
  HANDOFF_TEST_ENV,
  handoffBody,
  submit,
  waitForState,
} from './support/handoff.js';
import { call, credentialsOf } from './support/integration.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

const MAX = 4;

describe('Dataverse limits and fair share across three instances', () => {
  let ms: MicrosoftWorld;
  let quietEnvironment: Environment;
  let instances: TestApp[];

  beforeAll(async () => {
    ms = await startMicrosoft();
    // The quiet org has an environment of its own, as the trickling orgs of the benchmark do.
    quietEnvironment = await ms.sandbox.addEnvironment({ name: 'quiet', tenantId: ms.tenant.id });
    ms.sandbox.model.addApplicationUser('quiet', { clientId: ms.app.clientId, privileges: 'all' });
    for (const environment of [ms.environment, quietEnvironment]) {
      environment.limits = { ...environment.limits, concurrentRequests: MAX };
    }
    const shared = {
      ...ms.env,
      ...HANDOFF_TEST_ENV,
      DYNAMICS_ALLOWED_ORIGINS: `${ms.environment.origin},${quietEnvironment.origin}`,
      HANDOFF_CONCURRENCY: '8',
      HANDOFF_ATTEMPT_TIMEOUT: '60s',
      DATAVERSE_MAX_CONCURRENCY: String(MAX),
      HANDOFF_RATE_LIMIT_PER_MINUTE: '10000',
      ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    };
    const first = await startTestApp({ env: shared });
    instances = [
      first,
      await startTestApp({ env: shared, databaseUrl: first.databaseUrl }),
      await startTestApp({ env: shared, databaseUrl: first.databaseUrl }),
    ];
    await connect(first, ms, 'burst');
    await connect(first, ms, 'quiet', { environment_url: quietEnvironment.origin });
  });
  afterAll(async () => {
    await Promise.all(instances.map((t) => t.close()));
    await ms.sandbox.close();
  });
  beforeEach(() => {
    ms.environment.usage.clear();
    quietEnvironment.usage.clear();
  });

  /** Submits `count` handoffs of the org, spread over the three instances. */
  async function burst(
    org: string,
    count: number,
    prefix: string,
  ): Promise<{ token: string; sessions: string[] }> {
    const token = await instances[0].token({ org, roles: ['handoff'] });
    const sessions = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    const answers = await Promise.all(
      sessions.map((session, i) => submit(instances[i % 3], token, handoffBody(session))),
    );
    expect(answers.map((a) => a.status)).toEqual(sessions.map(() => 202));
    return { token, sessions };
  }

  /** How many of the sessions are delivered. */
  async function delivered(_token: string, sessions: string[]): Promise<number> {
    return countRows(
      instances[0].databaseUrl,
      "SELECT count(*)::int AS n FROM handoffs WHERE state = 'delivered' AND session_id = ANY($1)",
      [sessions],
    );
  }

  const usageOf = (environment: Environment) => environment.usage.get(ms.app.clientId)!;

  it('keeps the three instances together within DATAVERSE_MAX_CONCURRENCY calls: Dataverse never refuses one for concurrency', async () => {
    ms.environment.latencyMs = 50;
    const { token, sessions } = await burst('burst', 45, 'bound');
    for (const session of sessions) await waitForState(instances[0], token, session, ['delivered'], 60_000);
    const usage = usageOf(ms.environment);
    // 3 instances × 8 workers would put 24 calls in flight; the budget allows 4.
    expect(usage.throttled).toBe(0);
    expect(usage.peakInFlight).toBeLessThanOrEqual(MAX);
    // Each instance shows its calls in flight by environment host, never by org.
    const metrics = await (await instances[1].request('/metrics')).text();
    const host = new URL(ms.environment.origin).host;
    expect(metrics).toContain(`dynamics365_dataverse_calls_in_flight{environment="${host}"}`);
    expect(metrics).not.toMatch(/dynamics365_dataverse_[a-z_]+\{[^}]*org/);
    // Queue depth by state, from pg-boss's count.
    await eventually(
      async () =>
        /dynamics365_queue_jobs\{queue="handoff-delivery",state="active"\} \d+/.test(
          await (await instances[1].request('/metrics')).text(),
        ),
      'the queue depth gauge',
    );
  });

  it('a 429 from one call pauses every instance’s calls to that environment until its Retry-After', async () => {
    ms.environment.latencyMs = 50;
    const { token, sessions } = await burst('burst', 30, 'pause');
    await eventually(async () => (await delivered(token, sessions)) >= 3, 'the first deliveries');
    const mark = ms.mark();
    ms.environment.fault = { status: 429, retryAfter: 2, code: '0x80072322', count: 1 };
    for (const session of sessions) await waitForState(instances[0], token, session, ['delivered'], 60_000);
    const calls = mark().filter((r) => r.server === 'dataverse' && r.origin === ms.environment.origin);
    const refused = calls.find((r) => r.status === 429)!;
    expect(refused).toBeDefined();
    const refusedAt = Date.parse(refused.at);
    // Calls already on their way when the 429 was answered may still arrive; after that, none
    // from any instance until Retry-After has passed.
    const during = calls.filter((r) => {
      const at = Date.parse(r.at);
      return at > refusedAt + 150 && at < refusedAt + 2000;
    });
    expect(during).toEqual([]);
    expect(calls.filter((r) => Date.parse(r.at) >= refusedAt + 2000).length).toBeGreaterThan(0);
    expect(usageOf(ms.environment).throttled).toBe(0);
    const metrics = (
      await Promise.all(instances.map(async (t) => (await t.request('/metrics')).text()))
    ).join('\n');
    expect(metrics).toMatch(/dynamics365_dataverse_throttled_seconds_total\{environment="[^"]+"\} 2/);
  });

  it('serves orgs in turn: another org’s handoff waits for about one delivery, not for a backlog', async () => {
    ms.environment.latencyMs = 100;
    quietEnvironment.latencyMs = 100;
    const backlog = await burst('burst', 60, 'backlog');
    const quiet = await burst('quiet', 1, 'quiet');
    await waitForState(instances[0], quiet.token, quiet.sessions[0], ['delivered'], 30_000);
    // Four calls in flight at 100 ms each: about 8 deliveries a second for the bursting org, so
    // most of its 60 are still waiting when the quiet org's one is done.
    expect(await delivered(backlog.token, backlog.sessions)).toBeLessThan(30);
    for (const session of backlog.sessions) {
      await waitForState(instances[0], backlog.token, session, ['delivered'], 60_000);
    }
    expect(usageOf(ms.environment).throttled).toBe(0);
  });

  it('Test & Save goes through during a backlog on the same environment: it takes the next slot that comes free', async () => {
    ms.environment.latencyMs = 100;
    const backlog = await burst('burst', 40, 'admin');
    await eventually(
      async () => (await delivered(backlog.token, backlog.sessions)) >= 1,
      'the first delivery',
    );
    const adminToken = await instances[2].token({ org: 'burst' });
    const tested = await call(
      instances[2],
      'POST',
      '/api/v1/integrations/dynamics365/test',
      adminToken,
      credentialsOf(ms),
    );
    expect(tested.status).toBe(200);
    expect((tested.body as { ok: boolean }).ok).toBe(true);
    expect(await delivered(backlog.token, backlog.sessions)).toBeLessThan(40);
    for (const session of backlog.sessions) {
      await waitForState(instances[0], backlog.token, session, ['delivered'], 60_000);
    }
    expect(usageOf(ms.environment).throttled).toBe(0);
    expect(usageOf(ms.environment).peakInFlight).toBeLessThanOrEqual(MAX);
  });
});
