// `npm run demo` as a newcomer runs it (scripts/demo.ts, the command's script): the sandbox and the
// service on free ports, wired to each other, the demo org connected, a handoff delivered, a chat
// open whose agent replies reach the service; Ctrl-C stops both.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectErrors, launch } from './support/browser.js';
import { createTestDatabase } from './support/database.js';
import { eventually } from './support/eventually.js';

const root = new URL('..', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Waits until `read` gives `expected` (the page updates after its API calls). */
async function shows<T>(read: () => Promise<T>, expected: T): Promise<void> {
  await eventually(async () => (await read()) === expected, `the page to show ${String(expected)}`, 10_000);
}

describe('npm run demo', () => {
  let demo: ChildProcess | undefined;
  let output = '';

  // dist/ (service and console) is built once, before any test file runs (test/support/global-setup.mjs).
  afterAll(() => {
    if (demo?.exitCode === null) demo.kill('SIGKILL');
  });

  it('runs the sandbox and the service wired together: the printed console shows Active, the delivered handoff with its Dynamics link and the audit sentence; agent replies arrive; Ctrl-C stops both', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'd365-demo-'));
    chmodSync(dataDir, 0o755);
    demo = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/demo.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        PORT: String(port),
        DATA_DIR: dataDir,
        DATABASE_URL: await createTestDatabase('demo'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo!.once('exit', resolve));
    // Ready, or stopped: then its own words say why.
    await eventually(
      () => output.includes('Press Ctrl-C to stop both.') || (demo!.exitCode !== null ? 'exited' : false),
      'the demo to be ready',
      120_000,
      200,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n--- npm run demo printed ---\n${output.slice(-4000)}`);
    });
    if (!output.includes('Press Ctrl-C to stop both.')) {
      throw new Error(`npm run demo exited (${demo.exitCode}) before it was ready:\n${output.slice(-4000)}`);
    }

    const service = `http://127.0.0.1:${port}`;
    const consoleUrl = /Console \(signs you in as the demo org's admin\):\s+(\S+)/.exec(output)?.[1];
    expect(consoleUrl).toMatch(new RegExp(`^${service}/console/#code=`));
    const token = /export TOKEN=(\S+)/.exec(output)![1];
    const get = async (path: string) => {
      const answer = await fetch(`${service}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(answer.status).toBe(200);
      return (await answer.json()) as Record<string, any>;
    };
    expect(await get('/api/v1/integrations/dynamics365')).toMatchObject({
      status: 'active',
      readiness: { ready: true },
    });
    expect(await get('/api/v1/handoffs/demo-session-1')).toMatchObject({
      state: 'delivered',
      dynamics: { ticket_number: expect.stringMatching(/^CAS-/) },
    });
    expect(await get('/api/v1/handoffs/demo-chat-1')).toMatchObject({
      state: 'delivered',
      route: 'conversation',
      dynamics: { conversation_state: 'open' },
    });
    // The printed console address, in a browser: nothing to connect by hand.
    const browser = await launch();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors = collectErrors(page);
      await page.goto(consoleUrl!);
      const card = page.getByRole('region', { name: 'Dynamics 365' });
      await shows(() => card.getByTestId('connection-status').textContent(), 'Active');
      await page.getByRole('tab', { name: 'Handoffs', exact: true }).click();
      const handoffs = page.getByRole('region', { name: 'Handoffs' });
      const row = handoffs.locator('tr[data-session="demo-session-1"]');
      await row.waitFor();
      expect(await row.textContent()).toMatch(/delivered[\s\S]*Case\s*CAS-/);
      expect(await row.getByRole('link', { name: /Open in Dynamics 365/ }).getAttribute('href')).toMatch(
        /\/main\.aspx\?pagetype=entityrecord&etn=incident&id=/,
      );
      await page.getByRole('tab', { name: 'Audit log', exact: true }).click();
      await page
        .getByRole('region', { name: 'Audit log' })
        .getByText(/Demo Admin connected Dynamics 365 \(environment http:\/\/127\.0\.0\.1:\d+\)\./)
        .first()
        .waitFor();
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }

    // The printed agent-reply command: the sandbox's webhook call reaches this service (not :3000).
    const reply =
      /curl -s -X POST (\S+\/activities) -H 'Content-Type: application\/json' -d '(\{[^']*\})'/.exec(output)!;
    const answer = await fetch(reply[1], {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: reply[2],
    });
    expect(((await answer.json()) as { webhook: number[] }).webhook).toEqual([200]);

    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(fetch(`${service}/health/live`)).rejects.toThrow();
  }, 240_000);
});
