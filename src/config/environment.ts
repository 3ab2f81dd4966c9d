import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppConfig, loadConfig } from './app-config.js';

/** Reads `.env` (when present, without overriding real variables) and the process environment. */
export function loadConfigFromProcess(): AppConfig {
  const envFile = resolve(process.cwd(), '.env');
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return loadConfig(process.env, { generateDevSecrets: process.env.NODE_ENV !== 'production' });
}
