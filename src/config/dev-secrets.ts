import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Development convenience: when no keys are configured outside production, generate them once
 * into DATA_DIR (mode 0600) and reuse them, so encrypted rows stay readable across restarts.
 */
export interface DevSecrets {
  encryption_keys: string;
  auth_jwt_secret: string;
}

export const DEV_SECRETS_FILE = 'dev-secrets.json';

export function loadOrCreateDevSecrets(dataDir: string): DevSecrets {
  const file = join(dataDir, DEV_SECRETS_FILE);
  if (existsSync(file)) {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevSecrets>;
    if (typeof stored.encryption_keys === 'string' && typeof stored.auth_jwt_secret === 'string') {
      return stored as DevSecrets;
    }
    throw new Error(`${file} is not a valid development secrets file; delete it to generate a new one`);
  }
  mkdirSync(dataDir, { recursive: true });
  const secrets: DevSecrets = {
    encryption_keys: `dev1:${randomBytes(32).toString('base64')}`,
    auth_jwt_secret: randomBytes(48).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secrets;
}
