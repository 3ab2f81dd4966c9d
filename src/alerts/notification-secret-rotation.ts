// `keys:rotate` for the alerts room: each org's alert-webhook signing secret re-encrypted under the
// active key of ENCRYPTION_KEYS (the same keyring as client secrets, bound to its own column).
import type { DataSource } from 'typeorm';
import type { SecretCipher } from '../settings/secret-cipher.js';
import { WEBHOOK_SECRET_COLUMN } from './alert-sender.js';
import { AlertsRepository } from './alerts.repository.js';

export async function rotateNotificationSecrets(
  dataSource: DataSource,
  cipher: SecretCipher,
): Promise<{ rotated: number; failed: { org_id: string; error: string }[] }> {
  const repository = new AlertsRepository(dataSource);
  const report = { rotated: 0, failed: [] as { org_id: string; error: string }[] };
  await repository.transaction(async (manager) => {
    for (const row of await repository.secretsNotOnKey(manager, cipher.activeKeyId)) {
      try {
        const plain = cipher.decrypt(
          { keyId: row.key_id, ciphertext: row.secret },
          row.org_id,
          WEBHOOK_SECRET_COLUMN,
        );
        const next = cipher.encrypt(plain, row.org_id, WEBHOOK_SECRET_COLUMN);
        await repository.resealSecret(manager, row.org_id, next.ciphertext, next.keyId);
        report.rotated += 1;
      } catch (error) {
        report.failed.push({ org_id: row.org_id, error: (error as Error).message });
      }
    }
  });
  return report;
}
