// Alerts (DESIGN §12) end to end: a real SMTP server (the sandbox's mail catcher) and a real webhook
// receiver that verifies signatures with the standardwebhooks library; two instances on one
// database, sweeping twice — each condition opens and resolves once, and a send retried after a
// crash goes out once.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { AlertMaintenance } from '../src/alerts/alert-maintenance.js';
import { AlertsRepository } from '../src/alerts/alerts.repository.js';
import { DataSource } from 'typeorm';
import { AlertSender, WEBHOOK_SECRET_COLUMN } from '../src/alerts/alert-sender.js';
import { rotateNotificationSecrets } from '../src/alerts/notification-secret-rotation.js';
import { loadConfig } from '../src/config/app-config.js';
import { dataSourceOptions } from '../src/database/data-source-options.js';
import { SecretCipher } from '../src/settings/secret-cipher.js';
import { renderAlert } from '../src/alerts/alert-messages.js';
import { RevalidationService } from '../src/revalidation/revalidation.service.js';
import { startTestApp, testEnv, TestApp } from './support/app.js';
import { connect, HANDOFF_TEST_ENV } from './support/handoff.js';
import { auditEvents, call, credentialsOf, PATH } from './support/integration.js';
import { eventually } from './support/eventually.js';
import { withClient } from './support/database.js';
import { MicrosoftWorld, startMicrosoft } from './support/microsoft.js';

const K1 = `k1:${randomBytes(32).toString('base64')}`;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  data: { type: string; data: Record<string, any> };
}

