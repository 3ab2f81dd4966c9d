// Microsoft Entra ID client credentials token exchange. Ours rather than MSAL's because
// verification must never be answered from a cache (a rotated or revoked secret must really be
// tested) and every answer must map to an exact stage/outcome/AADSTS code.
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { authorityFor } from '../dynamics-domains.js';
import { parseJson } from '../json.js';
import { RetryPolicy, UpstreamHttp } from '../upstream-http.js';
import { retryAfterMs, UpstreamFailure, UpstreamTransportError } from '../upstream.js';

export interface ClientCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  environmentUrl: string;
}

export interface AccessToken {
  accessToken: string;
  expiresInSeconds: number;
  durationMs: number;
}

interface EntraErrorBody {
  error?: string;
  error_description?: string;
  error_codes?: number[];
  trace_id?: string;
}

@Injectable()
export class EntraTokenClient {
  constructor(
    private readonly config: AppConfig,
    private readonly http: UpstreamHttp,
  ) {}

  /** `{authority}/{tenant}/oauth2/v2.0/token`; the authority follows the environment's cloud. */
  tokenUrl(tenantId: string, environmentUrl: string): string {
    const authority = authorityFor(environmentUrl, this.config.microsoftLoginUrl);
    return `${authority}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`;
  }

  /**
   * A token for the environment (`<environment>/.default`), or with `target` for another
   * resource of the same app registration (the Messaging API scope), reported under its stage.
   */
  async exchangeClientCredentials(
    credentials: ClientCredentials,
    retry?: RetryPolicy,
    target: { scope: string; stage: 'messaging_token' } | undefined = undefined,
  ): Promise<AccessToken> {
    const stage = target?.stage ?? 'token_exchange';
    const started = Date.now();
    const elapsed = () => Date.now() - started;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
      scope: target?.scope ?? `${credentials.environmentUrl}/.default`,
    });
    let response;
    try {
      response = await this.http.send({
        url: this.tokenUrl(credentials.tenantId, credentials.environmentUrl),
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded;charset=utf-8',
          accept: 'application/json',
        },
        body: form.toString(),
        timeoutMs: this.config.upstreamTimeoutMs,
        retry,
      });
    } catch (error) {
      if (error instanceof UpstreamTransportError) {
        throw new UpstreamFailure(
          stage,
          'unreachable',
          null,
          null,
          `Microsoft Entra ID: ${error.message}.`,
          elapsed(),
        );
      }
      throw error;
    }

    const body = parseJson<EntraErrorBody & { access_token?: string; expires_in?: number | string }>(
      response.body,
    );
    if (response.status === 200 && typeof body?.access_token === 'string') {
      return {
        accessToken: body.access_token,
        expiresInSeconds: Number(body.expires_in ?? 0),
        durationMs: elapsed(),
      };
    }
    const code = body?.error_codes?.[0] !== undefined ? `AADSTS${body.error_codes[0]}` : null;
    const message = firstLine(body?.error_description) ?? describeStatus(response.status, response.attempts);
    const traceId = body?.trace_id ?? response.headers.get('x-ms-request-id');
    const definite = (response.status === 400 || response.status === 401) && body?.error !== undefined;
    throw new UpstreamFailure(
      stage,
      definite ? 'rejected' : 'unreachable',
      response.status,
      code,
      message,
      elapsed(),
      traceId,
      retryAfterMs(response.headers.get('retry-after')),
    );
  }
}

/** Entra's description without its Trace ID / Correlation ID / Timestamp trailer. */
function firstLine(description: string | undefined): string | null {
  if (!description) return null;
  return description.split(/\r?\n/)[0].trim();
}

function describeStatus(status: number, attempts: number): string {
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  if (status === 429) return `Microsoft Entra ID is throttling requests (HTTP 429)${tries}.`;
  if (status >= 500) return `Microsoft Entra ID is unavailable (HTTP ${status})${tries}.`;
  return `Microsoft Entra ID answered HTTP ${status} without a token.`;
}
