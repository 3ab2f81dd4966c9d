// Every statement on revalidation_runs: plain SQL, because joining a run must happen under a
// PostgreSQL advisory lock. (The orgs themselves are claimed and released through the settings
// repository, which owns their table.)
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

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
 * Instances starting a sweep join the run still in progress (a scheduled tick always maps to one
 * run), so each org is verified once per run whatever the number of instances.
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
             ORDER BY revalidation_runs.id DESC LIMIT 1`,
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

  /** Tells joining instances the run is alive (see startOrJoinRun's staleness rule). */
  async heartbeat(run: RevalidationRun): Promise<void> {
    await this.dataSource.query('UPDATE revalidation_runs SET heartbeat_at = now() WHERE id = $1', [run.id]);
  }

  async finishRun(run: RevalidationRun): Promise<void> {
    await this.dataSource.query(
      'UPDATE revalidation_runs SET finished_at = now() WHERE id = $1 AND finished_at IS NULL',
      [run.id],
    );
  }
}
