// The walkthrough of docs/handoff.md, as written: its `curl` lines run by bash against the sandbox's
// demo tenant and the service (only the addresses replaced by this run's free ports).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEMO, seedDemo } from '../sandbox/demo.js';
import { startSandbox, type Sandbox } from '../sandbox/server.js';
import { startTestApp, TestApp } from './support/app.js';
import { eventually } from './support/eventually.js';

const run = promisify(execFile);

/** The fenced bash block under a heading of a docs page, continuation lines joined. */
function block(page: string, heading: string): string[] {
  const text = readFileSync(new URL(`../docs/${page}`, import.meta.url), 'utf8');
  const from = text.indexOf(heading);
  const start = text.indexOf('```bash\n', from) + '```bash\n'.length;
  const end = text.indexOf('```', start);
  return text
    .slice(start, end)
    .replace(/\\\n\s*/g, ' ')
    .replace(/\n\s+(?=["'\w])/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
}

describe('docs/handoff.md: the walkthrough against the sandbox', () => {
  let sandbox: Sandbox;
  let t: TestApp;
  let origin: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    const cases = await seedDemo(sandbox);
    origin = cases[0].environment_url;
    const messaging = sandbox.model.environment(DEMO.environment).messaging!.origin;
    t = await startTestApp({
      env: { MICROSOFT_LOGIN_URL: sandbox.loginUrl, DYNAMICS_ALLOWED_ORIGINS: `${origin},${messaging}` },
    });
  });
  afterAll(async () => {
    await t.close();
    await sandbox.close();
  });

  /** A line of a page as this run's ports make it (its comment dropped). */
  const localise = (line: string) =>
    line
      .replace(/#.*$/, '')
      .replaceAll('localhost:3000', new URL(t.baseUrl).host)
      .replaceAll('localhost:4010', new URL(sandbox.loginUrl).host)
      .replaceAll('http://127.0.0.1:4011', origin);

  it('connects the demo app, submits the handoff and reads it back delivered, as the page says', async () => {
    const lines = block('handoff.md', '## Walkthrough against the sandbox');
    const curls = lines.filter((line) => line.startsWith('curl ')).map(localise);
    expect(curls).toHaveLength(4);
    // The page's token line, as npm run token would print it for this service.
    expect(lines.some((l) => l.startsWith('TOKEN=$(npm run -s token -- --org demo --role admin)'))).toBe(
      true,
    );
    const env = { ...process.env, TOKEN: await t.token({ org: DEMO.org, roles: ['admin'] }) };
    const bash = async (command: string) => JSON.parse((await run('bash', ['-c', command], { env })).stdout);

    expect(await bash(curls[0])).toMatchObject({ status: 'active' });
    expect(await bash(curls[1])).toMatchObject({ session_id: 'demo-session-1', state: 'pending' });
    const delivered = await eventually(async () => {
      const document = await bash(curls[2]);
      return document.state === 'delivered' ? document : undefined;
    }, 'the handoff delivered');
    expect(delivered.dynamics.ticket_number).toMatch(/^CAS-01001-/);
    const state = await bash(curls[3]);
    // "environments[0].records: the case, the contact, the note"
    const records = state.environments[0].records as Record<string, { count: number }>;
    expect(records.incidents.count).toBeGreaterThan(0);
    expect(records.contacts.count).toBeGreaterThan(0);
    expect(records.annotations.count).toBeGreaterThan(0);
  });

  it('docs/api.md: connects the demo certificate app with a certificate the service made', async () => {
    const lines = block('api.md', '## Certificate credentials');
    const commands = lines
      .filter((line) => line.startsWith('curl ') || line.startsWith('CERTIFICATE='))
      .map(localise);
    expect(commands).toHaveLength(4);
    const env = { ...process.env, TOKEN: await t.token({ org: 'demo-certificate', roles: ['admin'] }) };
    const directory = mkdtempSync(join(tmpdir(), 'walkthrough-'));
    const { stdout } = await run('bash', ['-c', `set -e; ${commands.join('\n')}`], { env, cwd: directory });
    expect(JSON.parse(stdout.slice(stdout.lastIndexOf('{"org_id"')))).toMatchObject({
      status: 'active',
      credential_type: 'certificate',
      client_id: DEMO.certificateApp.clientId,
    });
  });
});
