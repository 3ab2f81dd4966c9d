import { Injectable } from '@nestjs/common';
import { retryAfterMs, UpstreamTransportError } from './upstream.js';

/**
 * The one place that sends HTTP to Microsoft: a per-attempt timeout, no redirects (an answer
 * from anywhere but the host we chose is not an answer), and a bounded number of retries for
 * throttling (429) and server errors (5xx) that honours Retry-After. Transport failures are
 * classified; a timeout is never retried, so a hanging host is answered within the limit.
 */
export interface RetryPolicy {
  maxRetries: number;
  /** A Retry-After longer than this is not waited for: the call gives up at once. */
  maxRetryAfterMs: number;
  /** Backoff when no Retry-After is given: base × 2^attempt, with full jitter. */
  baseBackoffMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 2, maxRetryAfterMs: 5000, baseBackoffMs: 250 };

/** For callers that retry themselves (the nightly sweep): one attempt per call. */
export const NO_RETRY: RetryPolicy = { maxRetries: 0, maxRetryAfterMs: 0, baseBackoffMs: 0 };

export interface UpstreamResponse {
  status: number;
  headers: Headers;
  body: string;
  attempts: number;
}

export interface UpstreamRequest {
  url: string;
  method: 'GET' | 'POST' | 'PATCH';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  retry?: RetryPolicy;
}

@Injectable()
export class UpstreamHttp {
  async send(request: UpstreamRequest): Promise<UpstreamResponse> {
    const policy = request.retry ?? DEFAULT_RETRY_POLICY;
    for (let attempt = 0; ; attempt++) {
      const response = await this.attempt(request);
      const retryable = response.status === 429 || response.status >= 500;
      if (!retryable || attempt >= policy.maxRetries) return { ...response, attempts: attempt + 1 };
      const waitMs = retryDelayMs(response.headers.get('retry-after'), attempt, policy);
      if (waitMs === undefined) return { ...response, attempts: attempt + 1 };
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  private async attempt(request: UpstreamRequest): Promise<Omit<UpstreamResponse, 'attempts'>> {
    try {
      const response = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(request.timeoutMs),
      });
      const body = await response.text();
      return { status: response.status, headers: response.headers, body };
    } catch (error) {
      throw classify(error, request.timeoutMs);
    }
  }
}

function retryDelayMs(retryAfter: string | null, attempt: number, policy: RetryPolicy): number | undefined {
  const ms = retryAfterMs(retryAfter);
  if (ms !== null) return ms > policy.maxRetryAfterMs ? undefined : ms;
  return Math.random() * policy.baseBackoffMs * 2 ** attempt;
}

function classify(error: unknown, timeoutMs: number): UpstreamTransportError {
  const name = (error as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new UpstreamTransportError('timeout', `no answer within ${timeoutMs} ms`);
  }
  const code = (error as { cause?: { code?: string } }).cause?.code;
  if (code === 'ENOTFOUND')
    return new UpstreamTransportError('dns_not_found', 'the host name does not exist (DNS)');
  if (
    code &&
    /^(ECONNREFUSED|ECONNRESET|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|UND_ERR_SOCKET)$/.test(code)
  ) {
    return new UpstreamTransportError('connection', `the connection failed (${code})`);
  }
  return new UpstreamTransportError('other', `the request failed (${code ?? name ?? 'unknown error'})`);
}
