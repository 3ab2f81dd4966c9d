// Every statement on dataverse_call_slots and dataverse_environment_pauses: the call budget of each
// Dataverse environment, shared by all instances through PostgreSQL (DESIGN.md §14). Times are the
// database's clock: a pause travels as the milliseconds it has left, so instances whose clocks
// disagree still wait the same.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { poolOf } from '../database/pool.js';
import { PreparedStatement } from '../database/prepared-statement.js';

/** The channel a pause is announced on, to every instance at once. */
const PAUSED = 'dataverse_environment_paused';
/** The channel an interactive call that waits for a slot is announced on (the payload: the host). */
const WANTED = 'dataverse_slot_wanted';
/** The channel calls waiting for a slot are announced on (the payload: the host), at most once a second. */
const WAITING = 'dataverse_slot_waiting';
/** The channel a slot given back is announced on (the payload: the host), so waiting calls look at once. */
const FREED = 'dataverse_slot_freed';

export interface Pause {
  environment: string;
  remainingMs: number;
  code: string | null;
}

const ENSURE = new PreparedStatement(
  `INSERT INTO dataverse_call_slots (environment, slot)
   SELECT $1, generate_series(0, $2::int - 1) ON CONFLICT DO NOTHING`,
);

/**
 * Takes up to $4 free slots numbered $2 … $3−1 (a slot is free when no one holds it or its lease
 * ran out), unless the environment is paused — then it answers the pause instead. SKIP LOCKED:
 * instances taking slots at once take different ones, never wait for each other.
 */
const ACQUIRE = new PreparedStatement(
  `WITH pause AS (
     SELECT (extract(epoch FROM paused_until - clock_timestamp()) * 1000)::float8 AS remaining_ms, code
       FROM dataverse_environment_pauses
      WHERE environment = $1 AND paused_until > clock_timestamp()
   ), free AS (
     SELECT slot FROM dataverse_call_slots
      WHERE environment = $1 AND slot >= $2 AND slot < $3
        AND (holder IS NULL OR lease_until < clock_timestamp())
        AND NOT EXISTS (SELECT 1 FROM pause)
      ORDER BY slot DESC LIMIT $4
      FOR UPDATE SKIP LOCKED
   ), taken AS (
     UPDATE dataverse_call_slots s
        SET holder = $5, lease_until = clock_timestamp() + make_interval(secs => $6 / 1000.0)
       FROM free WHERE s.environment = $1 AND s.slot = free.slot
     RETURNING s.slot
   )
   SELECT ARRAY(SELECT slot::int FROM taken) AS slots,
          (SELECT remaining_ms FROM pause) AS remaining_ms,
          (SELECT code FROM pause) AS code,
          (SELECT count(*)::int FROM dataverse_call_slots WHERE environment = $1 AND slot < $3) AS known`,
);

const RELEASE = new PreparedStatement(
  `UPDATE dataverse_call_slots SET holder = NULL, lease_until = NULL
    WHERE environment = $1 AND slot = ANY($2::smallint[]) AND holder = $3`,
);

/** The same, announced: for environments where calls were seen waiting. */
const RELEASE_ANNOUNCED = new PreparedStatement(
  `WITH released AS (
     UPDATE dataverse_call_slots SET holder = NULL, lease_until = NULL
      WHERE environment = $1 AND slot = ANY($2::smallint[]) AND holder = $3
     RETURNING slot
   )
   SELECT pg_notify('${FREED}', $1) FROM (SELECT 1 FROM released LIMIT 1) AS any_released`,
);

const RENEW = new PreparedStatement(
  `UPDATE dataverse_call_slots SET lease_until = clock_timestamp() + make_interval(secs => $2 / 1000.0)
    WHERE holder = $1
   RETURNING environment, slot::int AS slot`,
);

/** A pause only ever grows: the later of the stored end and this one's. Announced in the same statement. */
const PAUSE = new PreparedStatement(
  `WITH paused AS (
     INSERT INTO dataverse_environment_pauses AS p (environment, paused_until, code)
     VALUES ($1, clock_timestamp() + make_interval(secs => $2 / 1000.0), $3)
     ON CONFLICT (environment) DO UPDATE
        SET code = CASE WHEN excluded.paused_until > p.paused_until THEN excluded.code ELSE p.code END,
            paused_until = GREATEST(p.paused_until, excluded.paused_until)
     RETURNING paused_until, code
   )
   SELECT pg_notify('${PAUSED}', json_build_object(
            'environment', $1::text,
            'remaining_ms', (extract(epoch FROM paused_until - clock_timestamp()) * 1000)::float8,
            'code', code)::text)
     FROM paused`,
);

