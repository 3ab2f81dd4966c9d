// `npm run demo`: the simulated Microsoft cloud and the service on free ports (the service on PORT
// when it is set), wired to each other — allowed origins, the demo channel's webhook, the mail
// catcher — with the demo org connected, a handoff delivered into Dynamics and a chat open, and the
// console's address printed. Ctrl-C stops both. Its data lives in DATA_DIR (default .data/demo), apart
// from `npm start`'s.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { DEMO, seedDemo } from '../sandbox/demo.js';
import { startSandbox } from '../sandbox/server.js';

const root = resolve(import.meta.dirname, '..');

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

const port = Number(process.env.PORT) || (await freePort());
const serviceUrl = `http://127.0.0.1:${port}`;
const sandbox = await startSandbox({ port: await freePort(), host: '127.0.0.1', mailPort: await freePort() });
const cases = await seedDemo(sandbox, await freePort(), { messagingPort: await freePort(), serviceUrl });
const environment = sandbox.model.environment(DEMO.environment);
const origin = cases[0].environment_url;
const messagingOrigin = environment.messaging!.origin;

const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  PORT: String(port),
  HOST: '127.0.0.1',
  DATA_DIR: process.env.DATA_DIR ?? '.data/demo',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  MICROSOFT_LOGIN_URL: sandbox.loginUrl,
  DYNAMICS_ALLOWED_ORIGINS: `${origin},${messagingOrigin}`,
  SMTP_URL: sandbox.mail.url,
  SMTP_FROM: 'alerts@dynamics365-connector.example',
  NOTIFICATION_ALLOWED_ORIGINS: sandbox.loginUrl,
  PUBLIC_URL: serviceUrl,
};

let service: ChildProcess | undefined;
let stopping = false;
async function stop(code = 0): Promise<never> {
  stopping = true;
  if (service && service.exitCode === null) {
    const exited = new Promise((done) => service!.once('exit', done));
    service.kill('SIGTERM');
    await exited;
  }
  await sandbox.close();
  process.exit(code);
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

/** A command of the built service (dist/), with the demo's environment; its standard output. */
function command(script: string, args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) =>
      code === 0 ? done(out.trim()) : fail(new Error(`${script} exited with ${code}`)),
    );
  });
}

async function api(
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const answer = await fetch(`${serviceUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`${method} ${path}: HTTP ${answer.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

try {
  console.log(
    `Starting the service on ${serviceUrl} (data in ${env.DATA_DIR}) against the sandbox on ${sandbox.loginUrl} …`,
  );
  service = spawn(process.execPath, ['dist/src/main.js'], { cwd: root, env, stdio: 'inherit' });
  service.once('exit', (code) => {
    if (!stopping) {
      console.error(`The service stopped (exit ${code}).`);
      void stop(1);
    }
  });
  await until('the service', async () => ((await fetch(`${serviceUrl}/health/ready`)).ok ? true : undefined));

  const token = await command('dist/src/cli/token.js', [
    '--org',
    DEMO.org,
    '--role',
    'admin',
    '--sub',
    'demo-admin',
    '--name',
    'Demo Admin',
    '--ttl',
    '86400',
  ]);
  const working = cases[0];
  // Test & Save, with Omnichannel messaging so chats become conversations.
  await api('PUT', '/api/v1/integrations/dynamics365', token, {
    client_id: working.client_id,
    client_secret: working.client_secret,
    tenant_id: working.tenant_id,
    environment_url: working.environment_url,
    messaging_endpoint: messagingOrigin,
    messaging_channel_id: DEMO.messagingChannelId,
    messaging_organization_id: environment.organizationId,
    messaging_scope: `${environment.messagingResource}/.default`,
  });
  // Fixed contents: a second run on the same DATA_DIR submits the same handoffs, which is a no-op.
  const at = '2026-11-30T09:00:00Z';
  await api('POST', '/api/v1/handoffs', token, {
    session_id: 'demo-session-1',
    channel: 'email',
    customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
    classification: 'Delivery',
    summary: 'Parcel missing for 5 days.',
    transcript: [
      { role: 'customer', text: 'My parcel has not arrived.', at },
      { role: 'ai', text: 'I am handing you to a colleague.', at },
    ],
  });
  await api('POST', '/api/v1/handoffs', token, {
    session_id: 'demo-chat-1',
    channel: 'web',
    customer: { name: 'Grace Hopper', email: 'grace@example.com' },
    summary: 'Wants to change the delivery address.',
    transcript: [{ role: 'customer', text: 'Can I change my delivery address?', at }],
  });
  const handoff = await until('the handoff delivered', async () => {
    const document = await api('GET', '/api/v1/handoffs/demo-session-1', token);
    return document.state === 'delivered' ? document : undefined;
  });
  const chat = await until('the chat delivered', async () => {
    const document = await api('GET', '/api/v1/handoffs/demo-chat-1', token);
    return document.state === 'delivered' ? document : undefined;
  });
  const conversationId = (chat.dynamics as { conversation_id?: string }).conversation_id;
  const signIn = await command('dist/src/cli/token.js', [
    '--console',
    '--org',
    DEMO.org,
    '--name',
    'Demo Admin',
    '--sub',
    'demo-admin',
  ]);
  const control = `${sandbox.loginUrl}/_sandbox/environments/${DEMO.environment}/messaging`;
  const ticket = (handoff.dynamics as { ticket_number?: string }).ticket_number;
  console.log(
    [
      '',
      'dynamics365-connector demo is running.',
      '',
      `  Console (signs you in as the demo org's admin):  ${signIn}`,
      `  API:                ${serviceUrl}/api/v1/   (OpenAPI: ${serviceUrl}/docs)`,
      `  Simulated Microsoft: ${sandbox.loginUrl}/_sandbox/state   (mail caught: ${sandbox.loginUrl}/_sandbox/mail)`,
      '',
      `  Connected: org "${DEMO.org}" → ${origin} (with Omnichannel messaging).`,
      `  Handoff demo-session-1: delivered as case ${ticket ?? '?'}.`,
      `  Chat demo-chat-1: an open Omnichannel conversation (${conversationId ?? '?'}).`,
      '',
      'Try it (in another terminal):',
      `  export TOKEN=${token}`,
      `  curl -s ${serviceUrl}/api/v1/handoffs/demo-session-1 -H "Authorization: Bearer $TOKEN"`,
      `  curl -sN ${serviceUrl}/api/v1/handoffs/demo-chat-1/events -H "Authorization: Bearer $TOKEN" &`,
      `  curl -s -X POST ${control}/conversations/${conversationId}/activities -H 'Content-Type: application/json' -d '{"type":"message","text":"Hi Grace, Dana here."}'`,
      `  curl -s -X POST ${serviceUrl}/api/v1/handoffs/demo-chat-1/messages -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"text":"Thanks!"}'`,
      '',
      'Press Ctrl-C to stop both.',
      '',
    ].join('\n'),
  );
} catch (error) {
  console.error(`The demo could not start: ${(error as Error).message}`);
  await stop(1);
}
