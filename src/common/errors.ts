/**
 * Every failure the API reports carries one of these stable codes; the global filter maps
 * codes to HTTP statuses in one exhaustive switch.
 */
export type ErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'conflict'
  | 'not_connected'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'headers_too_large'
  | 'rate_limited'
  | 'verification_failed'
  | 'upstream_unavailable'
  | 'unavailable'
  | 'internal_error';

export interface FieldProblem {
  field: string;
  message: string;
}

export interface AppErrorExtra {
  details?: FieldProblem[];
  verification?: unknown;
  headers?: Record<string, string>;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: AppErrorExtra = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  static validation(details: FieldProblem[], message = 'The request is not valid.'): AppError {
    return new AppError('validation_failed', message, { details });
  }
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'validation_failed':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'method_not_allowed':
      return 405;
    case 'request_timeout':
      return 408;
    case 'conflict':
    case 'not_connected':
      return 409;
    case 'payload_too_large':
      return 413;
    case 'unsupported_media_type':
      return 415;
    case 'headers_too_large':
      return 431;
    case 'rate_limited':
      return 429;
    case 'verification_failed':
      return 422;
    case 'upstream_unavailable':
      return 502;
    case 'unavailable':
      return 503;
    case 'internal_error':
      return 500;
  }
}

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    details?: FieldProblem[];
    verification?: unknown;
    request_id: string;
  };
}
