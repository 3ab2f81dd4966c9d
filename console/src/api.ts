// The service's API as the console's components use it: a bearer token from the host's token
// provider, the API's error shape read into one error type, and a 401 announced to the page.

import type { components } from './api-types.js';

/** The API's documents, as its OpenAPI document describes them (console/src/api-types.ts). */
export type Schemas = components['schemas'];

/** A host supplies the token: a string, or a function (e.g. one that refreshes it). */
export type TokenProvider = () => string | Promise<string>;

export interface FieldProblem {
  field: string;
  message: string;
}

/** One verification stage's result (the API's StageResultDto). */
export type StageResult = Schemas['StageResultDto'];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldProblem[] = [],
    readonly verification: StageResult | null = null,
  ) {
    super(message);
  }
}

/** Fired (bubbling, composed) on the element whose call got a 401: the page asks for a new token. */
export const UNAUTHORIZED_EVENT = 'dynamics365-unauthorized';

export class Api {
  constructor(
    private readonly tokenProvider: TokenProvider,
    private readonly base = '',
    private readonly origin?: EventTarget,
  ) {}

  async json<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<{ status: number; body: T; headers: Headers }> {
    const response = await this.send(method, path, body, { accept: 'application/json', ...headers }, signal);
    const text = await response.text();
    return {
      status: response.status,
      body: (text ? JSON.parse(text) : undefined) as T,
      headers: response.headers,
    };
  }

  /** The raw answer (CSV export); errors are thrown like json()'s. */
  async send(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Response> {
    const token = await this.tokenProvider();
    const response = await fetch(`${this.base}${path}`, {
      method,
      signal,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
    if (response.ok) return response;
    const error = await toError(response);
    if (error.status === 401) {
      this.origin?.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT, { bubbles: true, composed: true }));
    }
    throw error;
  }
}

async function toError(response: Response): Promise<ApiError> {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as {
      error?: { code?: string; message?: string; details?: FieldProblem[]; verification?: StageResult };
    };
    if (parsed.error) {
      return new ApiError(
        response.status,
        parsed.error.code ?? 'error',
        parsed.error.message ?? `HTTP ${response.status}`,
        parsed.error.details ?? [],
        parsed.error.verification ?? null,
      );
    }
  } catch {
    // not the API's error shape
  }
  return new ApiError(response.status, 'error', `The service answered HTTP ${response.status}.`);
}

/** What to show for a failed call: the API's own message, or that the service was not reached. */
export function failureText(error: unknown): string {
  return error instanceof ApiError
    ? error.message
    : `The service could not be reached: ${(error as Error).message}`;
}

/** Local time, minutes precision; '—' for none. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        timeZoneName: 'short',
      });
}
