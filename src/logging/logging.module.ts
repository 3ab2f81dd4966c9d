import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { clientRequestIdOf } from '../common/request-id.js';
import { redactDeep } from './redact.js';

/**
 * Structured logs with pino: JSON in production, pretty in development. Requests are logged with
 * method, URL, status and the request id; headers are never logged, and any field named like a
 * secret or token is replaced at any depth before a line is written.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig, stream?: DestinationStream): DynamicModule {
    const pretty = config.nodeEnv === 'development' && !stream;
    const options = {
      level: config.logLevel,
      genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? '',
      customProps: (req: IncomingMessage) => ({
        request_id: (req as IncomingMessage & { id?: string }).id,
        ...(clientRequestIdOf(req) ? { client_request_id: clientRequestIdOf(req) } : {}),
      }),
      serializers: {
        req: (req: { method?: string; url?: string; remoteAddress?: string }) => ({
          method: req.method,
          url: req.url?.split('?')[0],
          remote_address: req.remoteAddress,
        }),
        res: (res: { raw?: ServerResponse; statusCode?: number | null }) => ({
          status_code: res.raw?.statusCode ?? res.statusCode,
        }),
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', '*.client_secret'],
        censor: '[Redacted]',
      },
      formatters: { log: (object: Record<string, unknown>) => redactDeep(object) },
      autoLogging: {
        ignore: (req: IncomingMessage) => req.url === '/metrics' || req.url?.startsWith('/health') === true,
      },
      ...(pretty
        ? {
            transport: {
              target: 'pino-pretty',
              options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' },
            },
          }
        : {}),
    };
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: stream ? [options, stream] : options,
          // nestjs-pino's default route pattern "{/*splat}" matches no request under
          // @nestjs/platform-fastify 12.5, so its HTTP logging would silently never run.
          forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
        }),
      ],
    };
  }
}
