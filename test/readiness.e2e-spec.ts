// Readiness (DESIGN §11) against the sandbox's demo tenant: each app that passes Test & Save but is
// not ready is named for what it lacks, and a handoff sent to that org fails at exactly the step
// readiness named; the working app is ready and its handoff is delivered; verify and the nightly
// sweep record a change of readiness as an audit event.
import { randomUUID } from 'node:crypto';
import { DEMO, DemoCase, HANDOFF_ROLE, seedDemo } from '../sandbox/demo.js';
import { startSandbox, Sandbox } from '../sandbox/server.js';
import { RevalidationService } from '../src/revalidation/revalidation.service.js';
import { SettingsMetrics } from '../src/settings/settings.metrics.js';
import { startTestApp, TestApp } from './support/app.js';
import { HANDOFF_TEST_ENV, handoffBody, submit, waitForState } from './support/handoff.js';
import { auditEvents, call, PATH } from './support/integration.js';

interface Check {
  check: string;
  ok: boolean;
  detail: string;
  hint: string | null;
}

describe('Readiness: what a handoff needs, proven before a customer waits', () => {
  let sandbox: Sandbox;
  let cases: DemoCase[];
  let t: TestApp;
  const byLabel = (prefix: string) => cases.find((c) => c.label.startsWith(prefix))!;

  async function save(org: string, demo: DemoCase, more: Record<string, unknown> = {}) {
    const admin = await t.token({ org });
    const { label: _label, expect: _expect, settings, ...credentials } = demo;
    const answer = await call(t, 'PUT', PATH, admin, { ...credentials, ...settings, ...more });
    expect(answer.status).toBe(200);
    return answer.body as { readiness: { ready: boolean; checks: Check[] } };
  }
  const failing = (checks: Check[]) => checks.filter((c) => !c.ok);
  async function handoff(org: string, session: string) {
    const token = await t.token({ org, roles: ['handoff'] });
    await submit(t, token, handoffBody(session));
    return waitForState(t, token, session, ['delivered', 'failed']);
  }

  beforeAll(async () => {
    sandbox = await startSandbox();
    cases = await seedDemo(sandbox);
    t = await startTestApp({
      env: {
        ...HANDOFF_TEST_ENV,
        MICROSOFT_LOGIN_URL: sandbox.loginUrl,
        DYNAMICS_ALLOWED_ORIGINS: cases[0].environment_url,
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await sandbox.close();
  });

  it('the working app is ready: every privilege at its depth, and its handoff is delivered', async () => {
    const saved = await save('ready', cases[0], {
      default_queue_id: DEMO.queueId,
      default_owner_id: DEMO.ownerId,
    });
    expect(saved.readiness.ready).toBe(true);
    const checks = saved.readiness.checks.map((c) => c.check);
    expect(checks).toEqual(
      expect.arrayContaining([
        'application_user',
        'privilege:prvReadContact',
        'privilege:prvCreateIncident',
        'privilege:prvAssignIncident',
        'privilege:prvCreateQueueItem',
        'default_queue',
        'default_owner',
      ]),
    );
    expect((await handoff('ready', 'ready-1')).state).toBe('delivered');
  });

  it('Read-only role: names the missing create privileges; the handoff fails creating the contact', async () => {
    const saved = await save('readonly', byLabel('Read-only role'));
    expect(saved.readiness.ready).toBe(false);
    const missing = failing(saved.readiness.checks).map((c) => c.check);
    expect(missing).toEqual(
      expect.arrayContaining([
        'privilege:prvCreateContact',
        'privilege:prvCreateIncident',
        'privilege:prvAppendIncident',
        'privilege:prvCreateNote',
      ]),
    );
    expect(failing(saved.readiness.checks)[0].hint).toMatch(
      /Grant .* \(prv\w+\) in a security role of the application user \(Power Platform admin center → .*Application users.*\)\. Without it, .* fails\./,
    );
    const failed = await handoff('readonly', 'readonly-1');
    expect(failed.state).toBe('failed');
    expect(failed.last_error).toMatchObject({ stage: 'contact_create', upstream_code: '0x80040220' });
    expect(failed.last_error.message).toMatch(/missing prvCreateContact privilege/);
    expect(missing).toContain(`privilege:${/missing (prv\w+)/.exec(failed.last_error.message)![1]}`);
  });

  it('User-depth contacts: names Read on Contact at User depth; the handoff misses the existing contact', async () => {
    const saved = await save('userdepth', byLabel('User-depth contacts'));
    expect(failing(saved.readiness.checks)).toEqual([
      {
        check: 'privilege:prvReadContact',
        ok: false,
        detail: 'Read on Contact is held at User depth only; Organization is needed',
        hint: expect.stringMatching(
          /Raise Read on Contact \(prvReadContact\) to Organization depth.*duplicate/,
        ),
      },
    ]);
    // A contact someone else owns, with the customer's e-mail: the lookup at User depth cannot see it.
    const environment = sandbox.model.environment(DEMO.environment);
    const existing = randomUUID();
    environment.records.contacts.set(existing, {
      id: existing,
      version: 1,
      attributes: {
        contactid: existing,
        fullname: 'Ada Lovelace',
        emailaddress1: 'userdepth-1@example.com',
        statecode: 0,
        _ownerid_value: DEMO.ownerId,
      },
    });
    const delivered = await handoff('userdepth', 'userdepth-1');
    expect(delivered.state).toBe('delivered');
    expect(delivered.dynamics.contact_id).not.toBe(existing);
    expect(delivered.dynamics.contact_created).toBe(true);
    const sameEmail = [...environment.records.contacts.values()].filter(
      (c) => c.attributes.emailaddress1 === 'userdepth-1@example.com',
    );
    expect(sameEmail).toHaveLength(2);
  });

  it('No queue privilege: names the queue privileges; the handoff fails adding the case to the queue', async () => {
    const saved = await save('noqueue', byLabel('No queue privilege'));
    expect(
      failing(saved.readiness.checks)
        .map((c) => c.check)
        .sort(),
    ).toEqual(['privilege:prvAppendToQueue', 'privilege:prvCreateQueueItem']);
    expect(failing(saved.readiness.checks)[0].hint).toMatch(/adding the case to the default queue fails/);
    const failed = await handoff('noqueue', 'noqueue-1');
    expect(failed.state).toBe('failed');
    expect(failed.last_error).toMatchObject({ stage: 'add_to_queue', upstream_code: '0x80040220' });
    expect(failed.last_error.message).toMatch(/missing prvAppendToQueue privilege/);
  });

  it('Disabled default owner: names the owner; the handoff fails creating the case, as a configuration error', async () => {
    const saved = await save('disabledowner', byLabel('Disabled default owner'));
    expect(failing(saved.readiness.checks)).toEqual([
      {
        check: 'default_owner',
        ok: false,
        detail: 'User "Former Agent" is disabled',
        hint: expect.stringMatching(/Enable the user .*creating the case fails/),
      },
    ]);
    const failed = await handoff('disabledowner', 'disabledowner-1');
    expect(failed.state).toBe('failed');
    expect(failed.reason).toBe('configuration');
    expect(failed.last_error).toMatchObject({
      stage: 'incident_create',
      upstream_status: 400,
      upstream_code: '0x80040225',
    });
    expect(failed.last_error.hint).toMatch(/default owner .* is disabled/);
  });

  it('names a default queue or owner that does not exist, and an inactive queue', async () => {
    const environment = sandbox.model.environment(DEMO.environment);
    const inactive = randomUUID();
    environment.records.queues.set(inactive, {
      id: inactive,
      version: 1,
      attributes: { name: 'Old queue', statecode: 1 },
    });
    const saved = await save('records', cases[0], {
      default_queue_id: inactive,
      default_owner_id: randomUUID(),
    });
    expect(failing(saved.readiness.checks).map((c) => [c.check, c.detail])).toEqual([
      ['default_queue', 'Queue "Old queue" is inactive'],
      ['default_owner', expect.stringMatching(/^The user [0-9a-f-]{36} does not exist in this environment$/)],
    ]);
  });

  it('records a change of readiness on verify and in the nightly sweep, and never blocks a save', async () => {
    const user = sandbox.model.applicationUser(DEMO.environment, DEMO.apps.noQueuePrivilege.clientId);
    const admin = await t.token({ org: 'noqueue' });
    // The admin grants the queue privileges: Verify now finds the app ready.
    user.privileges = new Set(HANDOFF_ROLE);
    const verified = await call(t, 'POST', `${PATH}/verify`, admin);
    expect(verified.body.readiness.ready).toBe(true);
    // Someone takes one away again: the nightly sweep notices.
    user.privileges = new Set(HANDOFF_ROLE.filter((p) => p !== 'prvCreateNote'));
    await t.app.get(RevalidationService).sweep();
    const changes = (await auditEvents(t, 'noqueue')).filter(
      (e) => e.action === 'integration.readiness_changed',
    );
    expect(changes.map((e) => [e.actor_type, e.details.ready, e.details.failing])).toEqual([
      ['user', true, []],
      ['system', false, ['privilege:prvCreateNote']],
    ]);
    expect(changes[1].details.hints[0]).toMatch(/attaching the transcript as a note fails/);
    const status = await call(t, 'GET', PATH, admin);
    expect(status.body.status).toBe('active');
    expect(status.body.readiness.ready).toBe(false);
    // Counted for the operator: the not-ready connections of this run (read-only, user depth, this one, the disabled owner's, the records').
    await t.app.get(SettingsMetrics).refresh();
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^dynamics365_integrations_not_ready [1-9]\d*$/m);
  });
});
