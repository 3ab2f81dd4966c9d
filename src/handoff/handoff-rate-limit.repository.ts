// Every statement on handoff_rate_limits: each org's accepted handoffs per minute, counted in
// PostgreSQL so every instance shares the count. A fixed window per minute, one statement per
// handoff (an upsert that counts and answers): at 600 a minute, a rolling list of times (as the
// verification limit keeps for its 10) would rewrite hundreds of entries on every handoff.
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PreparedStatement } from '../database/prepared-statement.js';

const COUNT = new PreparedStatement(
  `INSERT INTO handoff_rate_limits (org_id, window_start, accepted) VALUES ($1, date_trunc('minute', now()), 1)
   ON CONFLICT (org_id, window_start) DO UPDATE SET accepted = handoff_rate_limits.accepted + 1
   RETURNING accepted, GREATEST(1, ceil(extract(epoch FROM (window_start + interval '1 minute' - now()))))::int AS retry_after`,
);

@Injectable()
export class HandoffRateLimitRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Counts one more handoff of the org in this minute: how many so far, and seconds to the next minute. */
  async count(orgId: string): Promise<{ accepted: number; retry_after: number }> {
    const [row] = await COUNT.rows<{ accepted: number; retry_after: number }>(this.dataSource, [orgId]);
    return row;
  }

  /** Windows that ended: removed (by the maintenance pass). */
  async forgetEnded(): Promise<void> {
    await this.dataSource.query(
      "DELETE FROM handoff_rate_limits WHERE window_start < date_trunc('minute', now()) - interval '1 minute'",
    );
  }
}
