// A database created before pg-boss 12 — its queue in pg-boss 10's schema, holding the jobs the
// service of that time wrote — comes up on the current service with every job done exactly once.
// The old queue is built with pg-boss 10 itself (the pg-boss-10 dev dependency), as the first
// DeliveryQueue migration did, and the jobs are the service's own: queued by a worker-less
// instance (HANDOFF_CONCURRENCY=0), then written into the old schema by pg-boss 10 under the same
// ids, so each handoff row still names its job.
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import PgBoss10 from 'pg-boss-10';
import { representativeActivity } from '../sandbox/messaging-webhook.js';
import { startTestApp, TestApp } from './support/app.js';
import { createTestDatabase, withClient } from './support/database.js';
import {
  connectMessaging,
  handoffBody,
  HANDOFFS,
  MESSAGING_CHANNEL,
  submit,
  waitForState,
} from './support/handoff.js';
import { call, PATH } from './support/integration.js';
import { eventually } from './support/eventually.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const QUEUES = ['handoff-delivery', 'handoff-event-post', 'handoff-message'];

interface QueuedJob {
  id: string;
  name: string;
  data: object;
  state: string;
  start_after: Date;
  retry_count: number;
}

/** Replaces the pg-boss 12 queue by pg-boss 10's, with the same jobs, as the service before the upgrade left it. */
async function downgradeQueue(databaseUrl: string, options: { activeJob: string; retryingJob: string }) {
  const jobs = await withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<QueuedJob>(
      `SELECT id, name, data, state::text AS state, start_after, retry_count FROM pgboss.job
        WHERE state IN ('created', 'retry', 'active') ORDER BY created_on`,
    );
    await client.query('DROP SCHEMA pgboss CASCADE');
    await client.query("DELETE FROM schema_migrations WHERE name = 'DeliveryQueue121764270000000'");
    // What the DeliveryQueue migration ran before pg-boss 12: pg-boss 10's construction plan.
    await client.query(PgBoss10.getConstructionPlans('pgboss'));
    return rows;
  });
  const boss = new PgBoss10({
    connectionString: databaseUrl,
    migrate: false,
    supervise: false,
    schedule: false,
  });
  await boss.start();
  try {
    // The queues with the settings the service of that time gave them.
    await boss.createQueue('handoff-delivery', {
      name: 'handoff-delivery',
      retryLimit: 20,
      retryDelay: 1,
      retryBackoff: true,
      expireInSeconds: 300,
    });
    await boss.createQueue('handoff-event-post', {
      name: 'handoff-event-post',
      retryLimit: 12,
      retryDelay: 2,
      retryBackoff: true,
      expireInSeconds: 60,
    });
    await boss.createQueue('handoff-message', {
      name: 'handoff-message',
      retryLimit: 10,
      retryDelay: 1,
      retryBackoff: true,
      expireInSeconds: 300,
    });
    for (const job of jobs) {
      const startAfter = job.id === options.retryingJob ? new Date(Date.now() + 3000) : job.start_after;
      await boss.send(job.name, job.data, { id: job.id, startAfter });
    }
  } finally {
    await boss.stop({ graceful: false, wait: true });
  }
  await withClient(databaseUrl, async (client) => {
    // A worker of the old service fetched this one and died: active, its handoff mid-attempt.
    await client.query(
      "UPDATE pgboss.job SET state = 'active', started_on = now() - interval '1 minute' WHERE id = $1",
      [options.activeJob],
    );
    await client.query(
      "UPDATE handoffs SET state = 'delivering', attempts = 1, updated_at = now() WHERE job_id = $1",
      [options.activeJob],
    );
    // The retrying one had an attempt that Microsoft answered with a 503.
    await client.query(
      `UPDATE handoffs SET attempts = 1, next_attempt_at = now() + interval '3 seconds',
              last_error = '{"stage":"case_create","upstream_status":503,"upstream_code":null,"message":"Service Unavailable","hint":null}'
        WHERE job_id = $1`,
      [options.retryingJob],
    );
  });
  return jobs;
}

