// What Entra ID publishes to check the tokens it signs: a tenant's signing keys (its JWKS) and,
// for a tenant named by a verified domain, its GUID (from its OpenID configuration). jose fetches
// and caches the key sets (rotating keys are re-read on an unknown `kid`). A domain's GUID is
// looked up once for everyone asking at the same time, kept an hour (a failure five minutes), with
// no redirect followed and anything but a JSON document naming the tenant counted as a failure.
import { Injectable, Logger } from '@nestjs/common';
import { createRemoteJWKSet } from 'jose';
import { AppConfig } from '../../config/app-config.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT_CACHE_MS = 60 * 60_000;
const TENANT_FAILURE_CACHE_MS = 5 * 60_000;

export type KeySet = ReturnType<typeof createRemoteJWKSet>;

/** The tenant could not be resolved (unknown domain, no answer): tokens for it cannot be checked. */
export class TenantUnknown extends Error {}

@Injectable()
export class EntraSigningKeys {
  private readonly logger = new Logger(EntraSigningKeys.name);
  private readonly keySets = new Map<string, KeySet>();
  private readonly tenants = new Map<string, { id: string | null; until: number }>();
  private readonly lookups = new Map<string, Promise<string | null>>();

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
    const key = `${authority}\n${tenantId.toLowerCase()}`;
    const cached = this.tenants.get(key);
    let id: string | null;
    if (cached && cached.until > Date.now()) {
      id = cached.id;
    } else {
      let lookup = this.lookups.get(key);
      if (!lookup) {
        lookup = this.discover(tenantId, authority).finally(() => this.lookups.delete(key));
        this.lookups.set(key, lookup);
      }
      id = await lookup;
      this.tenants.set(key, { id, until: Date.now() + (id ? TENANT_CACHE_MS : TENANT_FAILURE_CACHE_MS) });
    }
    if (!id) throw new TenantUnknown(tenantId);
    return id;
  }

  private async discover(tenantId: string, authority: string): Promise<string | null> {
    const url = `${authority}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`;
    try {
      const response = await fetch(url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.upstreamTimeoutMs),
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        return null;
      }
      const document = (await response.json()) as { issuer?: unknown } | null;
      const issuer = typeof document?.issuer === 'string' ? document.issuer : '';
      return /\/([0-9a-f-]{36})\/v2\.0\/?$/i.exec(issuer)?.[1]?.toLowerCase() ?? null;
    } catch (error) {
      this.logger.warn(
        `Could not read the OpenID configuration of tenant ${tenantId}: ${(error as Error).message}`,
      );
      return null;
    }
  }
}
