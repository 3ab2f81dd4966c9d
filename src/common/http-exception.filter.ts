import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from './database-errors.js';
import { AppError, ErrorBody, ErrorCode, httpStatusOf } from './errors.js';
import { allowedMethods } from './http-edge.js';

/**
 * The one place where failures become HTTP answers, always in the shape
 * `{"error": {code, message, details?, verification?, request_id}}`.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const error = this.toAppError(exception, request);
    if (error.code === 'internal_error') {
      this.logger.error({ err: exception, request_id: request.id }, 'Unhandled error');
    } else if (error.code === 'unavailable') {
      this.logger.warn({ err: exception, request_id: request.id }, 'Database unavailable');
    }
    const body: ErrorBody = {
      error: {
        code: error.code,
        message: error.message,
        ...(error.extra.details ? { details: error.extra.details } : {}),
        ...(error.extra.verification !== undefined ? { verification: error.extra.verification } : {}),
        request_id: request.id,
      },
    };
    for (const [name, value] of Object.entries(error.extra.headers ?? {})) void reply.header(name, value);
    void reply.header('x-request-id', request.id);
    // A handler may have set another type (text/csv, text/plain) before failing.
    void reply.type('application/json; charset=utf-8');
    // An over-limit body is refused before it is read; Fastify then closes the connection, and a
    // client still writing its body gets a broken pipe instead of this answer. Keeping the
    // connection lets Node read and discard the rest (within HTTP_REQUEST_TIMEOUT), so the client
    // finishes writing and reads the 413.
    if (error.code === 'payload_too_large') reply.removeHeader('connection');
    void reply.status(httpStatusOf(error.code)).send(body);
  }

  private toAppError(exception: unknown, request: FastifyRequest): AppError {
    if (exception instanceof AppError) return exception;
    if (exception instanceof HttpException) return fromHttpException(exception, request);
    const fastifyError = fromFastifyError(exception, request);
    if (fastifyError) return fastifyError;
    if (isDatabaseUnavailable(exception)) {
      return new AppError(
        'unavailable',
        'The database is unavailable; nothing was changed. Try again shortly.',
      );
    }
    return new AppError('internal_error', 'Internal server error.');
  }
}

function fromHttpException(exception: HttpException, request: FastifyRequest): AppError {
  const status = exception.getStatus();
  const response = exception.getResponse();
  const message = typeof response === 'object' && 'message' in response ? response.message : response;
  const text = Array.isArray(message)
    ? message.join('; ')
    : typeof message === 'string'
      ? message
      : exception.message;
  const code = codeForStatus(status);
  switch (code) {
    case 'not_found': {
      if (!/^Cannot [A-Z]+ /.test(text)) return new AppError(code, text);
      const allowed = allowedMethods(request);
      if (allowed.length > 0) {
        return new AppError('method_not_allowed', `${pathOf(request)} does not answer ${request.method}.`, {
          headers: { allow: allowed.join(', ') },
        });
      }
      return new AppError(code, `No route for ${request.method} ${pathOf(request)}.`);
    }
    case 'validation_failed':
      return AppError.validation(
        Array.isArray(message)
          ? message.map((m) => ({ field: 'body', message: String(m) }))
          : [{ field: 'body', message: text }],
      );
    case 'unavailable':
      return new AppError(code, 'The service is unavailable: its database cannot be reached.');
    case 'payload_too_large':
      return new AppError(code, tooLargeMessage(request));
    case 'internal_error':
      return new AppError(code, 'Internal server error.');
    case 'unauthorized':
    case 'forbidden':
    case 'method_not_allowed':
    case 'request_timeout':
    case 'headers_too_large':
    case 'conflict':
    case 'not_connected':
    case 'unsupported_media_type':
    case 'rate_limited':
    case 'verification_failed':
    case 'upstream_unavailable':
      return new AppError(code, text);
  }
}

/** Errors raised by Fastify itself before a handler runs (body parsing, limits). */
function fromFastifyError(exception: unknown, request: FastifyRequest): AppError | undefined {
  if (!exception || typeof exception !== 'object') return undefined;
  const { code, statusCode } = exception as { code?: unknown; statusCode?: unknown };
  if (typeof statusCode !== 'number') return undefined;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', tooLargeMessage(request));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'Send the request body as application/json.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return AppError.validation([
        { field: 'body', message: 'is shorter or longer than its Content-Length' },
      ]);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return AppError.validation([
        { field: 'body', message: 'must not be empty when Content-Type is application/json' },
      ]);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return AppError.validation([{ field: 'body', message: 'is not valid JSON' }]);
    default:
      if (exception instanceof SyntaxError && statusCode === 400) {
        return AppError.validation([{ field: 'body', message: 'is not valid JSON' }]);
      }
      return statusCode >= 400 && statusCode < 500
        ? new AppError(codeForStatus(statusCode), (exception as Error).message)
        : undefined;
  }
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
    case 422:
      return 'validation_failed';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 408:
      return 'request_timeout';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 431:
      return 'headers_too_large';
    case 429:
      return 'rate_limited';
    case 503:
      return 'unavailable';
    default:
      return status >= 400 && status < 500 ? 'validation_failed' : 'internal_error';
  }
}

function tooLargeMessage(request: FastifyRequest): string {
  const limit = request.routeOptions.bodyLimit;
  const size = limit >= 1024 * 1024 ? `${limit / (1024 * 1024)} MiB` : `${Math.round(limit / 1024)} KB`;
  return `The request body is larger than the ${size} limit of this route.`;
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0];
}