describe('Alerts: admins hear of a broken connection before their customers do', () => {
  let ms: MicrosoftWorld;
  let a: TestApp;
  let b: TestApp;
  let receiver: Server;
  let hookOrigin: string;
  const received: Received[] = [];
  const OPERATOR_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
  const admin = () => a.token({ org: 'alerted', roles: ['admin'] });
  const mailFor = (org: string) => ms.sandbox.mail.mail.filter((m) => m.subject?.includes(`· ${org}]`));
  const hooksFor = (org: string, path = '/org') =>
    received.filter((r) => r.path === path && r.data.data.org_id === org);
  const sweepBoth = async () => {
    await a.app.get(RevalidationService).sweep('manual');
    await b.app.get(RevalidationService).sweep('manual');
  };
  const settle = async () => {
    await a.app.get(AlertSender).wake();
    await b.app.get(AlertSender).wake();
  };
  let orgSecret = '';

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ path: request.url ?? '', headers: request.headers, body, data: JSON.parse(body) });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    hookOrigin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    ms = await startMicrosoft();
    const env = {
      ...ms.env,
      ...HANDOFF_TEST_ENV,
      SMTP_URL: ms.sandbox.mail.url,
      SMTP_FROM: 'Dynamics 365 alerts <alerts@connector.example>',
      NOTIFICATION_ALLOWED_ORIGINS: hookOrigin,
      ALERTS_WEBHOOK_URL: `${hookOrigin}/operator`,
      ALERTS_WEBHOOK_SECRET: OPERATOR_SECRET,
      PUBLIC_URL: 'https://connector.example',
      VERIFY_RATE_LIMIT_PER_MINUTE: '1000',
      ENCRYPTION_KEYS: K1,
      AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    };
    a = await startTestApp({ env });
    b = await startTestApp({ env, databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await ms.sandbox.close();
    receiver.close();
  });

  it('refuses what is not a recipient or a public https webhook, naming the field, before saving', async () => {
    const token = await admin();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ emails: ['not-an-address'] }, 'emails', /e-mail address/],
      [{ emails: Array.from({ length: 11 }, (_, i) => `a${i}@example.com`) }, 'emails', /at most 10/],
      [{ webhook_url: 'http://hooks.example.com/x' }, 'webhook_url', /https/],
      [{ webhook_url: 'https://10.0.0.8/hook' }, 'webhook_url', /private/],
      [{ webhook_url: 'https://localhost/hook' }, 'webhook_url', /public host/],
      [{ events: ['connection.exploded'] }, 'events', /one of connection.status_changed/],
    ];
    for (const [body, field, message] of cases) {
      const answer = await call(a, 'PUT', '/api/v1/notifications', token, body);
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expect(answer.body.error.details).toEqual([{ field, message: expect.stringMatching(message) }]);
    }
    expect((await call(a, 'GET', '/api/v1/notifications', token)).body).toMatchObject({
      emails: [],
      webhook_url: null,
      email_available: true,
      version: 0,
    });
  });

  it('shows a new webhook’s signing secret once, and sends a test to every channel', async () => {
    const token = await admin();
    const saved = await call(a, 'PUT', '/api/v1/notifications', token, {
      emails: ['Admin@Contoso.example', 'oncall@contoso.example'],
      webhook_url: `${hookOrigin}/org`,
    });
    expect(saved.status).toBe(200);
    expect(saved.body.webhook_secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    orgSecret = saved.body.webhook_secret;
    const read = await call(a, 'GET', '/api/v1/notifications', token);
    expect(read.body).toMatchObject({
      emails: ['admin@contoso.example', 'oncall@contoso.example'],
      version: 1,
    });
    expect(JSON.stringify(read.body)).not.toContain(orgSecret);
    const [event] = (await auditEvents(a, 'alerted')).filter((e) => e.action === 'notifications.changed');
    expect(event.details).toMatchObject({
      changed_fields: ['emails', 'webhook_url'],
      webhook_secret_created: true,
    });
    expect(JSON.stringify(event)).not.toContain(orgSecret);

    const test = await call(a, 'POST', '/api/v1/notifications/test', token);
    expect(test.body.channels).toEqual(
      expect.arrayContaining([
        { channel: 'email', state: 'sent', error: null },
        { channel: 'webhook', state: 'sent', error: null },
      ]),
    );
    const [mail] = mailFor('alerted');
    expect(mail).toMatchObject({
      to: ['admin@contoso.example', 'oncall@contoso.example'],
      subject: '[Dynamics 365 · alerted] Test alert',
    });
    const [hook] = hooksFor('alerted');
    expect(new Webhook(orgSecret).verify(hook.body, hook.headers as Record<string, string>)).toMatchObject({
      type: 'alert.test',
    });
  });

  it('a connection that breaks: one e-mail and one signed webhook across two instances and two sweeps; one recovery', async () => {
    await connect(a, ms, 'alerted');
    const secrets = ms.app.secrets.splice(0); // the secret is revoked in Entra ID
    try {
      await sweepBoth();
      await sweepBoth();
      await settle();
      await eventually(
        () => hooksFor('alerted').some((h) => h.data.type === 'alert.opened'),
        'the webhook',
        5000,
      );
      const opened = hooksFor('alerted').filter((h) => h.data.type === 'alert.opened');
      expect(opened).toHaveLength(1);
      expect(opened[0].data.data).toMatchObject({
        condition: 'connection.status_changed',
        stage: 'invalid',
        detail: { to: 'invalid', stage: 'token_exchange', code: 'AADSTS7000215' },
      });
      expect(
        new Webhook(orgSecret).verify(opened[0].body, opened[0].headers as Record<string, string>),
      ).toBeTruthy();
      const mails = mailFor('alerted').filter((m) => m.subject?.includes('connection is invalid'));
      expect(mails).toHaveLength(1);
      expect(mails[0].text).toMatch(/What to do:\n.+/);
      expect(mails[0].text).toContain('https://connector.example/console/');
      expect(mails[0].messageId).toMatch(/^<[0-9a-f-]{36}@dynamics365-connector>$/);
      // The operator's copy, signed with ALERTS_WEBHOOK_SECRET.
      const [operator] = hooksFor('alerted', '/operator').filter((h) => h.data.type === 'alert.opened');
      expect(
        new Webhook(OPERATOR_SECRET).verify(operator.body, operator.headers as Record<string, string>),
      ).toBeTruthy();
      // Nothing secret went out.
      for (const text of [
        ...mailFor('alerted').map((m) => `${m.text}${m.html}`),
        ...received.map((r) => r.body),
      ]) {
        expect(text).not.toContain(secrets[0].value);
      }
    } finally {
      ms.app.secrets.push(...secrets);
    }
    await sweepBoth();
    await settle();
    await eventually(
      () => hooksFor('alerted').some((h) => h.data.type === 'alert.resolved'),
      'the recovery',
      5000,
    );
    await sweepBoth();
    await settle();
    expect(hooksFor('alerted').filter((h) => h.data.type === 'alert.resolved')).toHaveLength(1);
    expect(
      mailFor('alerted').filter((m) =>
        m.subject?.includes('Resolved: Dynamics 365 connection is active again'),
      ),
    ).toHaveLength(1);

    const alerts = await call(a, 'GET', '/api/v1/alerts', await admin());
    expect(alerts.body.items[0]).toMatchObject({
      condition: 'connection.status_changed',
      state: 'resolved',
      title: 'Dynamics 365 connection is invalid',
      deliveries: expect.arrayContaining([
        expect.objectContaining({ channel: 'email', notice: 'opened', state: 'sent' }),
        expect.objectContaining({ channel: 'webhook', notice: 'resolved', state: 'sent' }),
        expect.objectContaining({ channel: 'operator', notice: 'opened', state: 'sent' }),
      ]),
    });
    const metrics = await (await fetch(`${a.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/dynamics365_alert_deliveries_total\{channel="email",outcome="sent"\} [1-9]/);
  });

  it('a secret expiring in 10 days: one reminder from two instances; 2 days left: announced once more', async () => {
    const token = await admin();
    const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    await call(a, 'PUT', PATH, token, credentialsOf(ms, { secret_expires_at: inDays(10) }));
    await a.app.get(AlertMaintenance).runOnce();
    await b.app.get(AlertMaintenance).runOnce();
    await settle();
    await eventually(
      () => mailFor('alerted').some((m) => m.subject?.includes('expires within 14 days')),
      'the reminder',
      5000,
    );
    await a.app.get(AlertMaintenance).runOnce();
    await settle();
    expect(mailFor('alerted').filter((m) => m.subject?.includes('expires within 14 days'))).toHaveLength(1);
    await call(a, 'PUT', PATH, token, credentialsOf(ms, { secret_expires_at: inDays(2) }));
    await b.app.get(AlertMaintenance).runOnce();
    await a.app.get(AlertMaintenance).runOnce();
    await settle();
    await eventually(
      () => mailFor('alerted').some((m) => m.subject?.includes('expires within 3 days')),
      'the escalation',
      5000,
    );
    expect(mailFor('alerted').filter((m) => m.subject?.includes('expires within 3 days'))).toHaveLength(1);
    // A new secret with a later expiry: resolved once.
    await call(a, 'PUT', PATH, token, credentialsOf(ms, { secret_expires_at: inDays(300) }));
    await a.app.get(AlertMaintenance).runOnce();
    await b.app.get(AlertMaintenance).runOnce();
    await settle();
    await eventually(
      () => mailFor('alerted').some((m) => m.subject?.includes('Resolved: Client secret rotated')),
      'the recovery',
      5000,
    );
    expect(mailFor('alerted').filter((m) => m.subject?.includes('Client secret rotated'))).toHaveLength(1);
  });

  it('a notice whose sender died mid-send is sent once by another, with the same id', async () => {
    const before = received.length;
    const repository = a.app.get(AlertsRepository);
    // A notice a sender claimed and then died holding: attempt 1, its lease running.
    const id = randomUUID();
    const rendered = renderAlert(
      {
        id: null,
        orgId: 'alerted',
        condition: 'test',
        stage: null,
        state: 'resolved',
        detail: {},
        openedAt: new Date(),
        resolvedAt: null,
      },
      'test',
      'https://connector.example/console/',
    );
    await withClient(a.databaseUrl, (client) =>
      client.query(
        `INSERT INTO alert_deliveries (id, org_id, notice, channel, payload, state, attempts, next_attempt_at, leased_until, created_at)
         VALUES ($1, 'alerted', 'test', 'webhook', $2, 'pending', 1, now(), now() + interval '1 hour', now())`,
        [id, JSON.stringify({ ...rendered, url: `${hookOrigin}/org` })],
      ),
    );
    await b.app.get(AlertSender).wake();
    expect(received.slice(before).filter((r) => r.headers['webhook-id'] === id)).toHaveLength(0);
    // Its lease lapses: another instance sends it, once.
    await withClient(a.databaseUrl, (client) =>
      client.query("UPDATE alert_deliveries SET leased_until = now() - interval '1 second' WHERE id = $1", [
        id,
      ]),
    );
    await b.app.get(AlertSender).wake();
    await a.app.get(AlertSender).wake();
    const sent = received.slice(before).filter((r) => r.headers['webhook-id'] === id);
    expect(sent).toHaveLength(1);
    expect(
      new Webhook(orgSecret).verify(sent[0].body, sent[0].headers as Record<string, string>),
    ).toBeTruthy();
    const [row] = await repository.findDeliveries([id]);
    expect(row).toMatchObject({ state: 'sent', attempts: 2 });
  });

  it('keys:rotate re-encrypts the webhook signing secrets under the new key', async () => {
    const k2 = `k2:${randomBytes(32).toString('base64')}`;
    const both = loadConfig(testEnv({ DATABASE_URL: a.databaseUrl, ENCRYPTION_KEYS: `${k2},${K1}` }));
    const dataSource = new DataSource(dataSourceOptions(a.databaseUrl, []));
    await dataSource.initialize();
    try {
      const report = await rotateNotificationSecrets(dataSource, new SecretCipher(both));
      expect(report).toEqual({ rotated: 1, failed: [] });
      expect((await rotateNotificationSecrets(dataSource, new SecretCipher(both))).rotated).toBe(0);
    } finally {
      await dataSource.destroy();
    }
    const [row] = await withClient(
      a.databaseUrl,
      async (client) =>
        (
          await client.query(
            "SELECT webhook_secret_encrypted, webhook_secret_key_id FROM notification_settings WHERE org_id = 'alerted'",
          )
        ).rows,
    );
    const onlyNew = new SecretCipher(
      loadConfig(testEnv({ DATABASE_URL: a.databaseUrl, ENCRYPTION_KEYS: k2 })),
    );
    expect(
      onlyNew.decrypt(
        { ciphertext: row.webhook_secret_encrypted, keyId: row.webhook_secret_key_id },
        'alerted',
        WEBHOOK_SECRET_COLUMN,
      ),
    ).toBe(orgSecret);
  });
});
