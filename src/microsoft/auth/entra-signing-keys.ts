// What Entra ID publishes to check the tokens it signs: a tenant's signing keys (its JWKS) and,
// for a tenant named by a verified domain, its GUID (from its OpenID configuration). jose fetches
// and caches the key sets (rotating keys are re-read on an unknown `kid`); the tenant GUIDs are
// cached an hour.
import { Injectable, Logger } from '@nestjs/common';
import { createRemoteJWKSet } from 'jose';
import { AppConfig } from '../../config/app-config.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT_CACHE_MS = 60 * 60_000;

export type KeySet = ReturnType<typeof createRemoteJWKSet>;

/** The tenant could not be resolved (unknown domain, no answer): tokens for it cannot be checked. */
export class TenantUnknown extends Error {}

@Injectable()
export class EntraSigningKeys {
  private readonly logger = new Logger(EntraSigningKeys.name);
  private readonly keySets = new Map<string, KeySet>();
  private readonly tenants = new Map<string, { id: string; until: number }>();

  constructor(private readonly config: AppConfig) {}

  /** The key set at `url`, one per URL for the life of the process. */
  keySet(url: string): KeySet {
    let keys = this.keySets.get(url);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(url), { timeoutDuration: this.config.upstreamTimeoutMs });
      this.keySets.set(url, keys);
    }
    return keys;
  }

  /** The tenant's GUID: as stored, or for a domain from its OpenID configuration; TenantUnknown otherwise. */
  async tenantGuid(tenantId: string, authority: string): Promise<string> {
    if (GUID.test(tenantId)) return tenantId.toLowerCase();
    const cached = this.tenants.get(tenantId);
    if (cached && cached.until > Date.now()) return cached.id;
    const url = `${authority}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(this.config.upstreamTimeoutMs) }).catch(
      (error: Error) => {
        this.logger.warn(`Could not read the OpenID configuration of tenant ${tenantId}: ${error.message}`);
        throw new TenantUnknown(tenantId);
      },
    );
    const issuer = response.ok ? ((await response.json()) as { issuer?: string }).issuer : undefined;
    const id = /\/([0-9a-f-]{36})\/v2\.0\/?$/i.exec(issuer ?? '')?.[1]?.toLowerCase();
    if (!id) throw new TenantUnknown(tenantId);
    this.tenants.set(tenantId, { id, until: Date.now() + TENANT_CACHE_MS });
    return id;
  }
}
