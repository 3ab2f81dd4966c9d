import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { AppError } from '../common/errors.js';
import { VerificationRateLimitRepository } from './verification-rate-limit.repository.js';

/**
 * At most VERIFY_RATE_LIMIT_PER_MINUTE verification attempts per org in any rolling 60 seconds,
 * counted in PostgreSQL so every instance shares the count: each org's row keeps the times of its
 * recent attempts. Not @nestjs/throttler: its guard runs before validation, and requests refused
 * by validation must not count; and its default storage is per process.
 */
@Injectable()
export class VerificationRateLimiter {
  constructor(
    private readonly limits: VerificationRateLimitRepository,
    private readonly config: AppConfig,
  ) {}

  async consume(orgId: string): Promise<void> {
    const limit = this.config.verifyRateLimitPerMinute;
    let decision = await this.limits.attempt(orgId, limit);
    if (!decision) {
      await this.limits.create(orgId);
      decision = await this.limits.attempt(orgId, limit);
    }
    if (!decision!.accepted) {
      throw new AppError(
        'rate_limited',
        `Too many verification attempts: at most ${limit} per minute per organisation. Try again in ${decision!.retry_after} s.`,
        { headers: { 'retry-after': String(decision!.retry_after) } },
      );
    }
  }
}
