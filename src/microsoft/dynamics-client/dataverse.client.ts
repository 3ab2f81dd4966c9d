// Dataverse Web API client (v9.2). Ours rather than dynamics-web-api because every answer must
// map to a stage, an outcome and Dataverse's own error code, with bounded retries honouring
// Retry-After; later features add calls on top of `send`.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { parseJson } from '../json.js';
import { RetryPolicy, UpstreamHttp, UpstreamResponse } from '../upstream-http.service.js';
import { retryAfterMs, UpstreamFailure, UpstreamTransportError } from '../upstream.js';

const WEB_API_PATH = '/api/data/v9.2';

const ODATA_HEADERS = {
  accept: 'application/json',
  'odata-maxversion': '4.0',
  'odata-version': '4.0',
};

interface DataverseErrorBody {
  error?: { code?: string; message?: string };
}

@Injectable()
export class DataverseClient {
  constructor(
    private readonly config: AppConfig,
    private readonly http: UpstreamHttp,
  ) {}

  /** The cheapest call that proves the app user exists, is enabled and may read cases. */
  async probeIncidents(
    environmentUrl: string,
    accessToken: string,
    retry?: RetryPolicy,
  ): Promise<{ durationMs: number }> {
    const started = Date.now();
    await this.send(
      environmentUrl,
      accessToken,
      'GET',
      '/incidents?$top=1&$select=incidentid',
      undefined,
      retry,
    );
    return { durationMs: Date.now() - started };
  }

  async send(
    environmentUrl: string,
    accessToken: string,
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body?: unknown,
    retry?: RetryPolicy,
  ): Promise<UpstreamResponse> {
    const started = Date.now();
    const elapsed = () => Date.now() - started;
    let response: UpstreamResponse;
    try {
      response = await this.http.send({
        url: `${environmentUrl}${WEB_API_PATH}${path}`,
        method,
        headers: {
          ...ODATA_HEADERS,
          authorization: `Bearer ${accessToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        timeoutMs: this.config.upstreamTimeoutMs,
        retry,
      });
    } catch (error) {
      if (error instanceof UpstreamTransportError) {
        // A name that does not resolve is a definite answer: no such environment.
        const outcome = error.kind === 'dns_not_found' ? 'rejected' : 'unreachable';
        throw new UpstreamFailure(
          'dynamics_probe',
          outcome,
          null,
          null,
          `Dataverse: ${error.message}.`,
          elapsed(),
        );
      }
      throw error;
    }
    if (response.status >= 200 && response.status < 300) return response;

    const parsed = parseJson<DataverseErrorBody>(response.body)?.error;
    const requestId = response.headers.get('req_id') ?? response.headers.get('x-ms-service-request-id');
    const definite = response.status === 401 || response.status === 403 || response.status === 404;
    throw new UpstreamFailure(
      'dynamics_probe',
      definite ? 'rejected' : 'unreachable',
      response.status,
      parsed?.code || null,
      parsed?.message ?? describeStatus(response.status, response.attempts),
      elapsed(),
      requestId,
      retryAfterMs(response.headers.get('retry-after')),
    );
  }
}

function describeStatus(status: number, attempts: number): string {
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  if (status === 401) return 'Dataverse did not accept the access token (HTTP 401).';
  if (status === 429) return `Dataverse is throttling requests (HTTP 429)${tries}.`;
  if (status >= 500) return `Dataverse is unavailable (HTTP ${status})${tries}.`;
  if (status >= 300 && status < 400)
    return `Dataverse answered with a redirect (HTTP ${status}), which is not followed.`;
  return `Dataverse answered HTTP ${status}.`;
}
