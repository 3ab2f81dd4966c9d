import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AuditChainKeys, ChainHead } from './audit-chain-keys.js';
import { AuditExpectations } from './audit-expectations.js';
import { AuditRepository, ChainHeadRow, ContentCheck, smallestId } from './audit.repository.js';

export interface ChainVerification {
  ok: boolean;
  /** Why the chain does not verify when no single event is to blame (an erased chain). */
  problem?: string;
  /** Events that verified before the first broken one (all of them when ok). */
  checked: number;
  firstBrokenId: string | null;
}

/** Events whose MACs are checked per round trip. */
const MAC_BATCH = 20_000;

/**
 * Checks an org's audit chain end to end, and seals chains written before it was keyed.
 *
 * What a successful check proves: every event's content hashes to its stored hash, every event
 * links to the one before it, and the chain head (last event, its hash and the event count)
 * carries a MAC made with AUDIT_CHAIN_KEY — so the chain, which each hash commits to up to that
 * event, is the one the service wrote. Someone with full database access but without the key
 * cannot edit, remove, reorder or add an event, or cut the newest ones off, without this check
 * failing. Every event also carries its own MAC: when the check fails, those name the first event
 * affected even if every hash after it was recomputed.
 */
@Injectable()
export class AuditChainService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuditChainService.name);

  constructor(
    private readonly repository: AuditRepository,
    private readonly keys: AuditChainKeys,
    private readonly expectations: AuditExpectations,
  ) {}

  async verify(orgId: string): Promise<ChainVerification> {
    const [content, head] = await Promise.all([
      this.repository.checkContent(orgId),
      this.repository.chainHead(orgId),
    ]);
    // Every event hashes to its stored hash, links to the one before, and the last one and the
    // count are those of a head MAC'd with the key: then the whole chain is the one the service
    // wrote (each hash commits to everything before it), and the per-event MACs have nothing to
    // add. They are read only when something is wrong, to name the first event affected.
    if (!content.firstBrokenId && head && this.headMatches(orgId, head, content)) {
      return { ok: true, checked: content.total, firstBrokenId: null };
    }
    if (!content.firstBrokenId && !head && content.total === 0) {
      // Nothing to check — unless the org has what only a written chain could have led to.
      const found = await this.expectations.evidenceOf(orgId);
      if (found) {
        return {
          ok: false,
          checked: 0,
          firstBrokenId: null,
          problem: `The audit chain is empty although the organisation has ${found}: its events were erased.`,
        };
      }
      return { ok: true, checked: 0, firstBrokenId: null };
    }
    const macs = await this.checkMacs(orgId);
    const firstBrokenId = smallestId([content.firstBrokenId, macs.firstBadId]);
    if (firstBrokenId) {
      const checked =
        firstBrokenId === macs.firstBadId
          ? macs.checkedBefore
          : await this.repository.countBefore(orgId, firstBrokenId);
      return { ok: false, checked, firstBrokenId };
    }
    const headMatches = head ? this.headMatches(orgId, head, content) : content.total === 0;
    if (!headMatches) {
      return { ok: false, checked: content.total, firstBrokenId: head?.last_id ?? content.lastId };
    }
    return { ok: true, checked: content.total, firstBrokenId: null };
  }

  /** Seals legacy chains at start-up; a failure is logged, never fatal. */
  async onApplicationBootstrap(): Promise<void> {
    await this.sealLegacyChains().catch((error: unknown) =>
      this.logger.error(`Sealing audit chains failed: ${(error as Error).message}`),
    );
  }

  /**
   * Events written before the chain was keyed get their MACs — but only where the unkeyed chain
   * still verifies, so sealing never vouches for an earlier edit. Other chains stay unsealed and
   * fail verification at their first unsealed event.
   */
  async sealLegacyChains(): Promise<{ sealed: string[]; refused: string[] }> {
    const sealed: string[] = [];
    const refused: string[] = [];
    for (const orgId of await this.repository.orgsWithUnsealedEvents()) {
      const done = await this.repository.transaction(async (manager) => {
        await this.repository.lockChain(manager, orgId);
        const content = await this.repository.checkContent(orgId, manager);
        const head = await this.repository.chainHead(orgId, manager);
        const headMatches =
          head?.last_id === content.lastId &&
          head?.last_hash === content.lastHash &&
          Number(head?.event_count) === content.total;
        if (content.firstBrokenId || !head || !headMatches) return false;
        for (;;) {
          const events = await this.repository.unsealedEvents(manager, orgId, MAC_BATCH);
          const macs = events.map((e) => ({ id: e.id, mac: this.keys.signEvent(orgId, e.id, e.hash) }));
          if (macs.length > 0) await this.repository.sealEvents(manager, orgId, macs);
          if (events.length < MAC_BATCH) break;
        }
        await this.repository.sealHead(manager, orgId, this.keys.signHead(orgId, headOf(head)));
        return true;
      });
      (done ? sealed : refused).push(orgId);
    }
    if (sealed.length > 0)
      this.logger.log(`Sealed the audit chains of ${sealed.length} org(s) with AUDIT_CHAIN_KEY`);
    if (refused.length > 0) {
      this.logger.error(
        `Audit chains of ${refused.length} org(s) were not sealed: they do not verify (${refused.slice(0, 10).join(', ')})`,
      );
    }
    return { sealed, refused };
  }

  /** The head carries a valid MAC and names the chain's last event and its count. */
  private headMatches(orgId: string, head: ChainHeadRow, content: ContentCheck): boolean {
    const mac = head.mac && head.mac_key_id ? { mac: head.mac, keyId: head.mac_key_id } : null;
    return (
      this.keys.checkHead(orgId, headOf(head), mac) &&
      head.last_id === content.lastId &&
      head.last_hash === content.lastHash &&
      Number(head.event_count) === content.total
    );
  }

  /** Every event's MAC, in chain order: the first that does not verify, and how many did before it. */
  private async checkMacs(orgId: string): Promise<{ firstBadId: string | null; checkedBefore: number }> {
    let afterId = '0';
    let checked = 0;
    for (;;) {
      const rows = await this.repository.macsAfter(orgId, afterId, MAC_BATCH);
      for (const row of rows) {
        const mac = row.mac && row.mac_key_id ? { mac: row.mac, keyId: row.mac_key_id } : null;
        if (!this.keys.checkEvent(orgId, row.id, row.hash, mac))
          return { firstBadId: row.id, checkedBefore: checked };
        checked += 1;
      }
      if (rows.length < MAC_BATCH) return { firstBadId: null, checkedBefore: checked };
      afterId = rows[rows.length - 1].id;
    }
  }
}

function headOf(row: ChainHeadRow): ChainHead {
  return { lastId: row.last_id, lastHash: row.last_hash, eventCount: row.event_count };
}
