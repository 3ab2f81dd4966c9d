// Checks the token Microsoft sends with each activity on the messaging webhook: signed by the
// org's tenant's keys, from an accepted issuer, for the org's app. Microsoft documents only that
// the token comes in `x-ms-token` (managed identity with a federated credential of the app); the
// exact issuer, audience and keys are inferred, so each is configurable (MESSAGING_WEBHOOK_*).
import { Injectable } from '@nestjs/common';
import { decodeJwt, errors, JWTPayload, jwtVerify } from 'jose';
import { AppConfig } from '../../config/app-config.js';
import { EntraSigningKeys, TenantUnknown } from '../../microsoft/auth/entra-signing-keys.js';
import { authorityFor } from '../../microsoft/dynamics-domains.js';
import type { IntegrationSettings } from '../../settings/settings.entity.js';

const CLOCK_TOLERANCE_S = 60;
/** The longest a webhook token may live (Entra issues them for about an hour). */
const MAX_LIFETIME_S = 24 * 3600;

/** Why a webhook call was refused, as the metric counts it (a closed set: never the token's content). */
export type WebhookRejection =
  | 'no_token'
  | 'no_messaging_connection'
  | 'not_a_jwt'
  | 'tenant_unknown'
  | 'other_tenant'
  | 'other_caller'
  | 'too_long_lived'
  | 'expired'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'bad_signature'
  | 'invalid';

export class WebhookTokenRefused extends Error {
  constructor(readonly reason: WebhookRejection) {
    super(reason);
  }
}

/** jose's refusal as one of ours. */
function rejectionOf(error: InstanceType<typeof errors.JOSEError>): WebhookRejection {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'wrong_issuer';
    if (error.claim === 'aud') return 'wrong_audience';
    return 'invalid';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) {
    return 'bad_signature';
  }
  return 'invalid';
}

@Injectable()
export class WebhookTokenVerifier {
  constructor(
    private readonly config: AppConfig,
    private readonly keys: EntraSigningKeys,
  ) {}

  /**
   * The verified claims, or WebhookTokenRefused (answered 401, nothing stored). Accepted only when
   * signed by the org's tenant's keys, from an accepted issuer of that tenant, for the org's app
   * (its Application ID URI — `messaging_webhook_audience`, default `api://<client_id>` — or its
   * client id), called by the org's app (`azp` in v2 tokens, `appid` in v1; another app of the
   * same tenant obtains tokens for the same audience) and current: not yet expired, valid already,
   * issued in the past, for at most 24 hours.
   */
  async verify(
    token: string,
    settings: Pick<
      IntegrationSettings,
      'tenantId' | 'clientId' | 'environmentUrl' | 'messagingWebhookAudience' | 'messagingWebhookCallerId'
    >,
  ): Promise<JWTPayload> {
    // Not even a JWT: refused without asking anyone (a tenant lookup is not for anonymous callers).
    try {
      decodeJwt(token);
    } catch {
      throw new WebhookTokenRefused('not_a_jwt');
    }
    const authority = authorityFor(settings.environmentUrl, this.config.microsoftLoginUrl);
    const tenant = await this.keys.tenantGuid(settings.tenantId, authority).catch((error: unknown) => {
      if (error instanceof TenantUnknown) throw new WebhookTokenRefused('tenant_unknown');
      throw error;
    });
    const fill = (template: string) =>
      template
        .replaceAll('{tenant}', tenant)
        .replaceAll('{client_id}', settings.clientId)
        .replaceAll('{authority}', authority);
    const { issuers, audiences, jwksUrl } = this.config.messagingWebhook;
    try {
      const { payload } = await jwtVerify(token, this.keys.keySet(fill(jwksUrl)), {
        algorithms: ['RS256'],
        issuer: issuers.map(fill),
        audience: settings.messagingWebhookAudience
          ? [settings.messagingWebhookAudience, settings.clientId]
          : audiences.map(fill),
        clockTolerance: CLOCK_TOLERANCE_S,
        // iat in the future is refused by jose; a token older than this is refused too.
        maxTokenAge: MAX_LIFETIME_S,
        requiredClaims: ['exp', 'iat', 'iss', 'aud'],
      });
      if (typeof payload.tid === 'string' && payload.tid.toLowerCase() !== tenant) {
        throw new WebhookTokenRefused('other_tenant');
      }
      const caller = typeof payload.azp === 'string' ? payload.azp : payload.appid;
      const expected = (settings.messagingWebhookCallerId ?? settings.clientId).toLowerCase();
      if (typeof caller !== 'string' || caller.toLowerCase() !== expected) {
        throw new WebhookTokenRefused('other_caller');
      }
      if (payload.exp! - payload.iat! > MAX_LIFETIME_S) {
        throw new WebhookTokenRefused('too_long_lived');
      }
      return payload;
    } catch (error) {
      if (error instanceof WebhookTokenRefused) throw error;
      if (error instanceof errors.JOSEError) throw new WebhookTokenRefused(rejectionOf(error));
      throw error;
    }
  }
}
