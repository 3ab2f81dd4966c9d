// Every statement on verification_rate_limits: one org's recent verification attempts.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PreparedStatement } from '../database/prepared-statement.js';

/** See attempt: one statement on every Test & Save, test and verify, prepared once per connection. */
const DECIDE = new PreparedStatement(
  `WITH current AS (
     SELECT org_id,
            ARRAY(SELECT a FROM unnest(attempts) a WHERE a > now() - interval '60 seconds' ORDER BY a) AS recent
       FROM verification_rate_limits WHERE org_id = $1 FOR UPDATE
   ), recorded AS (
     UPDATE verification_rate_limits r
        SET attempts = CASE WHEN cardinality(c.recent) < $2 THEN c.recent || now() ELSE c.recent END
       FROM current c WHERE r.org_id = c.org_id
   )
   SELECT cardinality(recent) < $2 AS accepted,
          GREATEST(1, ceil(extract(epoch FROM
            (recent[GREATEST(1, cardinality(recent) - $2 + 1)] + interval '60 seconds' - now()))))::int AS retry_after
     FROM current`,
);

@Injectable()
export class VerificationRateLimitRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * One statement (plain SQL for the row lock and the array): locks the org's row, keeps the
   * attempts of the last 60 s, appends this one if fewer than `limit`, and says whether it did
   * and when the oldest counted attempt leaves the window. No row yet: undefined.
   */
  async attempt(
    orgId: string,
    limit: number,
  ): Promise<{ accepted: boolean; retry_after: number } | undefined> {
    const rows = await DECIDE.rows<{ accepted: boolean; retry_after: number }>(this.dataSource, [
      orgId,
      limit,
    ]);
    return rows[0];
  }

  /** The org's row, so that attempt has one to lock (a concurrent creation is no error). */
  async create(orgId: string): Promise<void> {
    await this.dataSource.query(
      'INSERT INTO verification_rate_limits (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING',
      [orgId],
    );
  }
}
