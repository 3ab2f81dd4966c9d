import { Controller, Get, Header, Headers } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiErrorResponse } from '../common/api-docs.js';
import { AppError } from '../common/errors.js';
import { Public } from '../common/public.decorator.js';
import { MetricsService } from './metrics.service.js';

/** /metrics on the service port (see MetricsService.servedOnServicePort). */
@ApiTags('operations')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'Served here unless METRICS_PORT moves it to its own listener; needs `Authorization: Bearer <METRICS_TOKEN>` when that is set; not served in production without one of them.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text format 0.0.4', schema: { type: 'string' } })
  @ApiErrorResponse(401, 'unauthorized: METRICS_TOKEN is set and the bearer token is not it')
  @ApiErrorResponse(404, 'not_found: not served on this port (METRICS_PORT, or production without a token)')
  scrape(@Headers('authorization') authorization: string | undefined): Promise<string> {
    if (!this.metrics.servedOnServicePort) throw new AppError('not_found', 'No route for GET /metrics.');
    this.metrics.authorize(authorization);
    return this.metrics.registry.metrics();
  }
}
