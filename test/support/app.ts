import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { DynamicModule, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { signDevToken } from '../../src/access/dev-token.js';
import { createApp } from '../../src/app.factory.js';
import { AppConfig, loadConfig } from '../../src/config/app-config.js';
import { createTestDatabase } from './database.js';
import { eventually } from './eventually.js';

export interface TestApp {
  app: NestFastifyApplication;
  baseUrl: string;
  config: AppConfig;
  databaseUrl: string;
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
  rawLogs: () => string;
  /** Resolves once a log line matching the predicate was written (request lines follow the response). */
  waitForLog: (
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ) => Promise<Record<string, unknown>>;
  token: (claims?: Partial<TokenClaims>) => Promise<string>;
  request: (path: string, init?: RequestInit & { token?: string }) => Promise<Response>;
  close: () => Promise<void>;
}

interface TokenClaims {
  org: string;
  roles: string[];
  sub: string;
  name?: string;
  ttlSeconds: number;
}

/** One audit chain key per test file, so every app a file starts on one database signs alike. */
const TEST_AUDIT_CHAIN_KEY = `a1:${randomBytes(32).toString('base64')}`;

export function testEnv(
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    AUDIT_CHAIN_KEY: TEST_AUDIT_CHAIN_KEY,
    AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    ...overrides,
  };
}

/** Boots the real application over HTTP on a free loopback port against a fresh database. */
export async function startTestApp(
  options: {
    env?: Record<string, string | undefined>;
    databaseUrl?: string;
    extraModules?: (Type | DynamicModule)[];
  } = {},
): Promise<TestApp> {
  const databaseUrl = options.databaseUrl ?? (await createTestDatabase());
  const config = loadConfig(testEnv({ DATABASE_URL: databaseUrl, ...options.env }));
  const chunks: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const app = await createApp({ config, databaseUrl, logStream, extraModules: options.extraModules });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = await app.getUrl();
  const rawLogs = () => chunks.join('');
  const parsedLogs = () =>
    rawLogs()
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    app,
    baseUrl: baseUrl.replace('[::1]', '127.0.0.1'),
    config,
    databaseUrl,
    get logs() {
      return parsedLogs();
    },
    rawLogs,
    waitForLog: (predicate, timeoutMs = 2000) =>
      eventually(() => parsedLogs().find(predicate), 'the expected log line', timeoutMs, 20),
    token: (claims = {}) =>
      signDevToken(config, { org: 'acme', roles: ['admin'], sub: 'alice', ttlSeconds: 600, ...claims }),
    request: (path, init = {}) => {
      const { token, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (token) headers.set('authorization', `Bearer ${token}`);
      return fetch(`${baseUrl}${path}`, { ...rest, headers });
    },
    close: () => app.close(),
  };
}