const ACTIVE_PAUSES = new PreparedStatement(
  `SELECT environment, (extract(epoch FROM paused_until - clock_timestamp()) * 1000)::float8 AS remaining_ms, code
     FROM dataverse_environment_pauses WHERE paused_until > clock_timestamp()`,
);

@Injectable()
export class DataverseBudgetRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Slots 0 … count−1 of the environment exist (added when DATAVERSE_MAX_CONCURRENCY grew). */
  async ensure(environment: string, count: number): Promise<void> {
    await ENSURE.rows(this.dataSource, [environment, count]);
  }

  async acquire(
    environment: string,
    range: { from: number; to: number },
    count: number,
    holder: string,
    leaseMs: number,
  ): Promise<{ slots: number[]; pause: Pause | null; known: number }> {
    const [row] = await ACQUIRE.rows<{
      slots: number[];
      remaining_ms: number | null;
      code: string | null;
      known: number;
    }>(this.dataSource, [environment, range.from, range.to, count, holder, leaseMs]);
    return {
      slots: row.slots,
      known: row.known,
      pause:
        row.remaining_ms === null ? null : { environment, remainingMs: row.remaining_ms, code: row.code },
    };
  }

  /** Gives slots back; `announce`: tells every instance, so calls waiting elsewhere look at once. */
  async release(environment: string, slots: number[], holder: string, announce: boolean): Promise<void> {
    await (announce ? RELEASE_ANNOUNCED : RELEASE).rows(this.dataSource, [environment, slots, holder]);
  }

  /**
   * Extends the lease of every slot the holder still holds and answers those: a slot whose lease
   * lapsed and that another instance took since is not among them.
   */
  async renew(holder: string, leaseMs: number): Promise<{ environment: string; slot: number }[]> {
    return RENEW.rows(this.dataSource, [holder, leaseMs]);
  }

  /** Every slot the holder holds comes free (the instance is stopping). */
  async releaseAll(holder: string): Promise<void> {
    await this.dataSource.query(
      'UPDATE dataverse_call_slots SET holder = NULL, lease_until = NULL WHERE holder = $1',
      [holder],
    );
  }

  /** Pauses the environment for `ms` (or longer, if it already was) and tells every instance. */
  async pause(environment: string, ms: number, code: string | null): Promise<void> {
    await PAUSE.rows(this.dataSource, [environment, ms, code]);
  }

  /** Tells every instance an interactive call waits for a slot of the environment. */
  async want(environment: string): Promise<void> {
    await this.dataSource.query('SELECT pg_notify($1, $2)', [WANTED, environment]);
  }

  /** Tells every instance calls wait for a slot of the environment: slots given back get announced. */
  async waiting(environment: string): Promise<void> {
    await this.dataSource.query('SELECT pg_notify($1, $2)', [WAITING, environment]);
  }

  async activePauses(): Promise<Pause[]> {
    const rows = await ACTIVE_PAUSES.rows<{ environment: string; remaining_ms: number; code: string | null }>(
      this.dataSource,
      [],
    );
    return rows.map((r) => ({ environment: r.environment, remainingMs: r.remaining_ms, code: r.code }));
  }

  /** Pauses that ended an hour ago or more are forgotten. */
  async forgetEndedPauses(): Promise<void> {
    await this.dataSource.query(
      "DELETE FROM dataverse_environment_pauses WHERE paused_until < clock_timestamp() - interval '1 hour'",
    );
  }

  /**
   * A connection of its own that hears every pause and every waiting interactive call as they
   * are announced. The caller keeps it, and releases it (with the error) when it fails.
   */
  async listen(
    heard: (pause: Pause) => void,
    wanted: (environment: string) => void,
    freed: (environment: string) => void,
    waiting: (environment: string) => void,
    failed: (client: PoolClient, error: Error) => void,
  ): Promise<PoolClient> {
    const client = await poolOf(this.dataSource).connect();
    client.on('notification', (message) => {
      if (message.channel === WANTED && message.payload) wanted(message.payload);
      if (message.channel === FREED && message.payload) freed(message.payload);
      if (message.channel === WAITING && message.payload) waiting(message.payload);
      if (message.channel !== PAUSED || !message.payload) return;
      const body = JSON.parse(message.payload) as {
        environment: string;
        remaining_ms: number;
        code: string | null;
      };
      heard({ environment: body.environment, remainingMs: body.remaining_ms, code: body.code });
    });
    client.on('error', (error) => failed(client, error));
    await client.query(`LISTEN ${PAUSED}`);
    await client.query(`LISTEN ${WANTED}`);
    await client.query(`LISTEN ${FREED}`);
    await client.query(`LISTEN ${WAITING}`);
    return client;
  }
}
