// Checks the token Microsoft sends with each activity on the messaging webhook: signed by the
// org's tenant's keys, from an accepted issuer, for the org's app. Microsoft documents only that
// the token comes in `x-ms-token` (managed identity with a federated credential of the app); the
// exact issuer, audience and keys are inferred, so each is configurable (MESSAGING_WEBHOOK_*).
import { Injectable } from '@nestjs/common';
import { errors, JWTPayload, jwtVerify } from 'jose';
import { AppConfig } from '../../config/app-config.js';
import { EntraSigningKeys, TenantUnknown } from '../../microsoft/auth/entra-signing-keys.js';
import { authorityFor } from '../../microsoft/dynamics-domains.js';
import type { IntegrationSettings } from '../../settings/settings.entity.js';

export class WebhookTokenRefused extends Error {}

@Injectable()
export class WebhookTokenVerifier {
  constructor(
    private readonly config: AppConfig,
    private readonly keys: EntraSigningKeys,
  ) {}

  /** The verified claims, or WebhookTokenRefused (answered 401, nothing stored). */
  async verify(
    token: string,
    settings: Pick<IntegrationSettings, 'tenantId' | 'clientId' | 'environmentUrl'>,
  ): Promise<JWTPayload> {
    const authority = authorityFor(settings.environmentUrl, this.config.microsoftLoginUrl);
    const tenant = await this.keys.tenantGuid(settings.tenantId, authority).catch((error: unknown) => {
      if (error instanceof TenantUnknown) throw new WebhookTokenRefused('tenant unknown');
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
        audience: audiences.map(fill),
        clockTolerance: 60,
        requiredClaims: ['exp', 'iss', 'aud'],
      });
      if (typeof payload.tid === 'string' && payload.tid.toLowerCase() !== tenant) {
        throw new WebhookTokenRefused('the token is from another tenant');
      }
      return payload;
    } catch (error) {
      if (error instanceof WebhookTokenRefused) throw error;
      if (error instanceof errors.JOSEError) throw new WebhookTokenRefused(error.code);
      throw error;
    }
  }
}
