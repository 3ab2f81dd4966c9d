import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { roleProblems } from './runtime-role.js';

/**
 * Says at start — in the log and in /health/ready — when the role the service runs as can erase
 * what it should only append to: a superuser, or the owner of its tables (who can disable the
 * audit log's triggers). The fix is the two-role set-up (DATABASE_MIGRATION_URL).
 */
@Injectable()
export class DatabaseRole implements OnApplicationBootstrap {
  private readonly logger = new Logger('Database');
  problems: string[] = [];

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async onApplicationBootstrap(): Promise<void> {
    this.problems = await roleProblems(this.dataSource).catch(() => []);
    if (this.problems.length > 0) {
      this.logger.warn(
        `The database role the service runs as ${this.problems.join(' and ')}: it could disable the audit log's triggers and erase events unseen. Run the service as a role that owns nothing, with the owner in DATABASE_MIGRATION_URL (docs/production.md).`,
      );
    }
  }
}
