// Development convenience: when keys are not configured outside production, generate them once
// into DATA_DIR (mode 0600) and reuse them, so encrypted rows stay readable and the audit chain
// stays verifiable across restarts.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevSecrets {
  encryption_keys: string;
  auth_jwt_secret: string;
  audit_chain_key: string;
}

const DEV_SECRETS_FILE = 'dev-secrets.json';

const generators: Record<keyof DevSecrets, () => string> = {
  encryption_keys: () => `dev1:${randomBytes(32).toString('base64')}`,
  auth_jwt_secret: () => randomBytes(48).toString('base64url'),
  audit_chain_key: () => `dev1:${randomBytes(32).toString('base64')}`,
};

export function devSecretsPath(dataDir: string): string {
  return join(dataDir, DEV_SECRETS_FILE);
}

/** The stored development secrets; any that are missing (e.g. added by a newer version) are generated and stored. */
export function loadOrCreateDevSecrets(dataDir: string): DevSecrets {
  const file = devSecretsPath(dataDir);
  const stored: Partial<DevSecrets> = existsSync(file) ? readStored(file) : {};
  const secrets = { ...stored } as DevSecrets;
  let changed = !existsSync(file);
  for (const name of Object.keys(generators) as (keyof DevSecrets)[]) {
    if (typeof secrets[name] !== 'string') {
      secrets[name] = generators[name]();
      changed = true;
    }
  }
  if (changed) writeDevSecrets(dataDir, secrets);
  return secrets;
}

/**
 * Puts a newly generated encryption key first in the development keyring (older keys stay, so
 * existing rows still decrypt) and returns its id. Used by `npm run keys:rotate` in development.
 */
export function addDevEncryptionKey(dataDir: string): string {
  const secrets = loadOrCreateDevSecrets(dataDir);
  const ids = secrets.encryption_keys.split(',').map((entry) => entry.split(':')[0]);
  let n = ids.length + 1;
  while (ids.includes(`dev${n}`)) n += 1;
  const id = `dev${n}`;
  secrets.encryption_keys = `${id}:${randomBytes(32).toString('base64')},${secrets.encryption_keys}`;
  writeDevSecrets(dataDir, secrets);
  return id;
}

function readStored(file: string): Partial<DevSecrets> {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  throw new Error(`${file} is not a valid development secrets file; delete it to generate a new one`);
}

/** Written to a temporary file and renamed, so a reader never sees half a file. */
function writeDevSecrets(dataDir: string, secrets: DevSecrets): void {
  mkdirSync(dataDir, { recursive: true });
  const file = devSecretsPath(dataDir);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}
