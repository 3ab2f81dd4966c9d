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

  /**
   * The hot read (every GET status): one plain parametrised query mapped by hand, which costs a
   * fraction of TypeORM's query building and hydration per call.
   */
  async findByOrg(
    orgId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<IntegrationSettings | null> {
    const rows = await manager.query<SettingsRow[]>(
      'SELECT * FROM dynamics365_integration_settings WHERE org_id = $1',
      [orgId],
    );
    return rows[0] ? toEntity(rows[0]) : null;
  }

  /**
   * The org's row, locked until the transaction ends. An advisory lock on the org comes first so
   * that concurrent first saves (no row to lock yet) are serialised too.
   */
  async lockByOrg(manager: EntityManager, orgId: string): Promise<IntegrationSettings | null> {
    await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ORG_LOCK_NAMESPACE, orgId]);
    return this.lockExistingByOrg(manager, orgId);
  }

  /** An existing row, locked until the transaction ends (no creation to serialise). */
  async lockExistingByOrg(manager: EntityManager, orgId: string): Promise<IntegrationSettings | null> {
    const rows = await manager.query<SettingsRow[]>(
      'SELECT * FROM dynamics365_integration_settings WHERE org_id = $1 FOR UPDATE',
      [orgId],
    );
    return rows[0] ? toEntity(rows[0]) : null;
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

  /** Rows grouped by status and key id, with how many have a secret expiring within `days` (or expired). */
  summary(days: number): Promise<{ status: string; key_id: string; n: number; expiring: number }[]> {
    return this.dataSource.query(
      `SELECT status, client_secret_key_id AS key_id, count(*)::int AS n,
              count(*) FILTER (WHERE secret_expires_at < now() + make_interval(days => $1))::int AS expiring
         FROM dynamics365_integration_settings GROUP BY 1, 2`,
      [days],
    );
  }

  async countByKey(): Promise<Record<string, number>> {
    const rows = await this.dataSource.query<{ key_id: string; n: number }[]>(
      'SELECT client_secret_key_id AS key_id, count(*)::int AS n FROM dynamics365_integration_settings GROUP BY 1',
    );
    return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
  }
}

interface SettingsRow {
  org_id: string;
  client_id: string;
  tenant_id: string;
  environment_url: string;
  client_secret_encrypted: Buffer;
  client_secret_key_id: string;
  client_secret_hint: string;
  secret_expires_at: Date | null;
  default_priority: number;
  default_owner_id: string | null;
  default_queue_id: string | null;
  default_workstream_id: string | null;
  ticket_properties: Record<string, unknown>;
  status: IntegrationSettings['status'];
  last_verified_at: Date | null;
  last_verification: IntegrationSettings['lastVerification'];
  consecutive_unreachable: number;
  last_swept_at: Date | null;
  claimed_until: Date | null;
  claimed_by: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

function toEntity(row: SettingsRow): IntegrationSettings {
  return Object.assign(new IntegrationSettings(), {
    orgId: row.org_id,
    clientId: row.client_id,
    tenantId: row.tenant_id,
    environmentUrl: row.environment_url,
    clientSecretEncrypted: row.client_secret_encrypted,
    clientSecretKeyId: row.client_secret_key_id,
    clientSecretHint: row.client_secret_hint,
    secretExpiresAt: row.secret_expires_at,
    defaultPriority: row.default_priority,
    defaultOwnerId: row.default_owner_id,
    defaultQueueId: row.default_queue_id,
    defaultWorkstreamId: row.default_workstream_id,
    ticketProperties: row.ticket_properties,
    status: row.status,
    lastVerifiedAt: row.last_verified_at,
    lastVerification: row.last_verification,
    consecutiveUnreachable: row.consecutive_unreachable,
    lastSweptAt: row.last_swept_at,
    claimedUntil: row.claimed_until,
    claimedBy: row.claimed_by,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}
