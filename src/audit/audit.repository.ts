import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuditAction } from './audit-action.js';

export interface AuditFilter {
  orgId: string;
  actions?: AuditAction[];
  actorId?: string;
  since?: Date;
  until?: Date;
  /** Only events with a smaller id (keyset pagination, newest first). */
  beforeId?: string;
}

export interface AuditRow {
  id: string;
  org_id: string;
  occurred_at: Date;
  action: AuditAction;
  actor_type: 'user' | 'system';
  actor_id: string | null;
  actor_name: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  prev_hash: string | null;
  hash: string;
}

const COLUMNS =
  'id::text, org_id, occurred_at, action, actor_type, actor_id, actor_name, request_id, ip, user_agent, details, prev_hash, hash';

/** Reads of the append-only audit log; every query is scoped to one org and index-backed. */
@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Newest first, keyset-paginated on id (no OFFSET), so pages stay stable while events arrive. */
  async page(filter: AuditFilter, limit: number): Promise<AuditRow[]> {
    const { where, params } = whereClause(filter);
    return this.dataSource.query<AuditRow[]>(
      // Order by the bigint column, not the `id::text` output column of the same name.
      `SELECT ${COLUMNS} FROM audit_events WHERE ${where} ORDER BY audit_events.id DESC LIMIT $${params.length + 1}`,
      [...params, limit],
    );
  }

  /**
   * Recomputes the org's chain: every event must hash (audit_event_hash) to its stored value — a
   * scan PostgreSQL may run in parallel — and link to the previous event's hash (a cheap ordered
   * pass). Returns the event count, the first broken event and the last event.
   */
  async checkChain(orgId: string): Promise<{
    total: number;
    firstBrokenId: string | null;
    checkedBefore: number;
    lastId: string | null;
    lastHash: string | null;
  }> {
    // The hash scan (which PostgreSQL may parallelise) and the ordered link pass are independent:
    // run them at once on two pooled connections.
    const [[hashes], [links], [last]] = await Promise.all([
      this.dataSource.query<{ first_bad_hash: string | null }[]>(
        `SELECT min(id)::text AS first_bad_hash FROM audit_events
        WHERE org_id = $1
          AND hash IS DISTINCT FROM audit_event_hash(prev_hash, id, org_id, occurred_at, action, actor_type, actor_id,
                                                     actor_name, request_id, ip, user_agent, details)`,
        [orgId],
      ),
      this.dataSource.query<{ total: number; first_bad_link: string | null }[]>(
        `SELECT count(*)::int AS total, min(id) FILTER (WHERE broken)::text AS first_bad_link
         FROM (SELECT id, prev_hash IS DISTINCT FROM lag(hash) OVER (ORDER BY id) AS broken
                 FROM audit_events WHERE org_id = $1) chain`,
        [orgId],
      ),
      this.dataSource.query<{ last_id: string; last_hash: string }[]>(
        'SELECT id::text AS last_id, hash AS last_hash FROM audit_events WHERE org_id = $1 ORDER BY id DESC LIMIT 1',
        [orgId],
      ),
    ]);
    const candidates = [hashes.first_bad_hash, links.first_bad_link].filter(
      (id): id is string => id !== null,
    );
    const firstBrokenId = candidates.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[0] ?? null;
    let checkedBefore = links.total;
    if (firstBrokenId) {
      const [row] = await this.dataSource.query<{ n: number }[]>(
        'SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1 AND id < $2',
        [orgId, firstBrokenId],
      );
      checkedBefore = row.n;
    }
    return {
      total: links.total,
      firstBrokenId,
      checkedBefore,
      lastId: last?.last_id ?? null,
      lastHash: last?.last_hash ?? null,
    };
  }

  async chainHead(
    orgId: string,
  ): Promise<{ last_id: string; last_hash: string; event_count: string } | undefined> {
    const rows = await this.dataSource.query<{ last_id: string; last_hash: string; event_count: string }[]>(
      'SELECT last_id::text, last_hash, event_count::text FROM audit_chain_heads WHERE org_id = $1',
      [orgId],
    );
    return rows[0];
  }
}

const MAX_ID = '9223372036854775807';

function whereClause(filter: AuditFilter): { where: string; params: unknown[] } {
  const conditions = ['org_id = $1'];
  const params: unknown[] = [filter.orgId];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conditions.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.actions?.length) add('action = ANY(?)', filter.actions);
  if (filter.actorId !== undefined) add('actor_id = ?', filter.actorId);
  // Times come from the database clock under the per-org chain lock, so they rise with the id:
  // the window's first ids, found through the (org_id, occurred_at) index, bound an id-ordered scan.
  if (filter.since) {
    add('occurred_at >= ?', filter.since);
    conditions.push(
      `id >= COALESCE((SELECT id FROM audit_events WHERE org_id = $1 AND occurred_at >= $${params.length} ORDER BY occurred_at, id LIMIT 1), ${MAX_ID})`,
    );
  }
  if (filter.until) {
    add('occurred_at < ?', filter.until);
    conditions.push(
      `id < COALESCE((SELECT id FROM audit_events WHERE org_id = $1 AND occurred_at >= $${params.length} ORDER BY occurred_at, id LIMIT 1), ${MAX_ID})`,
    );
  }
  if (filter.beforeId !== undefined) add('id < ?', filter.beforeId);
  return { where: conditions.join(' AND '), params };
}
