// `keys:rotate` for customer data: every sealed handoff body, event and waiting customer message
// re-sealed under the active key of ENCRYPTION_KEYS, a batch of locked rows at a time (beside a
// running service; concurrent runs skip each other's rows). A value that cannot be opened is
// reported and left as it is.
import type { DataSource } from 'typeorm';
import type { SecretCipher } from '../settings/secret-cipher.js';
import { CustomerDataRepository, SEALED_COLUMNS, SealedKind } from './customer-data.repository.js';

export interface CustomerDataRotation {
  rotated: Record<SealedKind, number>;
  remaining_on_old_keys: Record<SealedKind, Record<string, number>>;
  failed: { kind: SealedKind; id: string; error: string }[];
}

export async function rotateCustomerData(
  dataSource: DataSource,
  cipher: SecretCipher,
  batchSize = 100,
): Promise<CustomerDataRotation> {
  const repository = new CustomerDataRepository(dataSource);
  const report: CustomerDataRotation = {
    rotated: { handoffs: 0, events: 0, messages: 0 },
    remaining_on_old_keys: { handoffs: {}, events: {}, messages: {} },
    failed: [],
  };
  for (const kind of Object.keys(SEALED_COLUMNS) as SealedKind[]) {
    const field = SEALED_COLUMNS[kind].field;
    for (;;) {
      const done = await repository.transaction(async (manager) => {
        const batch = (await repository.sealedNotOnKey(manager, kind, cipher.activeKeyId, batchSize)).filter(
          (row) => !report.failed.some((f) => f.kind === kind && f.id === row.id),
        );
        for (const row of batch) {
          try {
            const column = `${field}:${row.scope}`;
            const plain = cipher.decrypt({ keyId: row.key_id, ciphertext: row.content }, row.org_id, column);
            const next = cipher.encrypt(plain, row.org_id, column);
            await repository.reseal(manager, kind, row.id, next.ciphertext, next.keyId);
            report.rotated[kind] += 1;
          } catch (error) {
            report.failed.push({ kind, id: row.id, error: (error as Error).message });
          }
        }
        return batch.length === 0;
      });
      if (done) break;
    }
    const counts = await repository.countSealedByKey(kind);
    delete counts[cipher.activeKeyId];
    report.remaining_on_old_keys[kind] = counts;
  }
  return report;
}
