import type { DataSource } from 'typeorm';
import { SecretCipher } from './secret-cipher.js';
import { SettingsRepository } from './settings.repository.js';

export interface RotationReport {
  active_key_id: string;
  rotated: number;
  /** Rows still under another key, by key id (e.g. rows another run holds, or that failed). */
  remaining_on_old_keys: Record<string, number>;
  failed: { org_id: string; error: string }[];
}

/**
 * Re-encrypts every stored secret under the active key, in batches of locked rows (concurrent
 * runs skip each other's rows). Rows that cannot be decrypted are reported, not dropped.
 */
export async function rotateSecrets(
  dataSource: DataSource,
  cipher: SecretCipher,
  batchSize = 100,
): Promise<RotationReport> {
  const repository = new SettingsRepository(dataSource);
  const failed: RotationReport['failed'] = [];
  let rotated = 0;
  for (;;) {
    const done = await repository.transaction(async (manager) => {
      const batch = (await repository.findBatchNotOnKey(manager, cipher.activeKeyId, batchSize)).filter(
        (row) => !failed.some((f) => f.org_id === row.orgId),
      );
      for (const row of batch) {
        try {
          const next = cipher.reencrypt(
            { keyId: row.clientSecretKeyId, ciphertext: row.clientSecretEncrypted },
            row.orgId,
          );
          await repository.updateCiphertext(manager, row.orgId, next.keyId, next.ciphertext);
          rotated += 1;
        } catch (error) {
          failed.push({ org_id: row.orgId, error: (error as Error).message });
        }
      }
      return batch.length === 0;
    });
    if (done) break;
  }
  const counts = await repository.countByKey();
  delete counts[cipher.activeKeyId];
  return { active_key_id: cipher.activeKeyId, rotated, remaining_on_old_keys: counts, failed };
}
