// Every statement on dynamics365_integration_settings. TypeORM where it reads well (deleting a
// row, the key-rotation batches); plain SQL through the same DataSource where a benchmark showed
// the need — prepared statements for the status read on every GET, Test & Save's lock and write,
// the recorder's single UPDATE and the sweep's claim — or the query is PostgreSQL-specific
// (advisory locks, the sweep's FOR UPDATE SKIP LOCKED).
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, Not } from 'typeorm';
import { EntityColumns } from '../database/entity-columns.js';
import { PreparedStatement } from '../database/prepared-statement.js';
import { IntegrationSettings } from './settings.entity.js';

/** Namespace of the per-org advisory locks taken before reading a row for update. */
const ORG_LOCK_NAMESPACE = 7303;

/** The table's columns, from the entity. */
const COLUMNS = new EntityColumns(IntegrationSettings);
const ROW = COLUMNS.list;

/** The columns `update` writes. */
type Updatable =
  'status' | 'lastVerification' | 'lastVerifiedAt' | 'consecutiveUnreachable' | 'readiness' | 'version';

/** The columns Test & Save writes (see save): everything but the sweep's bookkeeping and the times. */
const SAVED_COLUMNS = COLUMNS.columns
  .filter(
    ({ property }) =>
      !['orgId', 'lastSweptAt', 'claimedUntil', 'claimedBy', 'createdAt', 'updatedAt'].includes(property),
  )
  .map(({ property, column }) => [property, column] as const);

/** What a sweep needs of a claimed row to verify it (see ClaimedRow). */
const CLAIMED = [
  'orgId',
  'clientId',
  'tenantId',
  'environmentUrl',
  'clientSecretEncrypted',
  'clientSecretKeyId',
  'credentialType',
  'certificatePem',
  'messagingOrganizationId',
  'messagingScope',
  'status',
  // What readiness checks besides the credentials.
  'defaultQueueId',
  'defaultOwnerId',
  'defaultWorkstreamId',
  'messagingEndpoint',
  'messagingChannelId',
] as const satisfies readonly (keyof IntegrationSettings)[];

/** The hot statements, prepared once per connection. */
const FIND = new PreparedStatement(`SELECT ${ROW} FROM dynamics365_integration_settings WHERE org_id = $1`);
const LOCK = new PreparedStatement(
  `SELECT ${ROW} FROM dynamics365_integration_settings WHERE org_id = $1 FOR UPDATE`,
);
const SAVE = new PreparedStatement(
  `INSERT INTO dynamics365_integration_settings (org_id, ${SAVED_COLUMNS.map(([, column]) => column).join(', ')})
   VALUES ($1, ${SAVED_COLUMNS.map((_, i) => `$${i + 2}`).join(', ')})
   ON CONFLICT (org_id) DO UPDATE
     SET ${SAVED_COLUMNS.map(([, column]) => `${column} = EXCLUDED.${column}`).join(', ')}, updated_at = now()
   RETURNING ${ROW}`,
);
const CLAIM = new PreparedStatement(
  `UPDATE dynamics365_integration_settings s
      SET claimed_until = now() + make_interval(secs => $3 / 1000.0), claimed_by = $2
    WHERE s.org_id = (
      SELECT org_id FROM dynamics365_integration_settings
       WHERE (last_swept_at IS NULL OR last_swept_at < $1)
         AND (claimed_until IS NULL OR claimed_until < now())
       ORDER BY last_swept_at NULLS FIRST, org_id
       LIMIT 1
       FOR UPDATE SKIP LOCKED)
    RETURNING ${CLAIMED.map((property) => `s.${COLUMNS.column(property)} AS "${property}"`).join(', ')}`,
);

export type SettingsChanges = Partial<Pick<IntegrationSettings, Updatable>>;

/** What a sweep needs of a claimed row to verify it. */
export type ClaimedRow = Pick<IntegrationSettings, (typeof CLAIMED)[number]>;

