import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, Not } from 'typeorm';
import { IntegrationSettings } from './settings.entity.js';

/** Namespace of the per-org advisory locks taken before reading a row for update. */
const ORG_LOCK_NAMESPACE = 7303;

/** Columns `update` may write. */
const COLUMN_NAMES = {
  status: 'status',
  lastVerification: 'last_verification',
  lastVerifiedAt: 'last_verified_at',
  consecutiveUnreachable: 'consecutive_unreachable',
  lastSweptAt: 'last_swept_at',
  claimedUntil: 'claimed_until',
  claimedBy: 'claimed_by',
  version: 'version',
} as const;

/** Every method takes the org id: an org only ever reads and changes its own row. */
@Injectable()
export class SettingsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  findByOrg(
    orgId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<IntegrationSettings | null> {
    return manager.findOne(IntegrationSettings, { where: { orgId } });
  }

  /**
   * The org's row, locked until the transaction ends. An advisory lock on the org comes first so
   * that concurrent first saves (no row to lock yet) are serialised too.
   */
  async lockByOrg(manager: EntityManager, orgId: string): Promise<IntegrationSettings | null> {
    await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ORG_LOCK_NAMESPACE, orgId]);
    return manager.findOne(IntegrationSettings, { where: { orgId }, lock: { mode: 'pessimistic_write' } });
  }

  /** An existing row, locked until the transaction ends (no creation to serialise). */
  lockExistingByOrg(manager: EntityManager, orgId: string): Promise<IntegrationSettings | null> {
    return manager.findOne(IntegrationSettings, { where: { orgId }, lock: { mode: 'pessimistic_write' } });
  }

  /** Writes the given columns of a row already locked in this transaction (one UPDATE). */
  async update(manager: EntityManager, orgId: string, changes: Partial<IntegrationSettings>): Promise<Date> {
    const [rows] = await manager.query<[{ updated_at: Date }[], number]>(
      `UPDATE dynamics365_integration_settings SET ${Object.keys(changes)
        .map((key, i) => `${COLUMN_NAMES[key as keyof typeof COLUMN_NAMES]} = $${i + 2}`)
        .join(', ')}, updated_at = now() WHERE org_id = $1 RETURNING updated_at`,
      [
        orgId,
        ...Object.values(changes).map((v) =>
          v !== null && typeof v === 'object' && !(v instanceof Date) && !Buffer.isBuffer(v)
            ? JSON.stringify(v)
            : v,
        ),
      ],
    );
    return rows[0].updated_at;
  }

  async save(manager: EntityManager, settings: IntegrationSettings): Promise<IntegrationSettings> {
    return manager.save(IntegrationSettings, settings);
  }

  async deleteByOrg(manager: EntityManager, orgId: string): Promise<boolean> {
    const result = await manager.delete(IntegrationSettings, { orgId });
    return (result.affected ?? 0) > 0;
  }

  /** Rows whose secret is not under the given key, locked and skipped by concurrent rotations. */
  findBatchNotOnKey(manager: EntityManager, keyId: string, limit: number): Promise<IntegrationSettings[]> {
    return manager.find(IntegrationSettings, {
      where: { clientSecretKeyId: Not(keyId) },
      order: { orgId: 'ASC' },
      take: limit,
      lock: { mode: 'pessimistic_write', onLocked: 'skip_locked' },
    });
  }

  async updateCiphertext(
    manager: EntityManager,
    orgId: string,
    keyId: string,
    ciphertext: Buffer,
  ): Promise<void> {
    // Not a change the admin made: version and updated_at stay, so their If-Match stays valid.
    await manager.query(
      'UPDATE dynamics365_integration_settings SET client_secret_encrypted = $2, client_secret_key_id = $3 WHERE org_id = $1',
      [orgId, ciphertext, keyId],
    );
  }

  async countByKey(): Promise<Record<string, number>> {
    const rows = await this.dataSource.query<{ key_id: string; n: number }[]>(
      'SELECT client_secret_key_id AS key_id, count(*)::int AS n FROM dynamics365_integration_settings GROUP BY 1',
    );
    return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
  }
}
