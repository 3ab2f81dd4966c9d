import { Writable } from 'node:stream';
import { loadConfig } from '../src/config/app-config.js';
import { SchedulerRegistry } from '@nestjs/schedule';
import { RevalidationRepository } from '../src/revalidation/revalidation.repository.js';
import { RevalidationScheduler } from '../src/revalidation/revalidation.scheduler.js';
import { RevalidationService } from '../src/revalidation/revalidation.service.js';
import { runOneSweep } from '../src/revalidation/run-once.js';
import { startTestApp, testEnv, TestApp } from './support/app.js';
import { createTestDatabase, withClient } from './support/database.js';
import { auditEvents, call, credentialsOf, PATH } from './support/integration.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

const FAST = {
  REVALIDATION_RETRIES: '1',
  REVALIDATION_RETRY_BASE_MS: '50',
  UPSTREAM_TIMEOUT_MS: '600',
  REVALIDATION_CONCURRENCY: '4',
  VERIFY_RATE_LIMIT_PER_MINUTE: '10000',
  REVALIDATION_CRON: 'off',
};

async function connect(
  t: TestApp,
  ms: MicrosoftWorld,
  org: string,
  environmentOrigin = ms.environment.origin,
) {
  const { app, secret } = ms.addApp({ name: org });
  for (const env of ms.sandbox.model.environments.values()) {
    if (env.name !== 'contoso' && env.origin === environmentOrigin)
      ms.sandbox.model.addApplicationUser(env.name, { clientId: app.clientId });
  }
  const saved = await call(
    t,
    'PUT',
    PATH,
    await t.token({ org }),
    credentialsOf(ms, {
      client_id: app.clientId,
      client_secret: secret.value,
      environment_url: environmentOrigin,
    }),
  );
  expect([org, saved.status]).toEqual([org, 200]);
  return { app, secret };
}

const sweep = (t: TestApp) => t.app.get(RevalidationService).sweep('manual');
const statusOf = async (t: TestApp, org: string) => (await call(t, 'GET', PATH, await t.token({ org }))).body;

