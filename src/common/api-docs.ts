// How the OpenAPI document describes failures: one error schema for every error response, and
// one decorator that lists the failures an operation can answer, each with what it means.
import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { ErrorCode } from './errors.js';

class FieldProblemDto {
  @ApiProperty({ example: 'client_id' }) field!: string;
  @ApiProperty({ example: 'client_id must be a GUID such as 1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b' })
  message!: string;
}

class ErrorDto {
  @ApiProperty({ example: 'validation_failed', description: 'Stable code; see docs/api.md (errors)' })
  code!: ErrorCode;
  @ApiProperty({ example: 'The request is not valid.' }) message!: string;
  @ApiPropertyOptional({ type: [FieldProblemDto], description: 'validation_failed: each offending field' })
  details?: FieldProblemDto[];
  @ApiPropertyOptional({
    type: Object,
    description: 'verification_failed / upstream_unavailable: the Microsoft stage, status, code and hint',
  })
  verification?: Record<string, unknown>;
  @ApiProperty({ example: '7f5b9dba-0f26-43b2-8ac3-5ca29a1d2a42', description: 'Also in X-Request-Id' })
  request_id!: string;
}

class ErrorResponseDto {
  @ApiProperty({ type: ErrorDto }) error!: ErrorDto;
}

/** What each status means on this API. */
const MEANINGS = {
  400: 'validation_failed: a field is missing or malformed; `details` names each one (nothing reached Microsoft)',
  401: 'unauthorized: no valid bearer token',
  403: 'forbidden: the token lacks the role this operation needs',
  404: 'not_found: no Dynamics 365 connection is stored for the org, or no such handoff',
  409: 'conflict: If-Match names an older version, the stored secret cannot be decrypted, or (handoffs) the session was submitted with another body or is not in a state for this; not_connected: the org has no stored connection',
  413: 'payload_too_large: the body is over the route’s limit (1 MiB for handoffs, 64 KB elsewhere)',
  415: 'unsupported_media_type: send the body as application/json',
  422: 'verification_failed: Microsoft rejected the credentials; `verification` says where and why',
  429: 'rate_limited: too many attempts for this org (verifications, or new handoffs); see Retry-After',
  502: 'upstream_unavailable: Microsoft did not answer in time; nothing changed',
  503: 'unavailable: the database cannot be reached',
} as const;

export type DocumentedStatus = keyof typeof MEANINGS;

/** Every authenticated route can answer these. */
const ALWAYS: DocumentedStatus[] = [401, 503];

/** The error responses of an authenticated operation, beyond 401 and 503, all in the error schema. */
export function ApiErrors(...statuses: DocumentedStatus[]): MethodDecorator & ClassDecorator {
  const all = [...new Set([...ALWAYS, ...statuses])].sort();
  return applyDecorators(
    ApiExtraModels(ErrorResponseDto),
    ...all.map((status) =>
      ApiResponse({
        status,
        description: MEANINGS[status],
        content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorResponseDto) } } },
        ...(status === 429
          ? { headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds' } } }
          : {}),
      }),
    ),
  );
}

/** One documented error response in the error schema, for routes outside the bearer-token API. */
export function ApiErrorResponse(status: number, description: string): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ErrorResponseDto),
    ApiResponse({
      status,
      description,
      content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorResponseDto) } } },
    }),
  );
}

/** A GUID property: `format: uuid` and an example that validates. */
export const GUID_EXAMPLE = '1c8f2a4e-3b5d-4e6f-8a9b-0c1d2e3f4a5b';
