// Microsoft Entra ID client credentials token exchange. Ours rather than MSAL's because
// verification must never be answered from a cache (a rotated or revoked secret must really be
// tested) and every answer must map to an exact stage/outcome/AADSTS code. With a certificate the
// app proves itself with a client assertion (RFC 7523) signed here: a new one for every exchange
// (MSAL reuses its own for 10 minutes; a fresh jti and a 5-minute lifetime leave nothing to replay).
import { createPrivateKey, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SignJWT } from 'jose';
import { AppConfig } from '../../config/app-config.js';
import { authorityFor } from '../dynamics-domains.js';
import { parseJson } from '../json.js';
import { RetryPolicy, UpstreamHttp } from '../upstream-http.js';
import { retryAfterMs, UpstreamFailure, UpstreamTransportError } from '../upstream.js';

/** How the app proves itself: a client secret, or a certificate's private key. */
export type AppCredential =
  | { type: 'client_secret'; secret: string }
  | {
      type: 'certificate';
      /** PKCS#8 PEM. */
      privateKeyPem: string;
      /** SHA-256 of the certificate's DER, base64url: the assertion's `x5t#S256`. */
      thumbprintSha256: string;
      /** SHA-1, upper-case hex, as the Azure portal lists it (for hints). */
      thumbprint: string;
    };

export interface ClientCredentials {
  tenantId: string;
  clientId: string;
  credential: AppCredential;
  environmentUrl: string;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** A client assertion lives this long (Microsoft asks for a short one; MSAL uses 10 minutes). */
const ASSERTION_LIFETIME_SECONDS = 300;

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
    const url = this.tokenUrl(credentials.tenantId, credentials.environmentUrl);
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: credentials.clientId,
      ...(await proofOf(credentials, url)),
      scope: target?.scope ?? `${credentials.environmentUrl}/.default`,
    });
    let response;
    try {
      response = await this.http.send({
        url,
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

/**
 * The form fields that prove the app: its secret, or a client assertion as Microsoft's
 * "certificate credentials" page describes it — header `alg` PS256, `typ` JWT, `x5t#S256`; claims
 * `aud` the token endpoint, `iss` = `sub` = the client id, `jti`, `nbf`, `iat`, `exp`.
 */
async function proofOf(credentials: ClientCredentials, tokenUrl: string): Promise<Record<string, string>> {
  const { credential } = credentials;
  if (credential.type === 'client_secret') return { client_secret: credential.secret };
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'PS256', typ: 'JWT', 'x5t#S256': credential.thumbprintSha256 })
    .setAudience(tokenUrl)
    .setIssuer(credentials.clientId)
    .setSubject(credentials.clientId)
    .setJti(randomUUID())
    .setNotBefore(now)
    .setIssuedAt(now)
    .setExpirationTime(now + ASSERTION_LIFETIME_SECONDS)
    .sign(createPrivateKey(credential.privateKeyPem));
  return { client_assertion_type: JWT_BEARER, client_assertion: assertion };
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