describe('nightly re-verification', () => {
  let ms: MicrosoftWorld;
  let t: TestApp;
  const extra: Record<string, string> = {};

  beforeAll(async () => {
    ms = await startMicrosoft();
    for (const name of ['down', 'hang', 'throttled']) {
      extra[name] = (await ms.sandbox.addEnvironment({ name, tenantId: ms.tenant.id })).origin;
    }
    t = await startTestApp({
      env: {
        ...ms.env,
        ...FAST,
        DYNAMICS_ALLOWED_ORIGINS: [ms.environment.origin, ...Object.values(extra)].join(','),
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await ms.sandbox.close();
  });

  it('sweeps orgs in every state, telling outages from bad credentials', async () => {
    await connect(t, ms, 'healthy');
    const revoked = await connect(t, ms, 'revoked');
    const expired = await connect(t, ms, 'expired');
    const noUser = await connect(t, ms, 'no-user');
    const noPrivilege = await connect(t, ms, 'no-privilege');
    await connect(t, ms, 'down', extra.down);
    await connect(t, ms, 'hang', extra.hang);
    await connect(t, ms, 'throttled', extra.throttled);

    ms.sandbox.model.revokeSecret(ms.tenant.id, revoked.app.clientId, revoked.secret.id);
    expired.secret.expiresAt = new Date(Date.now() - 1000);
    ms.sandbox.model.removeApplicationUser('contoso', noUser.app.clientId);
    ms.sandbox.model.applicationUser('contoso', noPrivilege.app.clientId).privileges = new Set([
      'prvReadContact',
    ]);
    ms.sandbox.model.environment('down').fault = { status: 503 };
    ms.sandbox.model.environment('hang').fault = { hang: true };
    ms.sandbox.model.environment('throttled').fault = { status: 429, retryAfter: 1, count: 1 };

    const summary = await sweep(t);
    expect(summary).toMatchObject({
      checked: 8,
      ok: 2,
      rejected: 4,
      unreachable: 2,
      errors: 0,
      status_changes: 4,
      transitions: { 'active->invalid': 4 },
    });

    const expectations: [string, string, string, string | null][] = [
      ['healthy', 'active', 'ok', null],
      ['revoked', 'invalid', 'rejected', 'AADSTS7000215'],
      ['expired', 'invalid', 'rejected', 'AADSTS7000222'],
      ['no-user', 'invalid', 'rejected', '0x80072560'],
      ['no-privilege', 'invalid', 'rejected', '0x80040220'],
      ['down', 'active', 'unreachable', '0x80040216'],
      ['hang', 'active', 'unreachable', null],
      ['throttled', 'active', 'ok', null],
    ];
    for (const [org, status, outcome, code] of expectations) {
      const doc = await statusOf(t, org);
      expect([org, doc.status, doc.last_verification.outcome, doc.last_verification.upstream_code]).toEqual([
        org,
        status,
        outcome,
        code,
      ]);
    }
    const expiredDoc = await statusOf(t, 'expired');
    expect(expiredDoc.warnings).toEqual(['secret_expired']);
    expect(expiredDoc.last_verification.hint).toMatch(/has expired/);
    expect((await statusOf(t, 'healthy')).last_verified_at).not.toBeNull();

    const [saved, changed] = await auditEvents(t, 'no-privilege');
    expect(saved.action).toBe('integration.saved');
    expect(changed).toMatchObject({
      action: 'integration.status_changed',
      actor_type: 'system',
      actor_id: null,
      details: { from: 'active', to: 'invalid', stage: 'dynamics_probe', code: '0x80040220' },
    });
    expect(changed.details.hint).toMatch(/prvReadIncident/);
    expect(changed.prev_hash).toBe(saved.hash);
    expect((await auditEvents(t, 'down')).map((e) => e.action)).toEqual(['integration.saved']);

    const probes = ms.sandbox.model.requests.filter(
      (r) => r.origin === extra.throttled && r.server === 'dataverse' && r.path.endsWith('/incidents'),
    );
    expect(probes.slice(-2).map((r) => r.status)).toEqual([429, 200]);
    expect(
      Date.parse(probes[probes.length - 1].at) - Date.parse(probes[probes.length - 2].at),
    ).toBeGreaterThanOrEqual(900);

    const metrics = await (await t.request('/metrics')).text();
    expect(metrics).toMatch(
      /dynamics365_verifications_total\{trigger="manual",outcome="rejected",code="0x80040220"\} 1/,
    );
    expect(metrics).toMatch(/dynamics365_integrations\{status="invalid"\} 4/);
    expect(metrics).toMatch(/dynamics365_revalidation_sweep_duration_seconds_count\{trigger="manual"\} 1/);
    expect(metrics).toMatch(/dynamics365_secrets_expiring_within_14_days \d+/);
  });

  it('marks an active connection unreachable only after 3 consecutive unreachable sweeps, and active again on a pass', async () => {
    const environment = await ms.sandbox.addEnvironment({ name: 'flaky', tenantId: ms.tenant.id });
    await t.close();
    t = await startTestApp({
      databaseUrl: t.databaseUrl,
      env: {
        ...ms.env,
        ...FAST,
        DYNAMICS_ALLOWED_ORIGINS: [ms.environment.origin, ...Object.values(extra), environment.origin].join(
          ',',
        ),
      },
    });
    await withClient(t.databaseUrl, (c) => c.query('DELETE FROM dynamics365_integration_settings'));
    await connect(t, ms, 'flaky', environment.origin);
    environment.fault = { status: 503 };
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) {
      await sweep(t);
      statuses.push((await statusOf(t, 'flaky')).status);
    }
    expect(statuses).toEqual(['active', 'active', 'unreachable']);
    environment.fault = undefined;
    await sweep(t);
    expect((await statusOf(t, 'flaky')).status).toBe('active');
    const changes = (await auditEvents(t, 'flaky')).filter((e) => e.action === 'integration.status_changed');
    expect(changes.map((e) => `${e.details.from}->${e.details.to}`)).toEqual([
      'active->unreachable',
      'unreachable->active',
    ]);
  });
});

describe('sweeps on many instances', () => {
  let ms: MicrosoftWorld;
  let databaseUrl: string;
  let instances: TestApp[];
  const orgs = Array.from({ length: 12 }, (_, i) => `fleet-${i}`);
  const clientIds = new Map<string, string>();
  let keys: Record<string, string>;

  beforeAll(async () => {
    ms = await startMicrosoft();
    databaseUrl = await createTestDatabase('fleet');
    instances = [];
    // Instances of one deployment share their keys.
    const shared = testEnv();
    keys = { ENCRYPTION_KEYS: shared.ENCRYPTION_KEYS!, AUTH_JWT_SECRET: shared.AUTH_JWT_SECRET! };
    for (let i = 0; i < 3; i++) {
      instances.push(
        await startTestApp({
          databaseUrl,
          env: { ...ms.env, ...FAST, ...keys, REVALIDATION_CONCURRENCY: '3' },
        }),
      );
    }
    for (const org of orgs) clientIds.set(org, (await connect(instances[0], ms, org)).app.clientId);
    ms.environment.latencyMs = 20;
  });
  afterAll(async () => {
    for (const instance of instances) await instance.close();
    await ms.sandbox.close();
  });

  const tokenRequestsPerOrg = (requests: ReturnType<ReturnType<MicrosoftWorld['mark']>>) =>
    orgs.map(
      (org) => requests.filter((r) => r.server === 'login' && r.clientId === clientIds.get(org)).length,
    );

  it('three sweeps started at the same time verify each org exactly once, in one run', async () => {
    const received = ms.mark();
    const summaries = await Promise.all(instances.map((instance) => sweep(instance)));
    expect(tokenRequestsPerOrg(received())).toEqual(orgs.map(() => 1));
    expect(summaries.reduce((sum, s) => sum + s.checked, 0)).toBe(orgs.length);
    expect(new Set(summaries.map((s) => s.run_id)).size).toBe(1);
    expect(summaries.filter((s) => s.joined_running_sweep)).toHaveLength(2);
  });

  it('a sweep started after another finished verifies them all again', async () => {
    const received = ms.mark();
    const summary = await sweep(instances[1]);
    expect(summary).toMatchObject({ checked: orgs.length, joined_running_sweep: false });
    expect(tokenRequestsPerOrg(received())).toEqual(orgs.map(() => 1));
  });

  it('finishes the run of an instance that died mid-way, once its leases expire', async () => {
    const abandoned = orgs.slice(0, 3);
    // A new run in which a "dead" instance claimed three orgs and never came back.
    await withClient(databaseUrl, async (c) => {
      await c.query('UPDATE revalidation_runs SET finished_at = now() WHERE finished_at IS NULL');
      await c.query(
        "INSERT INTO revalidation_runs (trigger, started_at, heartbeat_at) VALUES ('manual', now(), now())",
      );
      await c.query(
        `UPDATE dynamics365_integration_settings SET claimed_by = 'dead-instance', claimed_until = now() + interval '1500 milliseconds'
          WHERE org_id = ANY($1)`,
        [abandoned],
      );
    });
    const received = ms.mark();
    const first = await sweep(instances[0]);
    expect(first).toMatchObject({ joined_running_sweep: true, checked: orgs.length - abandoned.length });
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const second = await sweep(instances[2]);
    expect(second).toMatchObject({
      joined_running_sweep: true,
      run_id: first.run_id,
      checked: abandoned.length,
    });
    expect(tokenRequestsPerOrg(received())).toEqual(orgs.map(() => 1));
    const [run] = await withClient(
      databaseUrl,
      async (c) =>
        (await c.query('SELECT finished_at FROM revalidation_runs WHERE id = $1', [first.run_id])).rows,
    );
    expect(run.finished_at).not.toBeNull();
  });

  it('scheduled sweeps of the same tick on several instances are one run', async () => {
    const received = ms.mark();
    const tick = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 3600_000);
    await Promise.all(
      instances.map((instance) => instance.app.get(RevalidationScheduler).runScheduledSweep(tick)),
    );
    expect(tokenRequestsPerOrg(received())).toEqual(orgs.map(() => 1));
    // a late instance firing for the same tick after the run finished verifies nothing again
    const late = new Date(tick.getTime() + 20_000);
    await instances[2].app.get(RevalidationScheduler).runScheduledSweep(late);
    expect(tokenRequestsPerOrg(received())).toEqual(orgs.map(() => 1));
    const runs = await withClient(
      databaseUrl,
      async (c) =>
        (await c.query("SELECT count(*)::int AS n FROM revalidation_runs WHERE trigger = 'schedule'")).rows,
    );
    expect(runs[0].n).toBe(1);
  });

  it('a scheduled sweep that fails never throws into the scheduler', async () => {
    const failing = {
      sweep: () => Promise.reject(new Error('database is down')),
    } as unknown as RevalidationService;
    const scheduler = new RevalidationScheduler(instances[0].config, new SchedulerRegistry(), failing);
    await expect(scheduler.runScheduledSweep(new Date())).resolves.toBeUndefined();
  });

  it('skips an org it cannot verify (counted as an error) instead of retrying it forever, and goes on', async () => {
    await withClient(databaseUrl, (c) =>
      c.query(
        "UPDATE dynamics365_integration_settings SET client_secret_encrypted = '\\x01deadbeef' WHERE org_id = 'fleet-4'",
      ),
    );
    const received = ms.mark();
    const summary = await sweep(instances[0]);
    expect(summary).toMatchObject({ checked: orgs.length - 1, errors: 1 });
    expect(tokenRequestsPerOrg(received()).filter((n) => n === 1)).toHaveLength(orgs.length - 1);
    expect((await statusOf(instances[0], 'fleet-4')).status).toBe('active');
    const reconnected = await connect(instances[0], ms, 'fleet-4');
    clientIds.set('fleet-4', reconnected.app.clientId);
  });

  it('joins the newest unfinished run when run ids cross a power of ten (sorted as numbers, not text)', async () => {
    const repository = instances[0].app.get(RevalidationRepository);
    await withClient(databaseUrl, async (c) => {
      await c.query('UPDATE revalidation_runs SET finished_at = now() WHERE finished_at IS NULL');
      await c.query(
        "INSERT INTO revalidation_runs (id, trigger, tick) VALUES (999999, 'manual', NULL), (1000000, 'manual', NULL)",
      );
    });
    try {
      const run = await repository.startOrJoinRun('manual', null, 60_000);
      expect(run).toMatchObject({ id: '1000000', joined: true });
    } finally {
      await withClient(databaseUrl, (c) =>
        c.query('UPDATE revalidation_runs SET finished_at = now() WHERE finished_at IS NULL'),
      );
    }
  });

  it('runs one sweep from the command-line entry point against the configured database', async () => {
    let written = '';
    const stream = new Writable({
      write: (chunk: Buffer, _e, cb) => {
        written += chunk.toString();
        cb();
      },
    });
    const config = loadConfig(testEnv({ ...ms.env, ...FAST, ...keys, DATABASE_URL: databaseUrl }));
    const summary = await runOneSweep(config, databaseUrl, stream);
    expect(summary).toMatchObject({
      trigger: 'manual',
      checked: orgs.length,
      ok: orgs.length,
      rejected: 0,
      unreachable: 0,
    });
    expect(typeof summary.duration_ms).toBe('number');
    expect(written).toContain('Revalidation sweep finished');
  });
});
