import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { MIGRATIONS } from '../migrations/index.js';
import { createTestDatabase } from './support/database.js';
import { credentialsOf } from './support/integration.js';
import { startMicrosoft } from './support/microsoft.js';
import { eventually } from './support/eventually.js';
import { representativeActivity } from '../sandbox/messaging-webhook.js';
import { findFreePort, RUNTIME_ROLE } from '../src/database/embedded-postgres.js';

/**
 * The service as users run it: the compiled `node dist/src/main.js` with no DATABASE_URL, so it
 * starts its own embedded PostgreSQL under DATA_DIR.
 */
const root = new URL('..', import.meta.url).pathname;

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function runCommand(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Every service a test started, stopped after the file even when a test failed half-way. */
const started: Running[] = [];

function startService(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const running = { child, output: () => output, exited };
  started.push(running);
  return running;
}

async function waitForReady(baseUrl: string, running: Running, timeoutMs = 60000): Promise<void> {
  await eventually(
    async () => {
      if (running.child.exitCode !== null) return 'exited';
      return (
        (await fetch(`${baseUrl}/health/ready`).then(
          (r) => r.status,
          () => 0,
        )) === 200 && 'ready'
      );
    },
    'the service to be ready',
    timeoutMs,
    250,
  ).then(
    (state) => {
      if (state === 'exited') throw new Error(`service exited early:\n${running.output()}`);
    },
    (error: Error) => {
      throw new Error(`${error.message}:\n${running.output()}`);
    },
  );
}

/** The application role's URL, from the start-up line and the generated credentials in DATA_DIR. */
/**
 * The embedded database's address from the service's log. In development the log goes through
 * pino-pretty's worker thread, so the line can arrive a moment after the service answers ready.
 */
async function embeddedUrl(running: Running, dataDir: string): Promise<string> {
  const match = await eventually(
    () => /Embedded PostgreSQL on ([\d.]+):(\d+),/.exec(running.output()),
    'the embedded database line',
  ).catch(() => {
    throw new Error(`no embedded database line in:\n${running.output()}`);
  });
  const credentials = JSON.parse(readFileSync(join(dataDir, 'postgres-credentials.json'), 'utf8')) as {
    app_password: string;
  };
  return `postgresql://dynamics365_connector:${credentials.app_password}@${match[1]}:${match[2]}/dynamics365_connector`;
}

describe('the compiled service process', () => {
  let dataDir: string;

  beforeAll(() => {
    // dist/ is built once, before any test file runs (test/support/global-setup.mjs).
    dataDir = mkdtempSync(join(tmpdir(), 'd365-process-'));
    chmodSync(dataDir, 0o755);
  }, 120000);
  afterAll(async () => {
    for (const running of started.filter((r) => r.child.exitCode === null)) {
      running.child.kill('SIGTERM');
      await running.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts on the embedded database, stops cleanly on SIGTERM and keeps its data across a restart', async () => {
    const port = await findFreePort();
    const env = { NODE_ENV: 'development', DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info' };
    const baseUrl = `http://127.0.0.1:${port}`;

    const first = startService(env);
    await waitForReady(baseUrl, first);
    expect(existsSync(join(dataDir, 'dev-secrets.json'))).toBe(true);
    const client = new pg.Client({ connectionString: await embeddedUrl(first, dataDir) });
    await client.connect();
    await client.query("CREATE TABLE restart_marker (note text); INSERT INTO restart_marker VALUES ('kept')");
    const migrations = await client.query('SELECT count(*)::int AS n FROM schema_migrations');
    expect(migrations.rows[0].n).toBe(MIGRATIONS.length);
    // The service runs as the role that owns nothing; the owner only migrated.
    const roles = await client.query<{ usename: string }>(
      "SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'dynamics365-connector' AND pid <> pg_backend_pid()",
    );
    expect(roles.rows.map((r) => r.usename)).toEqual([RUNTIME_ROLE]);
    const ready = (await (await fetch(`${baseUrl}/health/ready`)).json()) as { details: Record<string, any> };
    expect(ready.details.database_role).toEqual({ status: 'up', problems: [] });
    await client.end();

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('SIGTERM received');
    // PostgreSQL removes its pid file only after a clean shutdown.
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);

    const second = startService(env);
    await waitForReady(baseUrl, second);
    const again = new pg.Client({ connectionString: await embeddedUrl(second, dataDir) });
    await again.connect();
    const marker = await again.query<{ note: string }>('SELECT note FROM restart_marker');
    await again.end();
    expect(marker.rows).toEqual([{ note: 'kept' }]);
    // the generated development keys were reused, not generated again
    await eventually(
      () => second.output().includes('ENCRYPTION_KEYS not set: using a development value generated in'),
      'the note that the generated keys were reused',
    );

    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  }, 120000);

  it('with an external DATABASE_URL, drains and exits 0 on SIGTERM (not 143 from the embedded package’s hook)', async () => {
    const port = await findFreePort();
    const running = startService({
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      DATABASE_URL: await createTestDatabase('sigterm'),
      PORT: String(port),
      LOG_LEVEL: 'info',
    });
    await waitForReady(`http://127.0.0.1:${port}`, running);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(running.output()).toContain('SIGTERM received: draining requests and shutting down');
  }, 60000);

  it('npm run revalidate: one sweep against the configured database, JSON summary on stdout, exit 0', async () => {
    const databaseUrl = await createTestDatabase('cli');
    const child = spawn(process.execPath, ['dist/src/cli/revalidate.js'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: databaseUrl,
        DATA_DIR: dataDir,
        NODE_ENV: 'development',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect([code, stderr.includes('Revalidation sweep finished')]).toEqual([0, true]);
    expect(JSON.parse(stdout)).toMatchObject({
      trigger: 'manual',
      checked: 0,
      ok: 0,
      rejected: 0,
      unreachable: 0,
      errors: 0,
    });
  });

  it('revalidate and keys:rotate work beside the running service, on its embedded database and settings', async () => {
    const ms = await startMicrosoft();
    const ownDir = mkdtempSync(join(tmpdir(), 'd365-beside-'));
    chmodSync(ownDir, 0o755);
    const port = await findFreePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const commandEnv = { NODE_ENV: 'development', DATA_DIR: ownDir, LOG_LEVEL: 'info' };
    const service = startService({ ...commandEnv, ...ms.env, PORT: String(port) });
    try {
      await waitForReady(baseUrl, service);
      const token = (
        await runCommand('dist/src/cli/token.js', ['--org', 'acme', '--role', 'admin'], commandEnv)
      ).stdout.trim();
      const api = (method: string, body?: unknown) =>
        fetch(`${baseUrl}/api/v1/integrations/dynamics365${method === 'POST' ? '/verify' : ''}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          body: body ? JSON.stringify(body) : undefined,
        });
      expect((await api('PUT', credentialsOf(ms))).status).toBe(200);
      // The console's address comes from the running service itself, without PORT exported again.
      const signIn = await runCommand('dist/src/cli/token.js', ['--console'], commandEnv);
      expect(signIn.stdout.trim()).toMatch(new RegExp(`^${baseUrl}/console/#code=\\S+$`));

      // Without MICROSOFT_LOGIN_URL of its own: it takes the running service's, and its database.
      const sweep = await runCommand('dist/src/cli/revalidate.js', [], commandEnv);
      expect([sweep.code, sweep.stderr]).toEqual([
        0,
        expect.stringContaining("Using the running service's MICROSOFT_LOGIN_URL"),
      ]);
      expect(JSON.parse(sweep.stdout)).toMatchObject({ checked: 1, ok: 1, errors: 0 });

      // In development, rotation generates the new key into DATA_DIR; the running service picks it up.
      const rotation = await runCommand('dist/src/cli/keys-rotate.js', [], commandEnv);
      expect(rotation.code).toBe(0);
      expect(JSON.parse(rotation.stdout)).toEqual({
        active_key_id: 'dev2',
        rotated: 1,
        remaining_on_old_keys: {},
        failed: [],
        // Customer data and alert-webhook secrets are re-encrypted by the same command (none here).
        customer_data: {
          rotated: { handoffs: 0, events: 0, messages: 0 },
          remaining_on_old_keys: { handoffs: {}, events: {}, messages: {} },
          failed: [],
        },
        notification_secrets: { rotated: 0, failed: [] },
      });
      const verified = await api('POST');
      expect([verified.status, ((await verified.json()) as { status: string }).status]).toEqual([
        200,
        'active',
      ]);

      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      const again = startService({ ...commandEnv, ...ms.env, PORT: String(port) });
      await waitForReady(baseUrl, again);
      const afterRestart = await api('POST');
      expect(afterRestart.status).toBe(200);
      const health = (await (await fetch(`${baseUrl}/health/ready`)).json()) as {
        info: { secrets: unknown };
      };
      expect(health.info.secrets).toEqual({ status: 'up', undecryptable: 0, missing_key_ids: [] });
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    } finally {
      await ms.sandbox.close();
      rmSync(ownDir, { recursive: true, force: true });
    }
  }, 120000);

  it('a handoff instance killed with SIGKILL mid-delivery: within 30 s another instance has finished all it held — handoffs (each case once), event posts, customer messages', async () => {
    const ms = await startMicrosoft();
    const ownDir = mkdtempSync(join(tmpdir(), 'd365-kill-'));
    chmodSync(ownDir, 0o755);
    const databaseUrl = await createTestDatabase('handoff_kill');
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const states = async () =>
      Object.fromEntries(
        (
          await db.query<{ state: string; n: number }>(
            'SELECT state, count(*)::int AS n FROM handoffs GROUP BY 1',
          )
        ).rows.map((r) => [r.state, r.n]),
      ) as Record<string, number>;
    const activeJobs = async (queue: string) =>
      (
        await db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'active'",
          [queue],
        )
      ).rows[0].n;
    // The host platform's receiver of event posts: holds every post until the kill, then answers.
    let holding = true;
    const answered = new Map<string, number>();
    const receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        if (holding) return; // never answered: the instance dies with the post in flight
        const id = String(request.headers['webhook-id']);
        answered.set(id, (answered.get(id) ?? 0) + 1);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    // Same DATA_DIR: both instances use the same generated development keys, as one deployment's instances share theirs.
    const channel = '0e5f6a7b-1c2d-4e3f-8a9b-0c1d2e3f4a5b';
    ms.environment.messaging!.channels.set(channel, {
      id: channel,
      appId: ms.app.clientId,
      webhookUrl: null,
      workstreamLinked: true,
    });
    // The default attempt timeout (5 minutes) and lease (15 s): only the lease can bring the work back in time.
    const env = {
      NODE_ENV: 'development',
      DATA_DIR: ownDir,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: 'warn',
      HANDOFF_CONCURRENCY: '4',
      HANDOFF_RETRY_BASE_MS: '50',
      HANDOFF_EVENTS_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      HANDOFF_EVENTS_SECRET: `whsec_${Buffer.alloc(32, 9).toString('base64')}`,
      ...ms.env,
      DYNAMICS_ALLOWED_ORIGINS: `${ms.environment.origin},${ms.environment.messaging!.origin}`,
    };
    try {
      const [portA, portB] = [await findFreePort(), await findFreePort()];
      const first = startService({ ...env, PORT: String(portA) });
      await waitForReady(`http://127.0.0.1:${portA}`, first);
      ms.environment.messaging!.channels.get(channel)!.webhookUrl =
        `http://127.0.0.1:${portA}/webhooks/dynamics365/messaging/acme`;
      const token = (
        await runCommand('dist/src/cli/token.js', ['--org', 'acme', '--role', 'admin'], env)
      ).stdout.trim();
      const api = (port: number, method: string, path: string, body?: unknown) =>
        fetch(`http://127.0.0.1:${port}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          body: body ? JSON.stringify(body) : undefined,
        });
      const messaging = {
        messaging_endpoint: ms.environment.messaging!.origin,
        messaging_channel_id: channel,
        messaging_organization_id: ms.environment.organizationId,
        messaging_scope: `${ms.environment.messagingResource}/.default`,
      };
      const connected = await api(
        portA,
        'PUT',
        '/api/v1/integrations/dynamics365',
        credentialsOf(ms, messaging),
      );
      expect(connected.status).toBe(200);

      // An open conversation, with three replies of the representative whose posts are in flight …
      const chat = await api(portA, 'POST', '/api/v1/handoffs', {
        session_id: 'kill-chat',
        channel: 'web',
        customer: { name: 'Chatting customer' },
        transcript: [{ role: 'customer', text: 'Hello', at: '2026-11-30T09:00:00Z' }],
      });
      expect(chat.status).toBe(202);
      const conversation = await eventually(async () => {
        const row = await db.query<{ conversation_id: string | null; state: string }>(
          "SELECT conversation_id, state FROM handoffs WHERE session_id = 'kill-chat'",
        );
        return row.rows[0]?.state === 'delivered' ? row.rows[0].conversation_id : null;
      }, 'the chat delivered');
      for (const text of ['One', 'Two', 'Three']) {
        await representativeActivity(ms.sandbox.model, ms.sandbox.key, ms.environment, conversation, {
          type: 'message',
          text,
        });
      }
      // … and two messages of the customer whose relay hangs at Microsoft.
      ms.environment.messagingFault = {
        hang: true,
        method: 'POST',
        path: `/api/v1.0/consumer/conversation/${conversation}`,
      };
      for (const text of ['Customer one', 'Customer two']) {
        const sent = await api(portA, 'POST', '/api/v1/handoffs/kill-chat/messages', { text });
        expect(sent.status).toBe(202);
      }

      // Every Dataverse call takes 300 ms: a delivery (lookup, contact, case, note) about 1.2 s.
      ms.environment.latencyMs = 300;
      const before = { ...ms.environment.creates };
      const conversationsBefore = ms.environment.messaging!.created;
      // Every fourth a web chat: an Omnichannel conversation (300 ms per Messaging API call too).
      for (let i = 0; i < 16; i++) {
        const accepted = await api(portA, 'POST', '/api/v1/handoffs', {
          session_id: `kill-${i}`,
          channel: i % 4 === 0 ? 'web' : 'email',
          customer: { name: `Customer ${i}`, email: `kill-${i}@example.com` },
          transcript: [{ role: 'customer', text: `Help ${i}`, at: '2026-11-30T09:00:00Z' }],
        });
        expect(accepted.status).toBe(202);
      }
      // Mid-delivery: some delivered, some being delivered by this instance right now, the posts and messages held.
      await eventually(async () => {
        const now = await states();
        return (
          (now.delivered ?? 0) >= 2 &&
          (now.delivering ?? 0) >= 1 &&
          (await activeJobs('handoff-event-post')) === 3 &&
          (await activeJobs('handoff-message')) === 2
        );
      }, 'mid-delivery with the posts and messages in flight');
      first.child.kill('SIGKILL');
      const killedAt = Date.now();
      await first.exited;
      const atKill = await states();
      expect(atKill.delivering).toBeGreaterThanOrEqual(1);
      holding = false;
      ms.environment.messagingFault = undefined;

      const second = startService({ ...env, PORT: String(portB) });
      ms.environment.messaging!.channels.get(channel)!.webhookUrl =
        `http://127.0.0.1:${portB}/webhooks/dynamics365/messaging/acme`;
      const customerMessages = () =>
        ms.environment
          .messaging!.conversations.get(conversation)!
          .activities.filter((a) => a.side === 'customer' && /^Customer /.test(String(a.activity.text)))
          .map((a) => String(a.activity.text))
          .sort();
      await eventually(
        async () =>
          (await states()).delivered === 17 && answered.size === 3 && customerMessages().length === 2,
        'every handoff, post and message the killed instance held',
        60_000,
        100,
      ).catch(async (error: Error) => {
        const left = `${JSON.stringify(await states())}, ${answered.size} posts, ${customerMessages().length} messages`;
        throw new Error(`${error.message}: ${left}\n${second.output()}`);
      });
      const recoveredInMs = Date.now() - killedAt;
      process.stdout.write(
        `SIGKILL recovery: everything the killed instance held done in ${recoveredInMs} ms\n`,
      );
      expect(recoveredInMs).toBeLessThanOrEqual(30_000);
      expect(ms.environment.creates.incidents - before.incidents).toBe(12);
      expect(ms.environment.creates.contacts - before.contacts).toBe(12);
      expect(ms.environment.creates.annotations - before.annotations).toBe(12);
      const tickets = await db.query<{ n: number }>(
        'SELECT count(DISTINCT ticket_number)::int AS n FROM handoffs WHERE ticket_number IS NOT NULL',
      );
      expect(tickets.rows[0].n).toBe(12);
      // Conversations: one per chat session, however the crash fell.
      expect(ms.environment.messaging!.created - conversationsBefore).toBe(4);
      const conversations = [...ms.environment.messaging!.conversations.values()]
        .map((c) => c.customerId)
        .sort();
      expect(conversations).toEqual(['kill-0', 'kill-12', 'kill-4', 'kill-8', 'kill-chat']);
      // Each event post answered once (the held ones never were), each customer message relayed once.
      expect([...answered.values()]).toEqual([1, 1, 1]);
      expect(customerMessages()).toEqual(['Customer one', 'Customer two']);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await db.end();
      await ms.sandbox.close();
      receiver.close();
      rmSync(ownDir, { recursive: true, force: true });
    }
  }, 150000);

  it('refuses to start with a bad environment, naming every bad key', async () => {
    const running = startService({ DATA_DIR: dataDir, PORT: 'eighty', UPSTREAM_TIMEOUT_MS: 'soon' });
    expect(await running.exited).toBe(1);
    expect(running.output()).toMatch(/PORT: must be an integer/);
    expect(running.output()).toMatch(/UPSTREAM_TIMEOUT_MS: must be an integer/);
  });

  it('refuses to start in production without keys', async () => {
    const running = startService({ NODE_ENV: 'production', DATA_DIR: dataDir });
    expect(await running.exited).toBe(1);
    expect(running.output()).toMatch(/ENCRYPTION_KEYS: is required in production/);
    expect(running.output()).toMatch(/AUTH_JWT_SECRET: or AUTH_JWKS_URL is required in production/);
  });
});
