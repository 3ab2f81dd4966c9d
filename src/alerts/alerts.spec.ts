import { renderAlert } from './alert-messages.js';
import { expiryStage } from './alert-maintenance.js';
import { isPublicAddress, webhookUrlProblem } from './webhook-target.js';

describe('expiryStage: how close a secret’s entered expiry is', () => {
  const now = new Date('2026-12-06T12:00:00Z');
  const inDays = (days: number) => new Date(now.getTime() + days * 86_400_000);
  it.each([
    [30, null],
    [14.01, null],
    [14, '14_days'],
    [10, '14_days'],
    [3.01, '14_days'],
    [3, '3_days'],
    [0.5, '3_days'],
    [0, 'expired'],
    [-5, 'expired'],
  ])('%s days away → %s', (days, stage) => {
    expect(expiryStage(inDays(days), now)).toBe(stage);
  });
});

describe('webhook targets: public https only, unless the origin is allowed', () => {
  it.each([
    ['8.8.8.8', true],
    ['2606:4700:4700::1111', true],
    ['10.1.2.3', false],
    ['172.20.0.1', false],
    ['192.168.1.1', false],
    ['127.0.0.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['::1', false],
    ['fd00::1', false],
    ['fe80::1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:8.8.8.8', true],
    ['not-an-ip', false],
  ])('%s public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  it('refuses http, private literals, internal names and credentials in the URL', () => {
    expect(webhookUrlProblem('https://hooks.example.com/x', [])).toBeNull();
    expect(webhookUrlProblem('http://hooks.example.com/x', [])).toMatch(/https/);
    expect(webhookUrlProblem('https://10.0.0.5/x', [])).toMatch(/private/);
    expect(webhookUrlProblem('https://[::1]/x', [])).toMatch(/private/);
    expect(webhookUrlProblem('https://localhost/x', [])).toMatch(/public host/);
    expect(webhookUrlProblem('https://metadata.internal/x', [])).toMatch(/public host/);
    expect(webhookUrlProblem('https://user:pw@hooks.example.com/x', [])).toMatch(/user name/);
    expect(webhookUrlProblem('not a url', [])).toMatch(/absolute/);
    expect(webhookUrlProblem('http://127.0.0.1:9000/hook', ['http://127.0.0.1:9000'])).toBeNull();
  });
});

describe('renderAlert: what happened, what it breaks, what to do', () => {
  it('says it on every channel alike, with the hint and the console link, and nothing else', () => {
    const rendered = renderAlert(
      {
        id: '0f0e0d0c-0b0a-4909-8807-060504030201',
        orgId: 'acme',
        condition: 'connection.status_changed',
        stage: 'invalid',
        state: 'open',
        detail: {
          from: 'active',
          to: 'invalid',
          stage: 'token_exchange',
          code: 'AADSTS7000215',
          message: 'Invalid client secret provided.',
          hint: 'Paste the secret’s Value, not its Secret ID.',
        },
        openedAt: new Date('2026-12-06T02:00:00Z'),
        resolvedAt: null,
      },
      'opened',
      'https://connector.example/console/',
    );
    expect(rendered.subject).toBe('[Dynamics 365 · acme] Dynamics 365 connection is invalid');
    expect(rendered.text).toMatch(/refused by Microsoft at token_exchange \(AADSTS7000215\)/);
    expect(rendered.text).toMatch(/What it breaks: Handoffs are held/);
    expect(rendered.text).toMatch(/What to do:\nPaste the secret’s Value/);
    expect(rendered.text).toContain('Console: https://connector.example/console/');
    expect(rendered.html).toContain('<a href="https://connector.example/console/">');
    expect(rendered.webhook).toMatchObject({
      type: 'alert.opened',
      data: {
        alert_id: '0f0e0d0c-0b0a-4909-8807-060504030201',
        condition: 'connection.status_changed',
        state: 'open',
      },
    });
    const resolved = renderAlert(
      {
        id: null,
        orgId: 'acme',
        condition: 'connection.status_changed',
        stage: null,
        state: 'resolved',
        detail: {},
        openedAt: new Date(),
        resolvedAt: new Date(),
      },
      'resolved',
      'x',
    );
    expect(resolved.subject).toBe('[Dynamics 365 · acme] Resolved: Dynamics 365 connection is active again');
  });

  it('names the credential that expires: a client secret, or a certificate with what to do for one', () => {
    const expiring = (detail: Record<string, unknown>) =>
      renderAlert(
        {
          id: '0f0e0d0c-0b0a-4909-8807-060504030202',
          orgId: 'acme',
          condition: 'secret.expiring',
          stage: '3_days',
          state: 'open',
          detail: {
            client_id: 'app',
            client_secret_hint: 'AB12CD',
            expires_at: '2026-12-09T00:00:00.000Z',
            ...detail,
          },
          openedAt: new Date('2026-12-06T02:00:00Z'),
          resolvedAt: null,
        },
        'opened',
        'x',
      );
    const certificate = expiring({ credential_type: 'certificate' });
    expect(certificate.subject).toBe('[Dynamics 365 · acme] Dynamics 365 certificate expires within 3 days');
    expect(certificate.text).toContain(
      'The certificate (thumbprint AB12CD…) of app app expires on 2026-12-09',
    );
    expect(certificate.text).toContain('Generate a new certificate in the console');
    // Alerts raised before certificates existed carry no credential_type: a client secret.
    expect(expiring({}).subject).toBe(
      '[Dynamics 365 · acme] Dynamics 365 client secret expires within 3 days',
    );
  });

  it('escapes what came from outside in the HTML', () => {
    const rendered = renderAlert(
      {
        id: null,
        orgId: 'acme',
        condition: 'handoffs.failing',
        stage: null,
        state: 'open',
        detail: { session_id: '<script>x</script>', stage: 'incident_create' },
        openedAt: new Date(),
        resolvedAt: null,
      },
      'opened',
      'x',
    );
    expect(rendered.html).not.toContain('<script>');
    expect(rendered.html).toContain('&lt;script&gt;');
  });
});
