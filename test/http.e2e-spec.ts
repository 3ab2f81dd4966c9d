import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { EmbeddedDatabase, findFreePort } from '../src/database/embedded-postgres.js';
import { SettingsRepository } from '../src/settings/settings.repository.js';
import { startTestApp, TestApp } from './support/app.js';
import { ProbeModule } from './support/probe.module.js';

interface ErrorBody {
  error: {
    code: string;
    message: string;
    details?: { field: string; message: string }[];
    request_id: string;
  };
}

describe('HTTP behaviour', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp({ extraModules: [ProbeModule] });
    token = await t.token();
  });
  afterAll(() => t.close());

  const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    t.request('/api/v1/_probe/echo', { method: 'POST', token, headers, body });

  it('reports readiness with the database ping, and liveness', async () => {
    const ready = await t.request('/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
    expect((await t.request('/health/live')).status).toBe(200);
  });

  it('names every request with an id of its own, and keeps a sane caller X-Request-Id beside it', async () => {
    const given = await t.request('/nope', { headers: { 'x-request-id': 'trace-42.a' } });
    const id = given.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(given.headers.get('x-client-request-id')).toBe('trace-42.a');
    expect(((await given.json()) as ErrorBody).error.request_id).toBe(id);
    const line = await t.waitForLog((l) => l.request_id === id && l.msg === 'request completed');
    expect(line.client_request_id).toBe('trace-42.a');
    const made = await t.request('/health/live', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.headers.get('x-client-request-id')).toBeNull();
  });

  it('400 validation_failed names each offending and unknown field', async () => {
    const response = await post(JSON.stringify({ name: '', priority: 9, extra: 1 }));
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as ErrorBody;
    expect(error.code).toBe('validation_failed');
    expect(error.details?.map((d) => d.field).sort()).toEqual(['extra', 'name', 'priority']);
    expect(error.details?.find((d) => d.field === 'extra')?.message).toBe('is not an allowed field');
  });

  it('400 for malformed JSON and for an empty JSON body', async () => {
    for (const body of ['{"name":', '']) {
      const response = await post(body);
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as ErrorBody;
      expect(error.code).toBe('validation_failed');
      expect(error.details?.[0].field).toBe('body');
    }
  });

  it('accepts a valid body and transforms it', async () => {
    const response = await post(JSON.stringify({ name: 'x', priority: 2 }));
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ name: 'x', priority: 2 });
  });

  it('413 payload_too_large beyond 64 KB', async () => {
    const response = await post(JSON.stringify({ name: 'x'.repeat(70 * 1024), priority: 1 }));
    expect(response.status).toBe(413);
    const { error } = (await response.json()) as ErrorBody;
    expect(error.code).toBe('payload_too_large');
    expect(error.message).toMatch(/64 KB/);
  });

  it('405 method_not_allowed with Allow for a known path and another method', async () => {
    const response = await t.request('/api/v1/integrations/dynamics365', { method: 'PATCH', token });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('DELETE, GET, HEAD, PUT');
    const { error } = (await response.json()) as ErrorBody;
    expect(error.code).toBe('method_not_allowed');
    const post = await t.request('/api/v1/me', { method: 'POST', token });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('415 unsupported_media_type for a text/plain body, before validation', async () => {
    const response = await post(JSON.stringify({ name: 'x', priority: 2 }), { 'content-type': 'text/plain' });
    expect(response.status).toBe(415);
    expect(((await response.json()) as ErrorBody).error.code).toBe('unsupported_media_type');
  });

  it('answers an oversized header block (431) and a malformed request (400) in the error shape', async () => {
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const { port } = new URL(t.baseUrl);
        const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk.toString()));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    for (const [request, status, code] of [
      [
        `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`,
        431,
        'headers_too_large',
      ],
      ['GET /health/live HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n', 400, 'validation_failed'],
    ] as const) {
      const answer = await raw(request);
      expect(answer.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as ErrorBody;
      expect(body.error.code).toBe(code);
      expect(body.error.request_id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('404 not_found for unknown routes', async () => {
    const response = await t.request('/api/v1/nothing-here', { token });
    expect(response.status).toBe(404);
    const { error } = (await response.json()) as ErrorBody;
    expect(error).toMatchObject({ code: 'not_found', message: 'No route for GET /api/v1/nothing-here.' });
  });

  it('500 internal_error without internals, logged with the request id and without secrets', async () => {
    const response = await t.request('/api/v1/_probe/boom', { token });
    expect(response.status).toBe(500);
    const id = response.headers.get('x-request-id');
    expect(await response.json()).toEqual({
      error: { code: 'internal_error', message: 'Internal server error.', request_id: id },
    });
    const line = t.logs.find((l) => l.request_id === id && l.msg === 'Unhandled error');
    expect(line).toBeDefined();
    expect(t.rawLogs()).not.toContain('hunter2');
  });

  it('redacts secrets nested at any depth of a logged object, and inside its text', async () => {
    await t.request('/api/v1/_probe/log-nested', { token });
    const line = await t.waitForLog((l) => l.msg === 'nested secrets');
    expect(line).toMatchObject({
      upstream: { form: { client_secret: '[Redacted]' } },
      deeper: { a: { b: { c: [{ access_token: '[Redacted]' }] } } },
    });
    const raw = t.rawLogs();
    for (const secret of ['nested-secret-2', 'nested-token-5', 'inline-secret'])
      expect(raw).not.toContain(secret);
  });

  it('never logs the Authorization header or the token', async () => {
    await t.request('/api/v1/me', { token, headers: { 'x-request-id': 'log-check' } });
    const line = await t.waitForLog(
      (l) => l.client_request_id === 'log-check' && l.msg === 'request completed',
    );
    expect(line).toMatchObject({ req: { method: 'GET', url: '/api/v1/me' }, res: { status_code: 200 } });
    const raw = t.rawLogs();
    expect(raw).not.toContain(token);
    expect(raw).not.toContain(token.split('.')[2]);
  });

  it('exposes request metrics by route pattern and status', async () => {
    await t.request('/api/v1/me', { token });
    const text = await (await t.request('/metrics')).text();
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/me",status_code="200"\} \d+/,
    );
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('describes bearer auth in the OpenAPI document', async () => {
    const doc = (await (await t.request('/docs/openapi.json')).json()) as {
      components: { securitySchemes: Record<string, { scheme: string }> };
      paths: Record<string, unknown>;
    };
    expect(doc.components.securitySchemes.bearer.scheme).toBe('bearer');
    expect(doc.paths).toHaveProperty('/api/v1/me');
  });
});

describe('slow and greedy clients', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      env: { HTTP_REQUEST_TIMEOUT: '3s', HTTP_HEADERS_TIMEOUT: '2s', HTTP_MAX_CONNECTIONS_PER_CLIENT: '4' },
    });
  });
  afterAll(() => t.close());

  /** Opens a connection, writes `head`, then one more byte every 500 ms; resolves with what came back and when it closed. */
  function trickle(head: string): Promise<{ answer: string; closedAfterMs: number }> {
    return new Promise((resolve, reject) => {
      const { port } = new URL(t.baseUrl);
      const started = Date.now();
      let answer = '';
      let timer: NodeJS.Timeout | undefined;
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(head);
        timer = setInterval(() => socket.writable && socket.write('a'), 500);
      });
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ answer, closedAfterMs: Date.now() - started });
      });
      // A connection that is never closed by the server fails the test instead of hanging it.
      setTimeout(() => {
        clearInterval(timer);
        socket.destroy();
        reject(new Error(`still open after 12 s: ${answer}`));
      }, 12_000).unref();
    });
  }

  it('closes a body that trickles in after HTTP_REQUEST_TIMEOUT, answering 408', async () => {
    const { answer } = await trickle(
      'PUT /api/v1/integrations/dynamics365 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50000\r\n\r\n{',
    );
    expect(answer.startsWith('HTTP/1.1 408 ')).toBe(true);
    expect(answer).toContain('"code":"request_timeout"');
  });

  it('closes headers that trickle in after HTTP_HEADERS_TIMEOUT', async () => {
    const { answer } = await trickle('GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    expect(answer.startsWith('HTTP/1.1 408 ')).toBe(true);
  });

  it('lets a client that sent an over-limit body read the 413, then keeps its connection', async () => {
    const { port } = new URL(t.baseUrl);
    const body = JSON.stringify({ x: 'a'.repeat(200_000) });
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `PUT /api/v1/integrations/dynamics365 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
        );
        socket.write(body);
        // The same connection again: answered only when the first body was read to its end.
        socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    expect(answer.startsWith('HTTP/1.1 413 ')).toBe(true);
    expect(answer).toContain('"code":"payload_too_large"');
    expect(answer).toMatch(/HTTP\/1\.1 200 OK[\s\S]*"status":"ok"/);
  });

  it('closes connections over HTTP_MAX_CONNECTIONS_PER_CLIENT from one address', async () => {
    const { port } = new URL(t.baseUrl);
    const sockets = Array.from({ length: 7 }, () => connect(Number(port), '127.0.0.1'));
    const closed = await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<boolean>((resolve) => {
            socket.on('error', () => undefined);
            socket.on('close', () => resolve(true));
            setTimeout(() => resolve(false), 1000).unref();
          }),
      ),
    );
    expect(closed.filter(Boolean)).toHaveLength(3);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Once they are gone, the address is served again.
    expect((await t.request('/health/live')).status).toBe(200);
  });
});

describe('database outage', () => {
  it('answers /health/ready 503 (and API reads 503 unavailable) once the database is stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'd365-outage-'));
    chmodSync(dir, 0o755);
    const database = new EmbeddedDatabase({ dataDir: join(dir, 'pg') });
    const t = await startTestApp({ databaseUrl: await database.start() });
    try {
      expect((await t.request('/health/ready')).status).toBe(200);
      await database.stop();
      const response = await t.request('/health/ready');
      expect(response.status).toBe(503);
      const { error } = (await response.json()) as ErrorBody;
      expect(error.code).toBe('unavailable');
      expect((await t.request('/health/live')).status).toBe(200);
    } finally {
      await t.close().catch(() => undefined);
      await database.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('metrics', () => {
  const scrape = (url: string, token?: string) =>
    fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('behind METRICS_TOKEN when it is set', async () => {
    const t = await startTestApp({ env: { METRICS_TOKEN: 'scrape-token-0123456789' } });
    try {
      expect((await scrape(`${t.baseUrl}/metrics`)).status).toBe(401);
      expect((await scrape(`${t.baseUrl}/metrics`, 'wrong-token-0123456789')).status).toBe(401);
      const ok = await scrape(`${t.baseUrl}/metrics`, 'scrape-token-0123456789');
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('dynamics365_integrations');
    } finally {
      await t.close();
    }
  });

  it('on METRICS_PORT only, when it is set', async () => {
    const metricsPort = await findFreePort();
    const t = await startTestApp({ env: { METRICS_PORT: String(metricsPort) } });
    try {
      expect((await scrape(`${t.baseUrl}/metrics`)).status).toBe(404);
      const own = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(own.status).toBe(200);
      expect(await own.text()).toContain('http_request_duration_seconds');
      expect((await scrape(`http://127.0.0.1:${metricsPort}/api/v1/me`)).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  it('not public in production unless a token or a port says where', async () => {
    const t = await startTestApp({
      env: { NODE_ENV: 'production', DATABASE_EMBEDDED_IN_PRODUCTION: 'true' },
    });
    try {
      expect((await scrape(`${t.baseUrl}/metrics`)).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  it('counts stored connections without a database query per scrape', async () => {
    const t = await startTestApp();
    try {
      const repository = t.app.get(SettingsRepository);
      const summary = jest.spyOn(repository, 'summary');
      for (let i = 0; i < 5; i++) expect((await scrape(`${t.baseUrl}/metrics`)).status).toBe(200);
      expect((await t.request('/health/ready')).status).toBe(200);
      expect(summary).not.toHaveBeenCalled();
      expect(await (await scrape(`${t.baseUrl}/metrics`)).text()).toMatch(
        /dynamics365_integrations\{status="active"\} 0/,
      );
    } finally {
      await t.close();
    }
  });
});

describe('log lines written while a request is handled', () => {
  it('carry the request ids at LOG_LEVEL=debug (the request line carries them at every level)', async () => {
    const t = await startTestApp({ env: { LOG_LEVEL: 'debug' }, extraModules: [ProbeModule] });
    try {
      const response = await t.request('/api/v1/_probe/log-nested', {
        token: await t.token(),
        headers: { 'x-request-id': 'debug-context' },
      });
      const id = response.headers.get('x-request-id');
      const line = await t.waitForLog((l) => l.msg === 'nested secrets');
      expect(line).toMatchObject({ request_id: id, client_request_id: 'debug-context' });
      const done = await t.waitForLog((l) => l.msg === 'request completed' && l.request_id === id);
      expect(done.client_request_id).toBe('debug-context');
      expect(t.rawLogs()).not.toContain('nested-secret-2');
    } finally {
      await t.close();
    }
  });
});
