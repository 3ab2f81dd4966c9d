import { createServer, Server } from 'node:http';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { AppError } from '../common/errors.js';
import { MetricsService } from './metrics.service.js';

/**
 * METRICS_PORT: /metrics on a listener of its own (node:http; nothing else is served there), so
 * scrapers reach it on a port the public never does.
 */
@Injectable()
export class MetricsListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MetricsListener.name);
  private server?: Server;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.metricsPort === undefined) return;
    const server = createServer((request, response) => {
      void this.answer(request.method, request.url, request.headers.authorization).then(
        ({ status, type, body, headers }) => {
          response.writeHead(status, { 'content-type': type, ...headers });
          response.end(body);
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.metricsPort, this.config.host, resolve);
    });
    this.server = server;
    this.logger.log(`Metrics on http://${this.config.host}:${this.config.metricsPort}/metrics`);
  }

  async onModuleDestroy(): Promise<void> {
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }

  private async answer(
    method: string | undefined,
    url: string | undefined,
    authorization: string | undefined,
  ) {
    const json = 'application/json; charset=utf-8';
    if (url?.split('?')[0] !== '/metrics' || (method !== 'GET' && method !== 'HEAD')) {
      return {
        status: 404,
        type: json,
        body: error('not_found', 'Only GET /metrics is served here.'),
        headers: {},
      };
    }
    try {
      this.metrics.authorize(authorization);
    } catch (failure) {
      const { message, extra } = failure as AppError;
      return { status: 401, type: json, body: error('unauthorized', message), headers: extra.headers ?? {} };
    }
    return {
      status: 200,
      type: 'text/plain; version=0.0.4; charset=utf-8',
      body: await this.metrics.registry.metrics(),
      headers: {},
    };
  }
}

function error(code: string, message: string): string {
  return JSON.stringify({ error: { code, message, request_id: null } });
}
