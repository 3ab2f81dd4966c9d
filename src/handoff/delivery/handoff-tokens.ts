// Access tokens for deliveries, one per org, reused until 5 minutes before they expire. Ours
// rather than MSAL's cache: the cache key must include the settings version (a saved secret, a
// re-verification) so a changed connection never delivers with a token of the old one, and a
// 401 from Dataverse must drop exactly the token it refused.
import { Injectable } from '@nestjs/common';
import { EntraTokenClient } from '../../microsoft/auth/entra-token.client.js';
import { UpstreamFailure } from '../../microsoft/upstream.js';
import type { PlainCredentials } from '../../settings/stored-credentials.js';

const EXPIRY_MARGIN_MS = 5 * 60_000;

interface Entry {
  version: number;
  token: Promise<{ accessToken: string; expiresAt: number }>;
}

@Injectable()
export class HandoffTokens {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly entra: EntraTokenClient) {}

  /**
   * A token for the org's connection at this settings version — for its environment, or with
   * `scope` for the Messaging API; concurrent callers share one exchange.
   */
  async get(orgId: string, version: number, credentials: PlainCredentials, scope?: string): Promise<string> {
    const key = keyOf(orgId, scope);
    const entry = this.entries.get(key);
    if (entry && entry.version === version) {
      try {
        const cached = await entry.token;
        if (cached.expiresAt - EXPIRY_MARGIN_MS > Date.now()) return cached.accessToken;
      } catch {
        // The shared exchange failed: its caller reported it; this one asks again.
      }
      if (this.entries.get(key) !== entry) return this.get(orgId, version, credentials, scope);
    }
    const exchange = scope
      ? this.entra.exchangeClientCredentials(credentials, undefined, { scope, stage: 'messaging_token' })
      : this.entra.exchangeClientCredentials(credentials);
    const token = exchange.then((result) => ({
      accessToken: result.accessToken,
      expiresAt: Date.now() + result.expiresInSeconds * 1000,
    }));
    const fresh: Entry = { version, token };
    this.entries.set(key, fresh);
    token.catch(() => {
      if (this.entries.get(key) === fresh) this.entries.delete(key);
    });
    return (await token).accessToken;
  }

  /**
   * Runs `send` with the org's token (for its environment, or with `scope`); when Microsoft answers
   * 401 — a token revoked or issued before a change — drops exactly that token and runs `send`
   * once more with a fresh one.
   */
  async withToken<T>(
    orgId: string,
    version: number,
    credentials: PlainCredentials,
    scope: string | undefined,
    send: (accessToken: string) => Promise<T>,
  ): Promise<T> {
    const first = await this.get(orgId, version, credentials, scope);
    try {
      return await send(first);
    } catch (error) {
      if (!(error instanceof UpstreamFailure) || error.upstreamStatus !== 401) throw error;
      await this.drop(orgId, first, scope);
      return send(await this.get(orgId, version, credentials, scope));
    }
  }

  /** The org disconnected: nothing of its connection stays in memory. */
  forget(orgId: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(`${orgId}\n`)) this.entries.delete(key);
  }

  /** Dataverse refused this token: forget it (not a newer one another delivery already fetched). */
  async drop(orgId: string, accessToken: string, scope?: string): Promise<void> {
    const key = keyOf(orgId, scope);
    const entry = this.entries.get(key);
    if (!entry) return;
    const cached = await entry.token.catch(() => undefined);
    if (this.entries.get(key) === entry && (!cached || cached.accessToken === accessToken)) {
      this.entries.delete(key);
    }
  }
}

function keyOf(orgId: string, scope: string | undefined): string {
  return `${orgId}\n${scope ?? ''}`;
}
