import { Controller, Get } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorResult,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { ApiTags, ApiOperation } from '@nestjs/swagger';
import { ApiErrorResponse } from '../common/api-docs.js';
import { Public } from '../common/public.decorator.js';
import { DatabaseRole } from '../database/database-role.js';
import { SettingsMetrics } from '../settings/settings.metrics.js';

// terminus documents its own failure body when it can load @nestjs/swagger (Node ≥ 22 can
// require() it); our 503 goes through the error filter, so the document is ours.
const HEALTH_CHECK = { noCache: true, swaggerDocumentation: false };

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly settings: SettingsMetrics,
    private readonly databaseRole: DatabaseRole,
  ) {}

  /** The process is up and serving HTTP. */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process is up and serving HTTP' })
  @HealthCheck(HEALTH_CHECK)
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  /**
   * The process can serve requests: its database answers (503 otherwise). `secrets` reports
   * stored secrets no key of this instance decrypts; they do not make the instance unready.
   */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the database answers (503 otherwise)' })
  @HealthCheck(HEALTH_CHECK)
  @ApiErrorResponse(503, 'unavailable: the database does not answer')
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 2000 }),
      () => this.secrets(),
      () => this.role(),
    ]);
  }

  /** Whether the role the service runs as could erase the audit log (it does not make the instance unready). */
  private role(): HealthIndicatorResult {
    return { database_role: { status: 'up', problems: this.databaseRole.problems } };
  }

  private secrets(): HealthIndicatorResult {
    const snapshot = this.settings.snapshot;
    return {
      secrets: {
        status: 'up',
        undecryptable: snapshot?.undecryptable ?? 0,
        missing_key_ids: snapshot?.missingKeyIds ?? [],
      },
    };
  }
}