/** Every method takes the org id: an org only ever reads and changes its own row. */
@Injectable()
export class SettingsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The hot read (every GET status): one prepared statement, mapped by hand. */
  async findByOrg(orgId: string, manager?: EntityManager): Promise<IntegrationSettings | null> {
    const [row] = await FIND.rows(manager ?? this.dataSource, [orgId]);
    return row ? COLUMNS.toEntity(row) : null;
  }

  /**
   * The org's row, locked until the transaction ends. A row that exists is locked by itself (one
   * round trip). With no row yet there is nothing to lock, so concurrent first saves are
   * serialised by an advisory lock on the org, and the row is read again after it: a save that
   * waited for another's creation finds (and locks) the row that save committed — the new
   * statement's snapshot is taken after the lock was granted.
   */
  async lockByOrg(manager: EntityManager, orgId: string): Promise<IntegrationSettings | null> {
    const existing = await this.lockExistingByOrg(manager, orgId);
    if (existing) return existing;
    await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [ORG_LOCK_NAMESPACE, orgId]);
    return this.lockExistingByOrg(manager, orgId);
  }

  /** An existing row, locked until the transaction ends (no creation to serialise). */
  async lockExistingByOrg(manager: EntityManager, orgId: string): Promise<IntegrationSettings | null> {
    const [row] = await LOCK.rows(manager, [orgId]);
    return row ? COLUMNS.toEntity(row) : null;
  }

  /**
   * Writes the given columns of a row locked in this transaction, in one UPDATE; `releaseLease`
   * also marks it verified by the current sweep and gives its lease back (see claimNextDue).
   */
  async update(
    manager: EntityManager,
    orgId: string,
    changes: SettingsChanges,
    options: { releaseLease?: boolean } = {},
  ): Promise<Date> {
    const entries = Object.entries(changes) as [keyof SettingsChanges, unknown][];
    const assignments = entries.map(([key], i) => `${COLUMNS.column(key)} = $${i + 2}`);
    if (options.releaseLease)
      assignments.push('last_swept_at = now(), claimed_until = NULL, claimed_by = NULL');
    // A few fixed shapes (the recorder's, the sweep's): each prepared once per connection.
    const rows = await PreparedStatement.of(
      `UPDATE dynamics365_integration_settings SET ${assignments.join(', ')}, updated_at = now()
        WHERE org_id = $1 RETURNING updated_at`,
    ).rows<{ updated_at: Date }>(manager, [orgId, ...entries.map(([, value]) => toParameter(value))]);
    return rows[0].updated_at;
  }

  /**
   * Test & Save's write: the row as the admin set it and as it verified, created or updated in
   * one statement (TypeORM's save reads the row back first and costs two round trips more; the
   * row is already locked by lockByOrg). Sweep bookkeeping (last_swept_at, lease) stays as it is.
   */
  async save(manager: EntityManager, settings: IntegrationSettings): Promise<IntegrationSettings> {
    const values = SAVED_COLUMNS.map(([property]) => toParameter(settings[property]));
    const [row] = await SAVE.rows(manager, [settings.orgId, ...values]);
    return COLUMNS.toEntity(row);
  }

  async deleteByOrg(manager: EntityManager, orgId: string): Promise<boolean> {
    const result = await manager.delete(IntegrationSettings, { orgId });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Leases the next org not verified since `cutoff` for `leaseMs` and returns its stored
   * credentials (one round trip per org). `FOR UPDATE SKIP LOCKED` lets concurrent instances
   * claim different orgs; an expired lease (a crashed instance) is claimed again. The lease is
   * given back by `update(…, { releaseLease: true })` or `releaseUnverified`.
   */
  async claimNextDue(cutoff: Date, instanceId: string, leaseMs: number): Promise<ClaimedRow | null> {
    const rows = await CLAIM.rows<ClaimedRow>(this.dataSource, [cutoff, instanceId, leaseMs]);
    return rows[0] ?? null;
  }

  /**
   * Gives back the lease of a row the sweep could not verify (an unexpected error such as an
   * undecryptable secret): it counts as swept for this run, so the run ends instead of claiming
   * it again and again; the next run tries it afresh. Status and last verification stay.
   */
  async releaseUnverified(orgId: string, instanceId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE dynamics365_integration_settings
          SET last_swept_at = now(), claimed_until = NULL, claimed_by = NULL
        WHERE org_id = $1 AND claimed_by = $2`,
      [orgId, instanceId],
    );
  }

  /** Rows not verified since `cutoff` (all verified, none held by a live lease, when 0). */
  async countDue(cutoff: Date): Promise<number> {
    const [row] = await this.dataSource.query<{ due: number }[]>(
      `SELECT count(*)::int AS due FROM dynamics365_integration_settings
        WHERE last_swept_at IS NULL OR last_swept_at < $1`,
      [cutoff],
    );
    return row.due;
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
    // Not a change the admin made: version and updated_at stay (TypeORM's update would touch
    // updated_at), so an If-Match the admin holds stays valid.
    await manager.query(
      'UPDATE dynamics365_integration_settings SET client_secret_encrypted = $2, client_secret_key_id = $3 WHERE org_id = $1',
      [orgId, ciphertext, keyId],
    );
  }

  /** Rows grouped by status and key id, with how many have a secret expiring within `days` (or expired). */
  summary(
    days: number,
  ): Promise<{ status: string; key_id: string; n: number; expiring: number; not_ready: number }[]> {
    return this.dataSource.query(
      `SELECT status, client_secret_key_id AS key_id, count(*)::int AS n,
              count(*) FILTER (WHERE secret_expires_at < now() + make_interval(days => $1))::int AS expiring,
              count(*) FILTER (WHERE (readiness ->> 'ready')::boolean IS FALSE)::int AS not_ready
         FROM dynamics365_integration_settings GROUP BY 1, 2`,
      [days],
    );
  }

  /** Every connection whose admin entered the secret's expiry: when, and which secret. */
  secretExpiries(): Promise<
    {
      org_id: string;
      client_id: string;
      client_secret_hint: string;
      credential_type: 'client_secret' | 'certificate';
      secret_expires_at: Date;
    }[]
  > {
    return this.dataSource.query(
      `SELECT org_id, client_id, client_secret_hint, credential_type, secret_expires_at
         FROM dynamics365_integration_settings WHERE secret_expires_at IS NOT NULL`,
    );
  }

  async countByKey(): Promise<Record<string, number>> {
    const rows = await this.dataSource.query<{ key_id: string; n: number }[]>(
      'SELECT client_secret_key_id AS key_id, count(*)::int AS n FROM dynamics365_integration_settings GROUP BY 1',
    );
    return Object.fromEntries(rows.map((r) => [r.key_id, r.n]));
  }
}

/** A bound value for a column: jsonb values as JSON text; dates, buffers and scalars as they are. */
function toParameter(value: unknown): unknown {
  return value !== null && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)
    ? JSON.stringify(value)
    : value;
}
