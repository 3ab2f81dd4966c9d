import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config.js';
import { AppError } from '../common/errors.js';

/**
 * VERIFY_RATE_LIMIT_PER_MINUTE verification attempts per org per minute, counted in PostgreSQL so
 * every instance shares the count. Not @nestjs/throttler: its guard runs before validation, and
 * requests refused by validation must not count; and its default storage is per process.
 */
@Injectable()
export class VerificationRateLimiter {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  async consume(orgId: string): Promise<void> {
    const [row] = await this.dataSource.query<{ attempts: number; reset_in: number }[]>(
      `WITH cleanup AS (
         DELETE FROM verification_attempts WHERE org_id = $1 AND window_start < date_trunc('minute', now())
       )
       INSERT INTO verification_attempts (org_id, window_start, attempts)
       VALUES ($1, date_trunc('minute', now()), 1)
       ON CONFLICT (org_id, window_start) DO UPDATE SET attempts = verification_attempts.attempts + 1
       RETURNING attempts, ceil(extract(epoch FROM (window_start + interval '1 minute' - now())))::int AS reset_in`,
      [orgId],
    );
    if (row.attempts > this.config.verifyRateLimitPerMinute) {
      throw new AppError(
        'rate_limited',
        `Too many verification attempts: at most ${this.config.verifyRateLimitPerMinute} per minute per organisation. Try again in ${row.reset_in} s.`,
        { headers: { 'retry-after': String(Math.max(1, row.reset_in)) } },
      );
    }
  }
}