describe('Upgrade: a pg-boss 10 queue with pending, held and retrying handoffs, event posts and customer messages', () => {
  let ms: MicrosoftWorld;
  let receiver: Server;
  const posts: string[] = [];
  let env: Record<string, string>;
  let apps: TestApp[] = [];

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        posts.push(String(request.headers['webhook-id']));
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    ms = await startMicrosoft();
    env = {
      ...ms.env,
      // One deployment: every instance started here shares its keys.
      ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 3).toString('base64')}`,
      AUTH_JWT_SECRET: 'upgrade-test-jwt-secret-of-at-least-32-characters',
      HANDOFF_RETRY_BASE_MS: '20',
      UPSTREAM_TIMEOUT_MS: '1500',
      DYNAMICS_ALLOWED_ORIGINS: `${ms.environment.origin},${ms.environment.messaging!.origin}`,
      HANDOFF_EVENTS_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      HANDOFF_EVENTS_SECRET: SECRET,
    };
  });
  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
    await ms.sandbox.close();
    receiver.close();
  });

  it('moves every unsettled job into the new schema and delivers each exactly once', async () => {
    const databaseUrl = await createTestDatabase('queue_upgrade');
    // 1. An open conversation, delivered by a working instance.
    const working = await startTestApp({ databaseUrl, env });
    apps.push(working);
    const token = () => working.token({ org: 'chat', roles: ['handoff'] });
    await connectMessaging(working, ms, 'chat', `${working.baseUrl}/webhooks/dynamics365/messaging/chat`);
    await submit(working, await token(), handoffBody('upgrade-chat', { channel: 'sms' }));
    const conversation = (await waitForState(working, await token(), 'upgrade-chat', ['delivered'])).dynamics
      .conversation_id as string;
    await working.close();
    apps = [];

    // 2. An instance that only accepts: everything it is given stays queued.
    const accepting = await startTestApp({ databaseUrl, env: { ...env, HANDOFF_CONCURRENCY: '0' } });
    apps.push(accepting);
    ms.environment.messaging!.channels.get(MESSAGING_CHANNEL)!.webhookUrl =
      `${accepting.baseUrl}/webhooks/dynamics365/messaging/chat`;
    const acceptToken = () => accepting.token({ org: 'chat', roles: ['handoff'] });
    for (const session of ['upgrade-pending', 'upgrade-active', 'upgrade-retrying', 'upgrade-held']) {
      expect((await submit(accepting, await acceptToken(), handoffBody(session))).status).toBe(202);
    }
    const message = await call(accepting, 'POST', `${HANDOFFS}/upgrade-chat/messages`, await acceptToken(), {
      text: 'Carried over the upgrade',
    });
    expect(message.status).toBe(202);
    const before = posts.length;
    await representativeActivity(ms.sandbox.model, ms.sandbox.key, ms.environment, conversation, {
      type: 'message',
      text: 'Reply before the upgrade',
    });
    await accepting.close();
    apps = [];
    expect(posts.length).toBe(before); // nothing was posted: the post is queued

    const jobOf = (session: string) =>
      withClient(databaseUrl, async (client) =>
        String(
          (await client.query('SELECT job_id FROM handoffs WHERE session_id = $1', [session])).rows[0].job_id,
        ),
      );
    // The held one: its connection failed verification at its attempt (its job is done).
    const heldJob = await jobOf('upgrade-held');
    await withClient(databaseUrl, (client) =>
      client.query(
        `UPDATE handoffs SET state = 'held', reason = 'connection_invalid', job_id = NULL, attempts = 1,
                updated_at = now() - interval '1 minute' WHERE session_id = 'upgrade-held'`,
      ),
    );
    await withClient(databaseUrl, (client) =>
      client.query('DELETE FROM pgboss.job WHERE id = $1', [heldJob]),
    );

    // 3. The database as the service before pg-boss 12 left it.
    const carried = await downgradeQueue(databaseUrl, {
      activeJob: await jobOf('upgrade-active'),
      retryingJob: await jobOf('upgrade-retrying'),
    });
    expect(carried.map((j) => j.name).sort()).toEqual([
      'handoff-delivery',
      'handoff-delivery',
      'handoff-delivery',
      'handoff-event-post',
      'handoff-message',
    ]);
    expect(
      await withClient(databaseUrl, async (c) =>
        Number((await c.query('SELECT version FROM pgboss.version')).rows[0].version),
      ),
    ).toBe(24);

    // 4. The current service on it: the migration moves the queue, the workers finish every job.
    const casesBefore = ms.environment.creates.incidents;
    const upgraded = await startTestApp({ databaseUrl, env });
    apps.push(upgraded);
    ms.environment.messaging!.channels.get(MESSAGING_CHANNEL)!.webhookUrl =
      `${upgraded.baseUrl}/webhooks/dynamics365/messaging/chat`;
    const upgradedToken = () => upgraded.token({ org: 'chat', roles: ['handoff'] });
    expect(
      await withClient(databaseUrl, async (c) => ({
        version: Number((await c.query('SELECT version FROM pgboss.version')).rows[0].version),
        old: (await c.query("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'pgboss_v10'"))
          .rows[0].n as number,
        queues: (await c.query('SELECT name FROM pgboss.queue ORDER BY 1')).rows.map((r) => r.name as string),
      })),
    ).toEqual({ version: 46, old: 0, queues: QUEUES });
    for (const session of ['upgrade-pending', 'upgrade-active', 'upgrade-retrying']) {
      await waitForState(upgraded, await upgradedToken(), session, ['delivered'], 20_000);
    }
    // Held handoffs resume on the next successful verification, as before.
    expect(
      (await call(upgraded, 'POST', `${PATH}/verify`, await upgraded.token({ org: 'chat' }))).status,
    ).toBe(200);
    await waitForState(upgraded, await upgradedToken(), 'upgrade-held', ['delivered'], 20_000);
    expect(ms.environment.creates.incidents - casesBefore).toBe(4);

    const state = () => ms.environment.messaging!.conversations.get(conversation)!;
    const relayed = () =>
      state().activities.some((a) => a.side === 'customer' && a.activity.text === 'Carried over the upgrade');
    await eventually(
      () => relayed() && posts.length > before,
      'the customer message relayed and the event posted',
      20_000,
    );
    // Settle time for a second delivery of anything, had there been one.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(
      state().activities.filter(
        (a) => a.side === 'customer' && a.activity.text === 'Carried over the upgrade',
      ),
    ).toHaveLength(1);
    expect(posts.slice(before)).toHaveLength(1);
    expect(posts.slice(before)[0]).toMatch(/^handoff-event-\d+$/);
    expect(ms.environment.creates.incidents - casesBefore).toBe(4);
    const jobs = await withClient(
      databaseUrl,
      async (c) =>
        (
          await c.query<{ state: string; n: number }>(
            'SELECT state::text AS state, count(*)::int AS n FROM pgboss.job WHERE id = ANY($1) GROUP BY 1',
            [carried.map((j) => j.id)],
          )
        ).rows,
    );
    expect(jobs).toEqual([{ state: 'completed', n: carried.length }]);
  }, 90_000);
});
