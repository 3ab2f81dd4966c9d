// Structured logs with pino, written straight from Fastify hooks and Nest's Logger: JSON in
// production, pretty in development. pino directly rather than nestjs-pino: that library keeps
// one root logger per process (a second application in the process, as in tests, writes into
// the first one's stream) and logs requests through Express-style middleware (middie), which
// costs a measurable share of every request.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LoggerService } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import pino, { DestinationStream, Logger } from 'pino';
import type { AppConfig } from '../config/app-config.js';
import { clientRequestIdOf } from '../common/request-id.js';
import { redactDeep } from './redact.js';

/** Paths whose answers are not worth a log line each. */
const QUIET_PATHS = /^\/(metrics|health)(\/|$|\?)/;

/**
 * The application's logger: every line through the deep redaction of secrets (keys at any depth
 * and assignments inside text), one line per answered request with its ids.
 *
 * With LOG_LEVEL debug or trace, every line written while a request is handled also carries its
 * ids (an AsyncLocalStorage holds the request's child logger). Not at info and above: on Node 20
 * and 22 AsyncLocalStorage runs a hook on every promise, which cost the read path a sixth of its
 * throughput, and the lines written there at info and above name their own ids (request, org,
 * session) where they matter.
 */
export class AppLogger implements LoggerService {
  readonly root: Logger;
  private readonly requests = new AsyncLocalStorage<Logger>();
  private readonly contextual: boolean;

  constructor(config: Pick<AppConfig, 'logLevel' | 'nodeEnv'>, stream?: DestinationStream) {
    const options: pino.LoggerOptions = {
      level: config.logLevel,
      formatters: { log: (object: Record<string, unknown>) => redactDeep(object) },
    };
    const pretty = config.nodeEnv === 'development' && !stream;
    this.root = pretty
      ? pino({
          ...options,
          transport: {
            target: 'pino-pretty',
            options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' },
          },
        })
      : stream
        ? pino(options, stream)
        : pino(options);
    this.contextual = this.root.isLevelEnabled('debug');
  }

  /** The logger for the current request, or the root one outside requests. */
  get current(): Logger {
    return this.requests.getStore() ?? this.root;
  }

  /**
   * One line per answered request (method, path without query, status, time, both request ids);
   * health and metrics scrapes are not logged.
   */
  attach(fastify: FastifyInstance): void {
    if (this.contextual) {
      fastify.addHook('onRequest', (request, _reply, done) => {
        this.requests.enterWith(this.root.child(requestIds(request)));
        done();
      });
    }
    fastify.addHook('onResponse', (request, reply, done) => {
      if (!QUIET_PATHS.test(request.url) && this.root.isLevelEnabled('info')) {
        this.root.info(
          {
            ...requestIds(request),
            req: { method: request.method, url: request.url.split('?')[0], remote_address: request.ip },
            res: { status_code: reply.statusCode },
            response_time_ms: Math.round(reply.elapsedTime * 100) / 100,
          },
          'request completed',
        );
      }
      done();
    });
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /**
   * Nest calls `(message, ...params, context)`: the last string is the context (the class
   * name); an object first is merged into the line, with the next string as its message; an
   * error's stack (Nest passes it as a string) goes under `stack`.
   */
  private write(level: pino.Level, message: unknown, params: unknown[]): void {
    const logger = this.current;
    if (!logger.isLevelEnabled(level)) return;
    const rest = [...params];
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? rest.pop() : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    if (message instanceof Error) {
      logger[level]({ ...fields, err: message }, message.message);
    } else if (message !== null && typeof message === 'object') {
      const text = typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
      logger[level]({ ...fields, ...(message as Record<string, unknown>) }, text);
    } else {
      if (level === 'error' && typeof rest[0] === 'string' && rest[0].includes('\n    at '))
        fields.stack = rest.shift();
      logger[level](fields, String(message));
    }
  }
}

function requestIds(request: FastifyRequest): { request_id: string; client_request_id?: string } {
  const clientRequestId = clientRequestIdOf(request.raw);
  return clientRequestId
    ? { request_id: request.id, client_request_id: clientRequestId }
    : { request_id: request.id };
}
