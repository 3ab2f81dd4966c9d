import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuditAction } from './audit-event.entity.js';

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

  /** The org's chain in order, in batches, for verification. */
  async chainBatch(orgId: string, afterId: string | null, limit: number): Promise<AuditRow[]> {
    return this.dataSource.query<AuditRow[]>(
      `SELECT ${COLUMNS} FROM audit_events WHERE org_id = $1 AND id > $2 ORDER BY audit_events.id ASC LIMIT $3`,
      [orgId, afterId ?? '0', limit],
    );
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

function whereClause(filter: AuditFilter): { where: string; params: unknown[] } {
  const conditions = ['org_id = $1'];
  const params: unknown[] = [filter.orgId];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conditions.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.actions?.length) add('action = ANY(?)', filter.actions);
  if (filter.actorId !== undefined) add('actor_id = ?', filter.actorId);
  if (filter.since) add('occurred_at >= ?', filter.since);
  if (filter.until) add('occurred_at < ?', filter.until);
  if (filter.beforeId !== undefined) add('id < ?', filter.beforeId);
  return { where: conditions.join(' AND '), params };
}
