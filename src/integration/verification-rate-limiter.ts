import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { AppError } from '../common/errors.js';
import { PreparedStatement } from '../database/prepared-statement.js';

/** See decide: one statement on every Test & Save, test and verify, prepared once per connection. */
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

/**
 * At most VERIFY_RATE_LIMIT_PER_MINUTE verification attempts per org in any rolling 60 seconds,
 * counted in PostgreSQL so every instance shares the count: each org's row keeps the times of its
 * recent attempts. Not @nestjs/throttler: its guard runs before validation, and requests refused
 * by validation must not count; and its default storage is per process.
 */
@Injectable()
export class VerificationRateLimiter {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  async consume(orgId: string): Promise<void> {
    let decision = await this.decide(orgId);
    if (!decision) {
      await this.dataSource.query(
        'INSERT INTO verification_rate_limits (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING',
        [orgId],
      );
      decision = await this.decide(orgId);
    }
    if (!decision!.accepted) {
      const limit = this.config.verifyRateLimitPerMinute;
      throw new AppError(
        'rate_limited',
        `Too many verification attempts: at most ${limit} per minute per organisation. Try again in ${decision!.retry_after} s.`,
        { headers: { 'retry-after': String(decision!.retry_after) } },
      );
    }
  }

  /**
   * One statement (plain SQL for the row lock and the array): locks the org's row, keeps the
   * attempts of the last 60 s, appends this one if fewer than the limit, and says whether it did
   * and when the oldest counted attempt leaves the window. No row yet: undefined.
   */
  private async decide(orgId: string): Promise<{ accepted: boolean; retry_after: number } | undefined> {
    const rows = await DECIDE.rows<{ accepted: boolean; retry_after: number }>(this.dataSource, [
      orgId,
      this.config.verifyRateLimitPerMinute,
    ]);
    return rows[0];
  }
}
