import { Controller, Get, Header, Headers } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AppError } from '../common/errors.js';
import { Public } from '../common/public.decorator.js';
import { MetricsService } from './metrics.service.js';

/** /metrics on the service port (see MetricsService.servedOnServicePort). */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(@Headers('authorization') authorization: string | undefined): Promise<string> {
    if (!this.metrics.servedOnServicePort) throw new AppError('not_found', 'No route for GET /metrics.');
    this.metrics.authorize(authorization);
    return this.metrics.registry.metrics();
  }
}
