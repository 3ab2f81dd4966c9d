// Where the configuration comes from: `.env` (when present, without overriding real variables)
// and the process environment; and, for the operator commands, the Microsoft settings of the
// service running on the same DATA_DIR.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppConfig, loadConfig } from './app-config.js';
import { processExists } from '../common/process-exists.js';

export function loadConfigFromProcess(): AppConfig {
  const envFile = resolve(process.cwd(), '.env');
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return loadConfig(process.env, { generateDevSecrets: process.env.NODE_ENV !== 'production' });
}

const RUNTIME_FILE = 'service.json';

/** The settings a command must share with the running service to act as it would. */
const SHARED = {
  MICROSOFT_LOGIN_URL: 'microsoftLoginUrl',
  DYNAMICS_ALLOWED_ORIGINS: 'dynamicsAllowedOrigins',
  UPSTREAM_TIMEOUT_MS: 'upstreamTimeoutMs',
  // What a sweep's alerts need to be queued as the service would queue them (it sends them).
  PUBLIC_URL: 'publicUrl',
  ALERTS_WEBHOOK_URL: 'alertsWebhookUrl',
} as const;

type SharedSettings = Pick<AppConfig, (typeof SHARED)[keyof typeof SHARED]>;

/**
 * Written by the service when it runs on the embedded database, removed when it stops: lets
 * `npm run revalidate` beside it reach Microsoft exactly as the service does, and queue the
 * alerts its sweep opens as the service would (the service sends them).
 */
export function publishServiceSettings(config: AppConfig): () => void {
  const file = join(config.dataDir, RUNTIME_FILE);
  const settings: SharedSettings & { pid: number; url: string } = {
    pid: process.pid,
    url: serviceUrl(config),
    microsoftLoginUrl: config.microsoftLoginUrl,
    dynamicsAllowedOrigins: config.dynamicsAllowedOrigins,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    publicUrl: config.publicUrl,
    alertsWebhookUrl: config.alertsWebhookUrl,
  };
  writeFileSync(file, JSON.stringify(settings, null, 2) + '\n', { mode: 0o644 });
  return () => rmSync(file, { force: true });
}

/** Where this configuration's service answers, for a command on the same machine. */
export function serviceUrl(config: Pick<AppConfig, 'host' | 'port'>): string {
  const host = ['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

/**
 * The address of the service running on the same DATA_DIR (embedded database only), as it
 * published it; undefined when none runs.
 */
export function runningServiceUrl(config: Pick<AppConfig, 'dataDir'>): string | undefined {
  const file = join(config.dataDir, RUNTIME_FILE);
  if (!existsSync(file)) return undefined;
  const service = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; url?: string };
  return processExists(service.pid) ? service.url : undefined;
}

/**
 * A command's configuration: its own, with each shared Microsoft setting it does not set itself
 * taken from the service running on the same DATA_DIR (embedded database only). Returns the
 * names of the settings taken.
 */
export function loadCommandConfig(): { config: AppConfig; adopted: string[] } {
  const config = loadConfigFromProcess();
  if (config.databaseUrl) return { config, adopted: [] };
  const file = join(config.dataDir, RUNTIME_FILE);
  if (!existsSync(file)) return { config, adopted: [] };
  const service = JSON.parse(readFileSync(file, 'utf8')) as SharedSettings & { pid: number };
  if (!processExists(service.pid)) return { config, adopted: [] };
  const adopted: string[] = [];
  for (const [name, field] of Object.entries(SHARED) as [keyof typeof SHARED, keyof SharedSettings][]) {
    if (process.env[name]?.trim() || service[field] === undefined) continue;
    Object.assign(config, { [field]: service[field] });
    adopted.push(name);
  }
  return { config, adopted };
}
