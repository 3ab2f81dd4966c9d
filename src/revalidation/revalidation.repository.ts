import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { IntegrationStatus } from '../settings/settings.entity.js';

/** What a sweep needs of a claimed row to verify it. */
export interface ClaimedRow {
  orgId: string;
  clientId: string;
  tenantId: string;
  environmentUrl: string;
  clientSecretEncrypted: Buffer;
  clientSecretKeyId: string;
  status: IntegrationStatus;
}

export interface RevalidationRun {
  id: string;
  trigger: 'schedule' | 'manual';
  /** Rows last swept before this are due in this run. */
  cutoff: Date;
  joined: boolean;
}

/** Lock namespace serialising run creation, so concurrent sweeps agree on one run. */
const RUN_LOCK = 7302;

/**
 * All sweep coordination goes through PostgreSQL: instances starting a sweep join the run that is
 * still in progress (a scheduled tick always maps to one run), and claim due rows one at a time
 * with a lease (`FOR UPDATE SKIP LOCKED`), so each org is verified once per run by one instance
 * and a crashed instance's rows come back when its lease expires.
 */
@Injectable()
export class RevalidationRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async startOrJoinRun(
    trigger: 'schedule' | 'manual',
    tick: Date | null,
    staleAfterMs: number,
  ): Promise<RevalidationRun> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [RUN_LOCK]);
      const existing = await manager.query<{ id: string; started_at: Date }[]>(
        tick
          ? 'SELECT id::text, started_at FROM revalidation_runs WHERE tick = $1'
          : `SELECT id::text, started_at FROM revalidation_runs
             WHERE finished_at IS NULL AND heartbeat_at > now() - make_interval(secs => $1 / 1000.0)
             ORDER BY id DESC LIMIT 1`,
        [tick ?? staleAfterMs],
      );
      if (existing[0]) {
        await manager.query('UPDATE revalidation_runs SET heartbeat_at = now() WHERE id = $1', [
          existing[0].id,
        ]);
        return { id: existing[0].id, trigger, cutoff: existing[0].started_at, joined: true };
      }
      const [created] = await manager.query<{ id: string; started_at: Date }[]>(
        'INSERT INTO revalidation_runs (trigger, tick) VALUES ($1, $2) RETURNING id::text, started_at',
        [trigger, tick],
      );
      return { id: created.id, trigger, cutoff: created.started_at, joined: false };
    });
  }

  /**
   * Claims the next due org of the run for `leaseMs` and returns its stored credentials (one round
   * trip per org); null when none is left to claim.
   */
  async claimNext(run: RevalidationRun, instanceId: string, leaseMs: number): Promise<ClaimedRow | null> {
    // TypeORM answers UPDATE … RETURNING with [rows, rowCount] on PostgreSQL.
    const [rows] = await this.dataSource.query<[ClaimedRow[], number]>(
      `UPDATE dynamics365_integration_settings s
          SET claimed_until = now() + make_interval(secs => $3 / 1000.0), claimed_by = $2
        WHERE s.org_id = (
          SELECT org_id FROM dynamics365_integration_settings
           WHERE (last_swept_at IS NULL OR last_swept_at < $1)
             AND (claimed_until IS NULL OR claimed_until < now())
           ORDER BY last_swept_at NULLS FIRST, org_id
           LIMIT 1
           FOR UPDATE SKIP LOCKED)
        RETURNING s.org_id AS "orgId", s.client_id AS "clientId", s.tenant_id AS "tenantId",
                  s.environment_url AS "environmentUrl", s.client_secret_encrypted AS "clientSecretEncrypted",
                  s.client_secret_key_id AS "clientSecretKeyId", s.status`,
      [run.cutoff, instanceId, leaseMs],
    );
    return rows[0] ?? null;
  }

  /** Tells joining instances the run is alive (see startOrJoinRun's staleness rule). */
  async heartbeat(run: RevalidationRun): Promise<void> {
    await this.dataSource.query('UPDATE revalidation_runs SET heartbeat_at = now() WHERE id = $1', [run.id]);
  }

  /**
   * Closes a row this run could not verify (an unexpected error such as an undecryptable secret):
   * it counts as swept for this run, so the run ends instead of claiming it again and again; the
   * next run tries it afresh. Its status and last verification stay as they were.
   */
  async markSweptWithoutResult(orgId: string, instanceId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE dynamics365_integration_settings
          SET last_swept_at = now(), claimed_until = NULL, claimed_by = NULL
        WHERE org_id = $1 AND claimed_by = $2`,
      [orgId, instanceId],
    );
  }

  /** Marks the run finished when no row is due any more (all verified, none held by a live lease). */
  async finishRunIfComplete(run: RevalidationRun): Promise<boolean> {
    const [row] = await this.dataSource.query<{ due: number }[]>(
      `SELECT count(*)::int AS due FROM dynamics365_integration_settings
        WHERE last_swept_at IS NULL OR last_swept_at < $1`,
      [run.cutoff],
    );
    if (row.due > 0) return false;
    await this.dataSource.query(
      'UPDATE revalidation_runs SET finished_at = now() WHERE id = $1 AND finished_at IS NULL',
      [run.id],
    );
    return true;
  }
}
