// Checks the token Microsoft sends with each activity on the messaging webhook: signed by the
// org's tenant's keys, from an accepted issuer, for the org's app. Microsoft documents only that
// the token comes in `x-ms-token` (managed identity with a federated credential of the app); the
// exact issuer, audience and keys are inferred, so each is configurable (MESSAGING_WEBHOOK_*).
import { Injectable, Logger } from '@nestjs/common';
import { createRemoteJWKSet, errors, JWTPayload, jwtVerify } from 'jose';
import { AppConfig } from '../../config/app-config.js';
import { authorityFor } from '../../microsoft/dynamics-domains.js';
import type { IntegrationSettings } from '../../settings/settings.entity.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT_CACHE_MS = 60 * 60_000;

export class WebhookTokenRefused extends Error {}

@Injectable()
export class WebhookTokenVerifier {
  private readonly logger = new Logger(WebhookTokenVerifier.name);
  private readonly keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  private readonly tenants = new Map<string, { id: string; until: number }>();

  constructor(private readonly config: AppConfig) {}

  /** The verified claims, or WebhookTokenRefused (answered 401, nothing stored). */
  async verify(
    token: string,
    settings: Pick<IntegrationSettings, 'tenantId' | 'clientId' | 'environmentUrl'>,
  ): Promise<JWTPayload> {
    const authority = authorityFor(settings.environmentUrl, this.config.microsoftLoginUrl);
    const tenant = await this.tenantGuid(settings.tenantId, authority);
    const fill = (template: string) =>
      template
        .replaceAll('{tenant}', tenant)
        .replaceAll('{client_id}', settings.clientId)
        .replaceAll('{authority}', authority);
    const { issuers, audiences, jwksUrl } = this.config.messagingWebhook;
    try {
      const { payload } = await jwtVerify(token, this.keySet(fill(jwksUrl)), {
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

  private keySet(url: string): ReturnType<typeof createRemoteJWKSet> {
    let keys = this.keySets.get(url);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(url), { timeoutDuration: this.config.upstreamTimeoutMs });
      this.keySets.set(url, keys);
    }
    return keys;
  }

  /** The tenant's GUID: as stored, or for a domain from its OpenID configuration (cached an hour). */
  private async tenantGuid(tenantId: string, authority: string): Promise<string> {
    if (GUID.test(tenantId)) return tenantId.toLowerCase();
    const cached = this.tenants.get(tenantId);
    if (cached && cached.until > Date.now()) return cached.id;
    const url = `${authority}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(this.config.upstreamTimeoutMs) }).catch(
      (error: Error) => {
        this.logger.warn(`Could not read the OpenID configuration of tenant ${tenantId}: ${error.message}`);
        throw new WebhookTokenRefused('tenant unknown');
      },
    );
    const issuer = response.ok ? ((await response.json()) as { issuer?: string }).issuer : undefined;
    const id = /\/([0-9a-f-]{36})\/v2\.0\/?$/i.exec(issuer ?? '')?.[1]?.toLowerCase();
    if (!id) throw new WebhookTokenRefused('tenant unknown');
    this.tenants.set(tenantId, { id, until: Date.now() + TENANT_CACHE_MS });
    return id;
  }
}
